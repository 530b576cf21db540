"""The gate from Python: `check` and `open_verified` decide exactly as `reg check`.

ALLOW and DENY for the files of a PROMOTED, a REGISTERED, a REVOKED and a DEPRECATED model and
for bytes of no model, unscoped, in a slot and for a model; each decision equal to the CLI's
`reg check --json` on the same registry; `open_verified` hands out the verified bytes only, read
only, and a file swapped on disk afterwards is not what the caller reads.
"""

from __future__ import annotations

import io
import os
import pickle
import subprocess
from pathlib import Path
from typing import Any, Optional

import pytest
from conftest import ACTIVE, DEPRECATED, FILES, NEWER, REVOKED, SLOT, Site

from reg_governance import (
    Decision,
    Denied,
    InvalidInput,
    Refused,
    RegError,
    Registry,
    Unpinned,
    VerifiedFile,
)

# (model of the file or None for the unknown file, scope) -> (allowed, code)
UNSCOPED = {
    ACTIVE: (True, "promoted"),
    DEPRECATED: (True, "deprecated"),
    NEWER: (False, "not-approved"),
    REVOKED: (False, "revoked"),
    None: (False, "not-registered"),
}


def path_of(site: Site, spec: Optional[str]) -> Path:
    return site.unknown if spec is None else site.file(spec)


def cli_decision(site: Site, path: Path | str, *scope: str) -> dict[str, Any]:
    [decision] = site.cli_json("check", *scope, str(path), codes=(0, 1))
    assert isinstance(decision, dict)
    return decision


def scope_args(slot: Optional[str] = None, model: Optional[str] = None) -> list[str]:
    return (["--slot", slot] if slot else []) + (["--model", model] if model else [])


@pytest.mark.parametrize("spec", list(UNSCOPED), ids=lambda s: s or "unknown")
def test_check_unscoped_equals_the_cli(site: Site, registry: Any, spec: Optional[str]) -> None:
    path = path_of(site, spec)
    d = registry.check(path)
    assert isinstance(d, Decision)
    allowed, code = UNSCOPED[spec]
    assert (d.allowed, d.code) == (allowed, code)
    assert d.model == spec
    assert d.to_dict() == cli_decision(site, path)
    # The members the issue names, as attributes.
    assert d.path == str(path)
    assert isinstance(d.hash, str) and len(d.hash) == 64
    assert isinstance(d.reason, str) and d.reason
    if spec is not None:
        assert d.record == registry.show(spec).id


@pytest.mark.parametrize("spec", list(UNSCOPED), ids=lambda s: s or "unknown")
@pytest.mark.parametrize("scope", ["slot", "model-active", "model-newer"])
def test_check_scoped_equals_the_cli(
    site: Site, registry: Any, spec: Optional[str], scope: str
) -> None:
    path = path_of(site, spec)
    kw: dict[str, str] = {
        "slot": {"slot": SLOT},
        "model-active": {"model": ACTIVE},
        "model-newer": {"model": NEWER},
    }[scope]
    d = registry.check(path, **kw)
    expected = cli_decision(site, path, *scope_args(**kw))
    assert d.to_dict() == expected
    in_scope = spec == ACTIVE and scope != "model-newer" or spec == NEWER and scope == "model-newer"
    if in_scope:
        assert (d.allowed, d.code) == UNSCOPED[spec]
    else:
        assert (d.allowed, d.code) == (False, "out-of-scope")


def test_check_keeps_the_path_as_given(site: Site, registry: Any) -> None:
    rel = list(FILES[ACTIVE])[0]
    d = registry.check(rel, slot=SLOT)
    assert d.path == rel
    assert d.to_dict() == cli_decision(site, rel, "--slot", SLOT)
    # A PathLike is the same path.
    assert registry.check(Path(rel), slot=SLOT) == d


def test_check_of_a_missing_file_denies_it_as_the_cli(site: Site, registry: Any) -> None:
    missing = site.work / "no-such-file.bin"
    d = registry.check(missing, slot=SLOT)
    assert (d.allowed, d.code) == (False, "not-found")
    assert d.hash is None
    assert d.to_dict() == cli_decision(site, missing, "--slot", SLOT)


def test_check_with_a_decision_log_is_verified_by_the_cli(site: Site, registry: Any) -> None:
    log = site.work / "gate.log"
    assert registry.check(site.file(ACTIVE), slot=SLOT, log=log).allowed
    assert not registry.check(site.unknown, slot=SLOT, log=str(log)).allowed
    out = site.cli_json("check", "--verify-log", str(log))
    assert out["lines"] == 2, out
    # The CLI appends to the same log after Python: still one verified chain.
    site.cli("check", "--slot", SLOT, "--log", str(log), str(site.file(ACTIVE)))
    site.cli("check", "--verify-log", str(log))


@pytest.mark.parametrize("spec", [ACTIVE, DEPRECATED])
def test_open_verified_allows_and_reads_the_bytes(
    site: Site, registry: Any, spec: str
) -> None:
    path = site.file(spec)
    with registry.open_verified(path) as f:
        assert isinstance(f, io.BufferedReader)
        assert isinstance(f, VerifiedFile)
        assert f.decision == registry.check(path)
        assert f.decision.to_dict() == cli_decision(site, path)
        assert f.decision.allowed
        assert f.read() == FILES[spec][list(FILES[spec])[0]]
    assert f.closed


def test_open_verified_in_a_slot_and_for_a_model(site: Site, registry: Any) -> None:
    for rel, data in FILES[ACTIVE].items():
        with registry.open_verified(site.work / rel, slot=SLOT) as f:
            assert f.read() == data
            assert f.decision.to_dict() == cli_decision(site, site.work / rel, "--slot", SLOT)
        with registry.open_verified(rel, model=ACTIVE) as f:
            assert f.read() == data
            assert f.decision.path == rel


@pytest.mark.parametrize("spec", [NEWER, REVOKED, None], ids=lambda s: s or "unknown")
@pytest.mark.parametrize("scoped", [False, True])
def test_open_verified_denies(
    site: Site, registry: Any, spec: Optional[str], scoped: bool
) -> None:
    path = path_of(site, spec)
    kw = {"slot": SLOT} if scoped else {}
    with pytest.raises(Denied) as caught:
        registry.open_verified(path, **kw)
    e = caught.value
    assert isinstance(e, Refused) and isinstance(e, RegError)
    assert e.exit_code == 1
    assert str(e) == e.message and e.message
    assert isinstance(e.decision, Decision)
    assert not e.decision.allowed
    expected = cli_decision(site, path, *(["--slot", SLOT] if scoped else []))
    assert e.decision.to_dict() == expected
    assert e.decision.code == ("out-of-scope" if scoped else UNSCOPED[spec][1])
    # The reason is in the message: a loader that prints the error says why.
    assert e.decision.reason in e.message


def test_open_verified_of_a_missing_file_is_denied(site: Site, registry: Any) -> None:
    with pytest.raises(Denied) as caught:
        registry.open_verified(site.work / "no-such-file.bin", slot=SLOT)
    assert caught.value.decision is not None
    assert caught.value.decision.code == "not-found"


def test_the_bytes_read_are_the_verified_ones_after_the_file_is_swapped(
    site: Site, registry: Any
) -> None:
    path = site.file(ACTIVE)
    original = path.read_bytes()
    evil = b"EVIL" * (len(original) // 4 + 1)
    # Changed in place (the same inode) after open_verified returned.
    with registry.open_verified(path, slot=SLOT) as f:
        with open(path, "r+b") as w:
            w.write(evil)
        assert path.read_bytes() != original
        assert f.read() == original
    path.write_bytes(original)
    # Replaced by another file under the same name.
    with registry.open_verified(path, slot=SLOT) as f:
        swapped = path.with_name("swap.tmp")
        swapped.write_bytes(evil)
        os.replace(swapped, path)
        assert f.read() == original
    # Read in pieces, after a seek: still the verified bytes.
    path.write_bytes(original)
    with registry.open_verified(path, slot=SLOT) as f:
        head = f.read(5)
        path.write_bytes(evil)
        f.seek(0)
        assert f.read(5) == head == original[:5]
        assert head + f.read() == original
    # And the gate, asked again, denies what is on disk now.
    assert not registry.check(path, slot=SLOT).allowed


def test_the_verified_file_is_read_only(site: Site, registry: Any) -> None:
    path = site.file(ACTIVE)
    with registry.open_verified(path, slot=SLOT) as f:
        assert f.readable() and not f.writable()
        with pytest.raises((io.UnsupportedOperation, OSError)):
            f.write(b"x")
        with pytest.raises(OSError):
            os.write(f.fileno(), b"x")
        assert f.read() == path.read_bytes()
    assert path.read_bytes() == FILES[ACTIVE][list(FILES[ACTIVE])[0]]


def test_decisions_are_frozen_and_round_trip(registry: Any, site: Site) -> None:
    d = registry.check(site.file(ACTIVE), slot=SLOT)
    with pytest.raises(AttributeError):
        d.allowed = False
    copy = d.to_dict()
    copy["allowed"] = False
    assert d.allowed and d.to_dict()["allowed"] is True
    assert Decision.from_dict(d.to_dict()) == d
    assert pickle.loads(pickle.dumps(d)) == d


def test_a_revocation_after_open_denies_from_the_next_call(site: Site, registry: Any) -> None:
    """A model server keeps its `Registry` open for days: the gate reads the registry as it is
    at each call, so a revocation committed meanwhile (by the CLI, elsewhere) denies at once."""
    path = site.file(ACTIVE)
    assert registry.check(path, slot=SLOT).allowed
    site.cli("revoke", ACTIVE, "--reason", "compromised", "--deactivate", "--key", "keys/operator.pem")
    d = registry.check(path)
    assert (d.allowed, d.code) == (False, "revoked")
    assert d.to_dict() == cli_decision(site, path)
    with pytest.raises(Denied) as caught:
        registry.open_verified(path, slot=SLOT)
    assert caught.value.decision is not None
    assert caught.value.decision.to_dict() == cli_decision(site, path, "--slot", SLOT)


def test_open_verified_logs_allowed_and_denied_decisions(site: Site, registry: Any) -> None:
    log = site.work / "gate.log"
    with registry.open_verified(site.file(ACTIVE), slot=SLOT, log=log) as f:
        f.read()
    with pytest.raises(Denied):
        registry.open_verified(site.unknown, slot=SLOT, log=log)
    assert site.cli_json("check", "--verify-log", str(log))["lines"] == 2
    # REG_GATE_LOG, as `reg check` reads it.
    site.monkeypatch.setenv("REG_GATE_LOG", str(log))
    registry.check(site.file(ACTIVE), slot=SLOT)
    assert site.cli_json("check", "--verify-log", str(log))["lines"] == 3


def test_a_pin_removed_after_open_denies_from_the_next_call(
    site: Site, registry: Any, reg_bin: str
) -> None:
    """The operator's answer to a leaked root key is `reg trust remove`: a `Registry` opened
    before it must not go on vouching for files (as `reg check` stops at its next run)."""
    path = site.file(ACTIVE)
    assert registry.check(path, slot=SLOT).allowed
    # Every pin of the root key, whatever path it was pinned at (no --registry).
    subprocess.run(
        [reg_bin, "trust", "remove", registry.root], cwd=site.work, env=site.env(), check=True,
        capture_output=True,
    )
    d = registry.check(path, slot=SLOT)
    assert (d.allowed, d.code) == (False, "unpinned")
    assert d.to_dict() == cli_decision(site, path, "--slot", SLOT)
    with pytest.raises(Unpinned):
        registry.open_verified(path, slot=SLOT)
    with pytest.raises(Unpinned):
        registry.status()


def test_the_private_copy_cannot_be_reopened_for_writing(site: Site, registry: Any) -> None:
    """The copy is owner-read-only: opening it for writing through /proc/PID/fd fails unless
    done on purpose (its owner may chmod it back: this user is trusted with the copy)."""
    path = site.file(ACTIVE)
    with registry.open_verified(path, slot=SLOT) as f:
        assert os.fstat(f.fileno()).st_mode & 0o7777 == 0o400
        if os.geteuid() != 0:
            with pytest.raises(PermissionError):
                open(f"/proc/self/fd/{f.fileno()}", "r+b")
        assert f.read() == path.read_bytes()


def test_the_private_copy_is_owned_by_a_file_object(site: Site, registry: Any) -> None:
    """The native call hands over a file object, never a bare descriptor that an interrupt
    between the call and its wrapping would leak (each leaked one holds a whole copy)."""
    before = len(os.listdir("/proc/self/fd"))
    raw, _ = registry._native.open_verified(os.fspath(site.file(ACTIVE)), SLOT, None, None)
    assert isinstance(raw, io.FileIO) and raw.mode == "rb" and not raw.closed
    del raw
    assert len(os.listdir("/proc/self/fd")) == before


def test_a_registry_opened_by_a_relative_path_survives_a_change_of_directory(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(site.work)
    registry = Registry.open("site-a")
    assert registry.path.is_absolute()
    path = site.file(ACTIVE).resolve()
    monkeypatch.chdir("/")
    assert registry.check(path, slot=SLOT).allowed


def test_a_closed_verified_file_closes_its_descriptor(site: Site, registry: Any) -> None:
    """A model server opens models for days: each verified file's descriptor (of its private
    copy) is closed with the file, none is left behind."""
    fds = "/proc/self/fd"
    before = len(os.listdir(fds))
    for _ in range(20):
        with registry.open_verified(site.file(ACTIVE), slot=SLOT) as f:
            fd = f.fileno()
            f.read()
        with pytest.raises(OSError):
            os.fstat(fd)
    assert len(os.listdir(fds)) == before


def test_slot_and_model_together_are_refused_as_the_cli(site: Site, registry: Any) -> None:
    """`reg check --slot S --model M` is a usage error (exit 2); so is naming both here, for
    `check` and `open_verified` alike, rather than one silently winning."""
    path = site.file(ACTIVE)
    site.cli("check", "--slot", SLOT, "--model", ACTIVE, str(path), codes=(2,))
    for gate in (registry.check, registry.open_verified):
        with pytest.raises(InvalidInput) as caught:
            gate(path, slot=SLOT, model=ACTIVE)
        assert caught.value.exit_code == 2


def test_another_registry_put_at_the_path_is_refused_not_taken_for_this_one(
    site: Site, registry: Any, reg_bin: str
) -> None:
    """Another registry this host also pinned (same root key, say staging beside production),
    moved to the opened registry's path, must not answer under the opened one's name."""
    path = site.file(ACTIVE)
    assert registry.check(path, slot=SLOT).allowed
    subprocess.run(
        [reg_bin, "init", "staging", "--root-key", "keys/root.pem"], cwd=site.work,
        env=site.env(), check=True, capture_output=True,
    )
    os.rename(site.work / "site-a/.registry", site.work / "opened.registry")
    os.rename(site.work / "staging/.registry", site.work / "site-a/.registry")
    for call in (
        lambda: registry.check(path, slot=SLOT),
        lambda: registry.open_verified(path, slot=SLOT),
        registry.status,
    ):
        with pytest.raises(Unpinned) as caught:
            call()
        assert "is no longer the one opened" in caught.value.message
