"""The README's "From Python" code and `examples/consumer.py`, run against a real registry,
allowed and refused, and checked by `mypy --strict` against the package's stub.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import ACTIVE, FILES, REPO, SLOT, Site

CONSUMER = REPO / "examples" / "consumer.py"


def readme_python() -> str:
    """The python code blocks of the README's "From Python" section, in order, as one file."""
    text = (REPO / "README.md").read_text()
    match = re.search(r"^## From Python\n(.*?)(?=^## )", text, re.S | re.M)
    assert match, "README.md has no '## From Python' section"
    blocks = re.findall(r"^```python\n(.*?)^```", match.group(1), re.S | re.M)
    assert blocks, "the 'From Python' section has no python code block"
    return "\n".join(blocks)


def run_python(site: Site, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=site.work, env=site.env(), capture_output=True, text=True,
        timeout=120,
    )


def test_the_readme_code_loads_the_active_model(site: Site, tmp_path: Path) -> None:
    script = tmp_path / "readme_from_python.py"
    script.write_text(readme_python())
    out = run_python(site, str(script))
    assert out.returncode == 0, out.stderr
    assert f"active in {SLOT}: {ACTIVE} (PROMOTED)" in out.stdout
    for rel, data in FILES[ACTIVE].items():
        assert f"{Path(rel).name}: {len(data)} bytes, promoted" in out.stdout


def test_the_readme_code_refuses_altered_bytes(site: Site, tmp_path: Path) -> None:
    script = tmp_path / "readme_from_python.py"
    script.write_text(readme_python())
    (site.work / "sample-model/config.json").write_bytes(b'{"threshold":0.01}')
    out = run_python(site, str(script))
    assert out.returncode == 1, out.stdout + out.stderr
    assert out.stderr.startswith("refused: ") and "config.json" in out.stderr, out.stderr


def test_the_readme_code_refuses_an_unpinned_registry(site: Site, tmp_path: Path) -> None:
    script = tmp_path / "readme_from_python.py"
    script.write_text(readme_python())
    other = site.other_host()
    env = site.env(other)
    out = subprocess.run(
        [sys.executable, str(script)], cwd=site.work, env=env, capture_output=True, text=True,
        timeout=120,
    )
    assert out.returncode != 0
    assert "Unpinned" in out.stderr and "not pinned on this host" in out.stderr


def test_the_consumer_loads_the_active_model(site: Site) -> None:
    out = run_python(site, str(CONSUMER), SLOT, "sample-model", "--registry", "site-a")
    assert out.returncode == 0, out.stderr
    for rel, data in FILES[ACTIVE].items():
        assert f"verified {Path(rel).name}: {len(data)} bytes, blake3 " in out.stdout
    total = sum(len(d) for d in FILES[ACTIVE].values())
    assert f"ready: {ACTIVE}, active in slot `{SLOT}`: 2 file(s), {total} bytes" in out.stdout
    # REG_DIR, as the CLI.
    env = dict(site.env(), REG_DIR=str(site.registry))
    out = subprocess.run(
        [sys.executable, str(CONSUMER), SLOT, "sample-model"], cwd=site.work, env=env,
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr


def test_the_consumer_refuses(site: Site) -> None:
    def consumer(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(CONSUMER), *args, "--registry", "site-a"], cwd=site.work,
            env=env or site.env(), capture_output=True, text=True, timeout=120,
        )

    # Bytes that are not the slot's model: a file of the newer, registered version.
    os.replace(site.work / "sample-model-1.1/config.json", site.work / "sample-model/config.json")
    out = consumer(SLOT, "sample-model")
    assert out.returncode == 1, out.stdout + out.stderr
    assert out.stderr.startswith("error: ") and "config.json" in out.stderr
    assert "ready:" not in out.stdout and "verified config.json" not in out.stdout
    # A missing file.
    (site.work / "sample-model/config.json").unlink()
    out = consumer(SLOT, "sample-model")
    assert out.returncode == 1 and out.stderr.startswith("error: "), out.stderr
    # A slot with no active model: the CLI's message and hint.
    message, hint = site.cli_error("show", "--slot", "no-such-slot", code=2)
    out = consumer("no-such-slot", "sample-model")
    assert out.returncode == 2
    assert out.stderr == f"error: {message}\nhint: {hint}\n"
    # A registry this host has not pinned: refused before anything is read.
    out = consumer(SLOT, "sample-model", env=site.env(site.other_host()))
    assert out.returncode == 1
    assert out.stderr.startswith("error: ") and "not pinned on this host" in out.stderr
    assert "\nhint: " in out.stderr and "reg trust add" in out.stderr


def test_the_consumer_refuses_an_artifact_at_another_artifacts_path(site: Site) -> None:
    # Bytes of the slot's model, but another of its files: its weights' path holds its config
    # (the gate allows the bytes; the loader checks they are the artifact the path names).
    model = site.work / "sample-model"
    os.replace(model / "config.json", model / "model.safetensors")
    (model / "config.json").write_bytes((model / "model.safetensors").read_bytes())
    out = subprocess.run(
        [sys.executable, str(CONSUMER), SLOT, "sample-model", "--registry", "site-a"],
        cwd=site.work, env=site.env(), capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 1, out.stdout + out.stderr
    assert "holds the bytes of another artifact of the model" in out.stderr
    assert "ready:" not in out.stdout


def test_mypy_strict_passes_on_the_consumer_the_readme_code_and_these_tests(
    tmp_path: Path,
) -> None:
    snippet = tmp_path / "readme_from_python.py"
    snippet.write_text(readme_python())
    tests = Path(__file__).resolve().parent
    for cwd, files in ((tmp_path, [str(CONSUMER), str(snippet)]), (tests, ["."])):
        out = subprocess.run(
            [
                sys.executable, "-m", "mypy", "--strict", "--no-error-summary",
                "--cache-dir", str(REPO / "target" / "mypy-cache"), *files,
            ],
            cwd=cwd, capture_output=True, text=True, timeout=600,
        )
        assert "No module named mypy" not in out.stderr, (
            "mypy is not installed in this environment: `pip install mypy` (tests/run does)"
        )
        assert out.returncode == 0, out.stdout + out.stderr
