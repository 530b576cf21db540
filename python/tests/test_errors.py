"""Exceptions: one class per refusal class of the CLI, each raised by a real failure with the
CLI's message, hint and exit code, and each surviving pickling (a multiprocessing loader hands
them between processes).
"""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import pickle
from typing import Any, Callable, Iterator

import pytest
from conftest import NEWER, SLOT, Site

import reg_governance
from reg_governance import (
    Busy,
    Denied,
    InvalidInput,
    IOFailure,
    Refused,
    RegError,
    Registry,
    RollbackOrFork,
    Tampered,
    Unpinned,
)

HIERARCHY: dict[type[RegError], tuple[type[BaseException], int]] = {
    Refused: (RegError, 1),
    Denied: (Refused, 1),
    Tampered: (Refused, 1),
    Unpinned: (Refused, 1),
    RollbackOrFork: (Refused, 1),
    InvalidInput: (RegError, 2),
    IOFailure: (RegError, 2),
    Busy: (RegError, 3),
}


def test_the_hierarchy() -> None:
    assert issubclass(RegError, Exception)
    for cls, (parent, _) in HIERARCHY.items():
        assert issubclass(cls, parent), cls
        assert cls.__module__.startswith("reg_governance")
        assert cls.__name__ in reg_governance.__all__


def _tamper_ledger_entry(site: Site) -> None:
    entry = (site.registry / ".registry/ledger").read_text().splitlines()[2]
    obj = site.registry / ".registry/objects" / entry[:2] / entry[2:]
    os.chmod(obj, 0o644)
    data = bytearray(obj.read_bytes())
    data[40] = ord("X") if data[40] != ord("X") else ord("Y")
    obj.write_bytes(bytes(data))


@pytest.fixture
def locked_registry(site: Site, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The registry directory locked as a writer holds it in its commit window."""
    monkeypatch.setenv("REG_LOCK_TIMEOUT", "1")
    fd = os.open(site.registry / ".registry", os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def raise_real(site: Site, cls: type[RegError], request: pytest.FixtureRequest) -> RegError:
    """Provokes `cls` for real, checks it against the CLI's refusal of the same thing, and
    returns it."""
    cli: tuple[str, ...] | None = None
    action: Callable[[], Any]
    code = HIERARCHY[cls][1]
    if cls is Refused:
        cli = ("deprecate", NEWER, "--reason", "x", "--key", "keys/operator.pem")
        action = lambda: Registry.open(site.registry).deprecate(NEWER, "x", "keys/operator.pem")
    elif cls is Denied:
        action = lambda: Registry.open(site.registry).open_verified(site.unknown, slot=SLOT)
    elif cls is Tampered:
        _tamper_ledger_entry(site)
        # A host that has not verified this registry before reads its whole ledger (one that
        # has takes the fast path from its record, as the CLI's reads do; `ledger verify` and
        # fsck read it all).
        site.monkeypatch.setenv("REG_STATE_DIR", str(site.work / "fresh-state"))
        cli = ("status",)
        action = lambda: Registry.open(site.registry)
    elif cls is Unpinned:
        site.monkeypatch.setenv("REG_TRUST_FILE", str(site.work / "host2/trust.json"))
        action = lambda: Registry.open(site.registry)
    elif cls is RollbackOrFork:
        site.roll_back()
        cli = ("status",)
        action = lambda: Registry.open(site.registry)
    elif cls is InvalidInput:
        cli = ("show", "no-such@1.0.0")
        action = lambda: Registry.open(site.registry).show("no-such@1.0.0")
    elif cls is IOFailure:
        (site.work / "not-a-dir").write_bytes(b"")
        site.monkeypatch.setenv("REG_STATE_DIR", str(site.work / "not-a-dir/state"))
        cli = ("status",)
        action = lambda: Registry.open(site.registry)
    elif cls is Busy:
        request.getfixturevalue("locked_registry")
        cli = ("status",)
        action = lambda: Registry.open(site.registry)
    else:
        raise AssertionError(cls)
    with pytest.raises(cls) as caught:
        action()
    e = caught.value
    assert type(e) is cls
    assert e.exit_code == code
    assert str(e) == e.message
    if cli is not None:
        message, hint = site.cli_error(*cli, code=code)
        assert (e.message, e.hint) == (message, hint)
    return e


@pytest.mark.parametrize("cls", list(HIERARCHY), ids=lambda c: c.__name__)
def test_each_exception_is_raised_for_real_and_survives_pickling(
    site: Site, cls: type[RegError], request: pytest.FixtureRequest
) -> None:
    e = raise_real(site, cls, request)
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(e, protocol=protocol))
        assert type(back) is cls
        assert (back.message, back.hint, back.exit_code) == (e.message, e.hint, e.exit_code)
        assert str(back) == str(e)
        assert back.args == e.args
        if isinstance(e, Denied):
            assert isinstance(back, Denied)
            assert back.decision == e.decision
            assert back.decision is not None and e.decision is not None
            assert back.decision.to_dict() == e.decision.to_dict()


def _child(q: Any, path: str, unknown: str) -> None:
    try:
        Registry.open(path).open_verified(unknown, slot=SLOT)
    except RegError as e:
        q.put(e)
    else:
        q.put(None)


def test_an_exception_crosses_processes(site: Site) -> None:
    """The case pickling is for: a worker process's refusal reaches its parent whole."""
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(q, str(site.registry), str(site.unknown)))
    p.start()
    e = q.get(timeout=60)
    p.join(60)
    assert isinstance(e, Denied) and e.decision is not None
    assert e.decision.code == "out-of-scope" and e.exit_code == 1
    assert e.message


def test_an_error_without_a_hint_pickles(site: Site) -> None:
    """Hints are optional: None survives as None."""
    (site.work / "not-a-dir").write_bytes(b"")
    registry = Registry.open(site.registry)
    with pytest.raises(IOFailure) as caught:
        registry.promote(NEWER, "x", site.work / "not-a-dir" / "key.pem")
    assert caught.value.hint is None
    back = pickle.loads(pickle.dumps(caught.value))
    assert (back.message, back.hint) == (caught.value.message, caught.value.hint)


@pytest.mark.parametrize("cls", [RegError, *HIERARCHY], ids=lambda c: c.__name__)
def test_exceptions_built_by_hand_pickle_alike(cls: type[RegError]) -> None:
    """A caller may raise them too (a loader's own refusal): the defaults are the class's exit
    code, and they pickle alike."""
    e = cls("a message", "a hint")
    assert e.exit_code == HIERARCHY.get(cls, (RegError, 2))[1]
    assert (str(e), e.message, e.hint) == ("a message", "a message", "a hint")
    for given in (e, cls("another", None, 7)):
        back = pickle.loads(pickle.dumps(given))
        assert type(back) is cls
        assert (back.message, back.hint, back.exit_code) == (given.message, given.hint, given.exit_code)
