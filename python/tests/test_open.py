"""`Registry.open`: discovery, pins and the rollback rule exactly as the command line.

A registry this host has not pinned raises `Unpinned` (fail closed) unless `allow_unpinned`;
an explicit `trust` fingerprint is a pin; a copy older than what this host verified (a
rolled-back medium) raises `RollbackOrFork` with the CLI's message and hint.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import ACTIVE, SLOT, Host, Site, copy_tree, writable

from reg_governance import (
    InvalidInput,
    Refused,
    RegError,
    Registry,
    RollbackOrFork,
    Trust,
    Unpinned,
)


def root_fingerprint(site: Site) -> str:
    return site.cli("key", "fingerprint", str(site.key("root")) + ".pub").stdout.strip()


def test_open_names_the_registry(site: Site, registry: Any) -> None:
    assert isinstance(registry, Registry)
    assert registry.path == (site.registry / ".registry").resolve() or registry.path == (
        site.registry / ".registry"
    )
    assert isinstance(registry.path, Path)
    genesis = site.cli_json("log")[0]
    assert genesis["kind"] == "genesis"
    assert registry.id == genesis["id"]
    assert registry.root == root_fingerprint(site) == genesis["actor"]
    assert registry.trust == Trust(pinned=True, by="trust-file")
    assert registry.trust.to_dict() == site.cli_json("status")[0]["trust"]


def test_open_finds_the_registry_as_the_cli(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = Registry.open(site.registry).id
    # The `.registry` directory itself, a str or a PathLike.
    assert Registry.open(site.registry / ".registry").id == expected
    assert Registry.open(str(site.registry)).id == expected
    # REG_DIR, when no path is given.
    monkeypatch.setenv("REG_DIR", str(site.registry))
    assert Registry.open().id == expected
    # An empty REG_DIR counts as unset: the current directory and its parents.
    monkeypatch.setenv("REG_DIR", "")
    deep = site.registry / "some" / "dir"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert Registry.open().id == expected
    monkeypatch.delenv("REG_DIR")
    assert Registry.open().id == expected


def test_open_where_there_is_no_registry_raises_as_the_cli(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = site.work / "empty"
    empty.mkdir()
    message, hint = site.cli_error("status", registry=empty, code=2)
    with pytest.raises(RegError) as caught:
        Registry.open(empty)
    e = caught.value
    assert (e.message, e.hint, e.exit_code) == (message, hint, 2)
    assert not isinstance(e, Refused)


def test_an_unpinned_registry_raises_unpinned(site: Site) -> None:
    other = site.other_host()
    with site.as_host(other):
        with pytest.raises(Unpinned) as caught:
            Registry.open(site.registry)
    e = caught.value
    assert isinstance(e, Refused) and isinstance(e, RegError)
    assert e.exit_code == 1
    assert "not pinned on this host" in e.message
    assert e.hint is not None and "reg trust add" in e.hint
    root = root_fingerprint(site)
    assert root in e.message + e.hint
    # Nothing was pinned or recorded on that host.
    assert not other.trust_file.exists()


def test_allow_unpinned_opens_and_decides_as_the_cli(site: Site) -> None:
    other = site.other_host()
    with site.as_host(other):
        r = Registry.open(site.registry, allow_unpinned=True)
        assert r.trust == Trust(pinned=False, by=None)
        d = r.check(site.file(ACTIVE), slot=SLOT)
        status = [s.to_dict() for s in r.status()]
    [cli] = site.cli_json(
        "check", "--allow-unpinned", "--slot", SLOT, str(site.file(ACTIVE)), host=other
    )
    assert d.to_dict() == cli
    assert d.allowed and d.warning is not None and "not pinned on this host" in d.warning
    assert status == site.cli_json("status", host=other)
    # Without allow_unpinned the same host's gate would have denied: the CLI says so too.
    [denied] = site.cli_json("check", "--slot", SLOT, str(site.file(ACTIVE)), host=other, codes=(1,))
    assert denied["code"] == "unpinned"


def test_an_explicit_trust_is_a_pin(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    other = site.other_host()
    root = root_fingerprint(site)
    with site.as_host(other):
        r = Registry.open(site.registry, trust=root)
        assert r.trust == Trust(pinned=True, by="--trust")
        assert r.check(site.file(ACTIVE), slot=SLOT).allowed
        assert [s.to_dict() for s in r.status()] == site.cli_json(
            "--trust", root, "status", host=other
        )
        # REG_TRUST, as the CLI's --trust.
        monkeypatch.setenv("REG_TRUST", root)
        assert Registry.open(site.registry).trust == Trust(pinned=True, by="--trust")
        monkeypatch.delenv("REG_TRUST")
        # Another root is refused.
        wrong = "0" * 32
        message, hint = site.cli_error("--trust", wrong, "status", host=other)
        with pytest.raises(Refused) as caught:
            Registry.open(site.registry, trust=wrong)
        assert (caught.value.message, caught.value.hint) == (message, hint)
        # Not a fingerprint at all: bad input.
        with pytest.raises(InvalidInput) as bad:
            Registry.open(site.registry, trust="not-a-fingerprint")
        assert bad.value.exit_code == 2


def test_a_rolled_back_copy_raises_rollback_or_fork(site: Site) -> None:
    # A copy is kept; the registry moves on and this host verifies the newer checkpoint (the
    # CLI's write records it, as Python's open would); the old copy is put back in its place.
    site.roll_back()
    message, hint = site.cli_error("status")
    with pytest.raises(RollbackOrFork) as caught:
        Registry.open(site.registry)
    e = caught.value
    assert isinstance(e, Refused)
    assert (e.message, e.hint, e.exit_code) == (message, hint, 1)
    assert "older than or diverges" in e.message
    # allow_unpinned does not reach the rollback rule, nor does an explicit trust.
    with pytest.raises(RollbackOrFork):
        Registry.open(site.registry, allow_unpinned=True)
    with pytest.raises(RollbackOrFork):
        Registry.open(site.registry, trust=root_fingerprint(site))
    # The newer registry opens again on the same host.


def test_python_records_what_it_verified(site: Site) -> None:
    """Opening from Python records the checkpoint as the CLI does: a copy older than what
    Python verified is refused by the CLI afterwards."""
    old = site.work / "old-registry"
    copy_tree(site.registry / ".registry", old)
    site.cli("activate", "canary", ACTIVE, "--reason", "canary", "--key", "keys/operator.pem",
             host=Host(site.host.trust_file, site.work / "writer-state"))
    # Only Python, on this host, sees the newer registry.
    Registry.open(site.registry).status()
    dot = site.registry / ".registry"
    writable(dot)
    shutil.rmtree(dot)
    copy_tree(old, dot)
    message, _ = site.cli_error("status")
    assert "older than or diverges" in message


def test_trust_hides_a_malformed_reg_trust(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """`trust=` stands for `--trust` and replaces `REG_TRUST`: a malformed value there is not
    read (it pins nothing when a root is given), and without `trust=` it is bad input, never
    ignored (ignoring it would fall back to other pins)."""
    other = site.other_host()
    root = root_fingerprint(site)
    with site.as_host(other):
        monkeypatch.setenv("REG_TRUST", "not-a-fingerprint")
        r = Registry.open(site.registry, trust=root)
        assert r.trust == Trust(pinned=True, by="--trust")
        assert r.check(site.file(ACTIVE), slot=SLOT).allowed
        with pytest.raises(InvalidInput):
            Registry.open(site.registry)
