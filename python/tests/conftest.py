"""Fixtures: real registries built by the `reg` command line, one sandboxed host per test.

Every test gets a copy of one registry the session builds once with the CLI (keys, genesis,
trusted roles, signed bundles added, lifecycle moves, a slot, a drift observation), with its
own host trust file (`REG_TRUST_FILE`), host records (`REG_STATE_DIR`) and home, so tests never
touch the real host and each can move its registry on without disturbing another. Python and
the CLI read the same environment: a test compares the package's results with the CLI's
`--json` on the same registry, or on an identical copy with its own host records.

The `reg` binary is `REG_BIN` when set, else `target/debug/reg`, built here with cargo first.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

import pytest

REPO = Path(__file__).resolve().parents[2]
EPOCH = "1767225600"  # 2026-01-01T00:00:00Z, as the Rust suite's sandbox

# The registry every test starts from (names as in examples/walkthrough.sh).
SLOT = "ransomware-classifier"
ACTIVE = "ransomware-detector@1.0.0"  # PROMOTED, active in SLOT
NEWER = "ransomware-detector@1.1.0"  # REGISTERED
REVOKED = "phish-rules@1.0.0"  # REVOKED
DEPRECATED = "legacy-rules@1.0.0"  # DEPRECATED
UNKNOWN = "unknown.bin"  # bytes of no model

# Files of each model, relative to the work directory (each model's bytes are its own).
FILES = {
    ACTIVE: {
        "sample-model/model.safetensors": b"\x38\x00\x00\x00\x00\x00\x00\x00"
        b'{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}' + b"\x00" * 16,
        "sample-model/config.json": b'{"threshold":0.92}',
    },
    NEWER: {
        "sample-model-1.1/model.safetensors": b"weights of 1.1.0" * 4,
        "sample-model-1.1/config.json": b'{"threshold":0.88}',
    },
    REVOKED: {"phish/rules.yar": b"rule phish { condition: false }\n"},
    DEPRECATED: {"legacy/rules.yar": b"rule legacy { condition: false }\n"},
}
UNKNOWN_BYTES = b"a file no registered model holds\n"

# Variables a test host must not inherit from whoever runs pytest.
_CLEARED = (
    "REG_DIR",
    "REG_TRUST",
    "REG_KEY_PASSPHRASE",
    "REG_BUNDLE_PASSPHRASE",
    "REG_GATE_LOG",
    "XDG_CONFIG_HOME",
    "XDG_STATE_HOME",
    "RUST_BACKTRACE",
)


def _reg_bin() -> str:
    explicit = os.environ.get("REG_BIN")
    if explicit:
        return explicit
    subprocess.run(
        ["cargo", "build", "--quiet", "--bin", "reg"],
        cwd=REPO,
        check=True,
    )
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
    if not target.is_absolute():
        target = REPO / target
    return str(target / "debug" / "reg")


@pytest.fixture(scope="session")
def reg_bin() -> str:
    """The `reg` command line the registries are built with and compared against."""
    return _reg_bin()


def _host_env(work: Path, trust_file: Path, state_dir: Path) -> dict[str, str]:
    """The environment of a test host: this process's (which the `site` fixture has cleared
    of the variables above, so a test may set them) with the host's own files and clock."""
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    env.update(
        HOME=str(work / "home"),
        REG_TRUST_FILE=str(trust_file),
        REG_STATE_DIR=str(state_dir),
        SOURCE_DATE_EPOCH=EPOCH,
        REG_LOCK_TIMEOUT="5",
        NO_COLOR="1",
    )
    return env


def _build_template(reg: str, work: Path) -> None:
    """The session's registry, built with the CLI only (as an operator would)."""
    env = _host_env(work, work / "host/trust.json", work / "host/state")

    def run(*args: str) -> None:
        out = subprocess.run([reg, *args], cwd=work, env=env, capture_output=True, text=True)
        assert out.returncode == 0, f"reg {' '.join(args)}: {out.stderr}"

    (work / "keys").mkdir(parents=True)
    for k in ("root", "operator", "publisher", "reporter"):
        run("key", "gen", f"keys/{k}.pem")
    run("init", "site-a", "--root-key", "keys/root.pem")
    for k, role in (("operator", "operator"), ("publisher", "publisher"), ("reporter", "reporter")):
        run(
            "--registry", "site-a", "key", "trust", f"keys/{k}.pem.pub", "--role", role,
            "--name", k, "--key", "keys/root.pem", "--reason", f"site A {k}",
        )
    packs = {
        ACTIVE: ("DL", "classification", ["team=dfir"]),
        NEWER: ("DL", "classification", ["team=dfir"]),
        REVOKED: ("ruleset", "detection", ["team=mail"]),
        DEPRECATED: ("ruleset", "detection", []),
    }
    for spec, files in FILES.items():
        name, version = spec.split("@")
        top = next(iter(files)).split("/")[0]
        for rel, data in files.items():
            (work / rel).parent.mkdir(parents=True, exist_ok=True)
            (work / rel).write_bytes(data)
        typ, use, labels = packs[spec]
        label_args = [a for lab in labels for a in ("--label", lab)]
        run(
            "bundle", "pack", top, "-o", f"{name}-{version}.tar", "--key", "keys/publisher.pem",
            "--name", name, "--version", version, "--type", typ, "--use", use,
            "--description", f"{name} {version}", *label_args,
        )
        run("--registry", "site-a", "add", f"{name}-{version}.tar", "--key", "keys/operator.pem")
    op = ("--key", "keys/operator.pem")
    run("--registry", "site-a", "promote", ACTIVE, "--reason", "passed red-team evaluation", *op)
    run("--registry", "site-a", "activate", SLOT, ACTIVE, "--reason", "go live on site A", *op)
    run("--registry", "site-a", "promote", REVOKED, "--reason", "ok", *op)
    run("--registry", "site-a", "revoke", REVOKED, "--reason", "false positives", *op)
    run("--registry", "site-a", "promote", DEPRECATED, "--reason", "ok", *op)
    run("--registry", "site-a", "deprecate", DEPRECATED, "--reason", "superseded", *op)
    shutil.copy(REPO / "examples/drift-observation.json", work / "observation.json")
    run(
        "--registry", "site-a", "drift", "record", ACTIVE, "observation.json",
        "--key", "keys/reporter.pem",
    )
    (work / UNKNOWN).write_bytes(UNKNOWN_BYTES)


@pytest.fixture(scope="session")
def template(reg_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("template")
    _build_template(reg_bin, work)
    return work


def copy_tree(src: Path, dst: Path) -> None:
    """`cp -a`: modes kept (the store's read-only objects, the keys' 0600)."""
    subprocess.run(["cp", "-a", str(src), str(dst)], check=True)


def writable(path: Path) -> None:
    """Makes a registry tree writable (its objects are read-only) so it can be removed."""
    for dirpath, _, files in os.walk(path):
        os.chmod(dirpath, 0o755)
        for f in files:
            os.chmod(os.path.join(dirpath, f), 0o644)


@dataclass
class Host:
    """One host's view: its pins (trust file) and its records of verified checkpoints."""

    trust_file: Path
    state_dir: Path


@dataclass
class Site:
    """A test's work directory: keys, model files, the registry `site-a`, and its host."""

    work: Path
    reg_bin: str
    host: Host
    monkeypatch: pytest.MonkeyPatch

    @property
    def registry(self) -> Path:
        """The directory holding `.registry` (what `--registry` and `Registry.open` take)."""
        return self.work / "site-a"

    def key(self, name: str) -> Path:
        """A private key file: root, operator, publisher or reporter."""
        return self.work / "keys" / f"{name}.pem"

    def file(self, spec: str, index: int = 0) -> Path:
        """The `index`-th file (absolute path) of one of the template's models."""
        return self.work / list(FILES[spec])[index]

    @property
    def unknown(self) -> Path:
        return self.work / UNKNOWN

    def env(self, host: Optional[Host] = None) -> dict[str, str]:
        """The CLI's environment: the test's (as Python sees it), as `host` if given."""
        env = dict(os.environ)
        if host is not None:
            env.update(REG_TRUST_FILE=str(host.trust_file), REG_STATE_DIR=str(host.state_dir))
        return env

    def cli(
        self,
        *args: str,
        registry: Optional[Path] = None,
        host: Optional[Host] = None,
        codes: Sequence[int] = (0,),
        stdin: Optional[str] = None,
    ) -> subprocess.CompletedProcess[str]:
        """`reg --registry REGISTRY ARGS` as this host (or `host`); asserts the exit code."""
        reg = registry if registry is not None else self.registry
        out = subprocess.run(
            [self.reg_bin, "--registry", str(reg), *args],
            cwd=self.work,
            env=self.env(host),
            capture_output=True,
            text=True,
            input=stdin,
        )
        assert out.returncode in codes, (
            f"reg {' '.join(args)}: exit {out.returncode}, stderr: {out.stderr}"
        )
        return out

    def cli_json(self, *args: str, **kw: Any) -> Any:
        """The parsed `--json` output of `reg ARGS --json`."""
        return json.loads(self.cli(*args, "--json", **kw).stdout)

    def cli_error(self, *args: str, code: int = 1, **kw: Any) -> tuple[str, Optional[str]]:
        """The CLI's refusal of `reg ARGS`: its `error:` message and `hint:` (None if none)."""
        err = self.cli(*args, codes=(code,), **kw).stderr
        message, hint = None, None
        for line in err.splitlines():
            if line.startswith("error: ") and message is None:
                message = line[len("error: "):]
            elif line.startswith("hint: ") and hint is None:
                hint = line[len("hint: "):]
        assert message is not None, err
        return message, hint

    def twin(self, name: str) -> tuple[Path, Host]:
        """An identical copy of the registry beside it, with a copy of this host's records
        (so each copy moves on alone); the pins are shared (they name the same root)."""
        dst = self.work / name
        dst.mkdir()
        copy_tree(self.registry / ".registry", dst)
        state = self.work / f"{name}-state"
        copy_tree(self.host.state_dir, state)
        return dst, Host(self.host.trust_file, state)

    def roll_back(self) -> None:
        """Rolls the registry back as a replayed medium would: a copy kept, the registry moved
        on by one write (which this host verifies and records), the old copy put back at the
        same path, on the same host."""
        dot = self.registry / ".registry"
        old = self.work / "old-registry"
        copy_tree(dot, old)
        self.cli("activate", "canary", ACTIVE, "--reason", "canary", "--key", "keys/operator.pem")
        writable(dot)
        shutil.rmtree(dot)
        copy_tree(old, dot)

    def other_host(self, name: str = "host2") -> Host:
        """A host that has pinned nothing and verified nothing yet."""
        return Host(self.work / name / "trust.json", self.work / name / "state")

    @contextlib.contextmanager
    def as_host(self, host: Host) -> Iterator[None]:
        """Python's view of `host`: its trust file and records in the environment, which
        `Registry.open` reads as the CLI does."""
        with self.monkeypatch.context() as m:
            m.setenv("REG_TRUST_FILE", str(host.trust_file))
            m.setenv("REG_STATE_DIR", str(host.state_dir))
            yield


@pytest.fixture
def site(
    template: Path, reg_bin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Site:
    """A fresh copy of the session's registry and host, this test's environment and cwd."""
    work = tmp_path / "w"
    copy_tree(template, work)
    host = Host(work / "host/trust.json", work / "host/state")
    for k in _CLEARED:
        monkeypatch.delenv(k, raising=False)
    for k, v in _host_env(work, host.trust_file, host.state_dir).items():
        if os.environ.get(k) != v:
            monkeypatch.setenv(k, v)
    monkeypatch.chdir(work)
    return Site(work, reg_bin, host, monkeypatch)


@pytest.fixture
def registry(site: Site) -> Any:
    """`Registry.open` of the test's registry, as this host (pinned at init)."""
    from reg_governance import Registry

    return Registry.open(site.registry)
