"""``Registry``: a registry opened as the CLI opens it, its reads, its load gate and its writes.

Every rule is the Rust library's (``reg_governance._native``); this module converts arguments
and results and maps errors to the exceptions of ``_errors``.
"""

from __future__ import annotations

import io
import json
import os
import pathlib
from typing import Any, Callable, Iterable, List, Mapping, Optional, TypeVar, Union

from . import _native
from ._errors import InvalidInput, from_native
from ._results import (
    Decision,
    DriftEntry,
    DriftList,
    LogEntry,
    Model,
    ModelRecord,
    SlotStatus,
    Trust,
    WriteResult,
)

__all__ = ["Registry", "VerifiedFile"]

_R = TypeVar("_R")

StrPath = Union[str, "os.PathLike[str]"]


def _call(fn: Callable[..., _R], *args: Any) -> _R:
    """Calls the native module, raising its refusals as the public exceptions."""
    try:
        return fn(*args)
    except _native.NativeError as e:
        raise from_native(e) from None


def _path(p: Optional[StrPath]) -> Optional[str]:
    """A path argument as the native module takes it."""
    return None if p is None else os.fspath(p)


def _states(state: Union[str, Iterable[str], None]) -> Optional[List[str]]:
    """``state=`` as a list: one state, several, or None for any."""
    if state is None:
        return None
    if isinstance(state, str):
        return [state]
    return list(state)


class VerifiedFile(io.BufferedReader):
    """A read-only binary file over the private copy of a file the gate allowed: exactly the
    bytes that were hashed, whatever happens to the file on disk afterwards. Its descriptor is
    opened read-only, so not even ``os.write(f.fileno(), ...)`` can change the copy, and the
    copy's mode is owner-read-only, so re-opening it for writing fails by mistake; a process of
    this user that means to can change that mode back (as the owner of any file can), so this
    user and root are trusted with the copy, as with the loader's memory. A context manager,
    like every file object; ``decision`` is the gate's answer."""

    decision: Decision

    def __init__(self, raw: io.FileIO, decision: Decision) -> None:
        super().__init__(raw)
        self.decision = decision


class Registry:
    """A registry opened as the CLI opens it: found, checked against this host's pin, and its
    ledger verified against what this host verified before. Use :meth:`open`."""

    path: pathlib.Path
    """The ``.registry`` directory."""
    id: str
    """The registry id (hex)."""
    root: str
    """The genesis root key's fingerprint."""
    trust: Trust
    """Whether and how this host pins the registry."""

    def __init__(self, native: _native.NativeRegistry) -> None:
        """Wraps an opened native registry; call :meth:`open` instead."""
        self._native = native
        self.path = pathlib.Path(native.path)
        self.id = native.id
        self.root = native.root
        by = native.pinned_by
        self.trust = Trust.from_dict({"pinned": by is not None, "by": by})

    def __repr__(self) -> str:
        return f"Registry(path={str(self.path)!r}, id={self.id!r})"

    @classmethod
    def open(
        cls,
        path: Optional[StrPath] = None,
        *,
        trust: Optional[str] = None,
        allow_unpinned: bool = False,
    ) -> "Registry":
        """Opens a registry as ``reg`` does.

        ``path`` is the ``.registry`` directory or the directory holding it; None means
        ``REG_DIR``, else the current directory and its parents. ``trust`` is a root key
        fingerprint to trust instead of the host's pins; None means ``REG_TRUST``, else the host
        trust file. ``REG_TRUST_FILE``, ``REG_STATE_DIR``, the XDG and HOME defaults,
        ``REG_LOCK_TIMEOUT`` and ``SOURCE_DATE_EPOCH`` are read exactly as the CLI reads them.

        Fails closed: raises :class:`Unpinned` for a registry this host has not pinned, unless
        ``allow_unpinned`` (then it vouches only for itself: for tests, never for a production
        gate), and :class:`RollbackOrFork` for a copy older than, or forked from, the one this
        host verified.
        """
        native = _call(_native.NativeRegistry.open, _path(path), trust, allow_unpinned)
        return cls(native)

    # Reads: each result equals, via to_dict(), the CLI's --json on the same registry.

    def status(self) -> List[SlotStatus]:
        """Every set slot and its active model (``reg status --json``)."""
        return [SlotStatus.from_dict(d) for d in json.loads(_call(self._native.status))]

    def models(
        self,
        *,
        state: Union[str, Iterable[str], None] = None,
        name: Optional[str] = None,
        type: Optional[str] = None,
        uses: Iterable[str] = (),
        labels: Optional[Mapping[str, str]] = None,
        publisher: Optional[str] = None,
    ) -> List[Model]:
        """The registered models, filtered as ``reg list --json`` filters them: every filter
        given must match (``state``: one state or several, in a list or separated by commas,
        any of them, in any case; ``uses``: each must be
        included; ``labels``: each must match; ``publisher``: a fingerprint or a prefix)."""
        text = _call(
            self._native.models,
            _states(state),
            name,
            type,
            list(uses),
            None if labels is None else list(labels.items()),
            publisher,
        )
        return [Model.from_dict(d) for d in json.loads(text)]

    def show(self, spec: Optional[str] = None, *, slot: Optional[str] = None) -> ModelRecord:
        """A model's record (``reg show --json``): ``spec`` is name@version, name@latest, a
        name with one version, a record id or a unique prefix; or ``slot`` for its active
        model."""
        return ModelRecord.from_dict(json.loads(_call(self._native.show, spec, slot)))

    def history(
        self,
        spec: Optional[str] = None,
        *,
        slot: Optional[str] = None,
        max_count: Optional[int] = None,
        since: Optional[str] = None,
        actor: Optional[str] = None,
    ) -> List[LogEntry]:
        """Ledger entries, oldest first (``reg log --json``): all, those concerning the model
        ``spec``, or each change of ``slot``; the newest ``max_count``, those dated at or after
        ``since``, those signed by ``actor`` (a key's name, fingerprint or prefix)."""
        text = _call(self._native.history, spec, slot, max_count, since, actor)
        return [LogEntry.from_dict(d) for d in json.loads(text)]

    def drift(self, spec: Optional[str] = None, *, slot: Optional[str] = None) -> DriftList:
        """Recorded drift observations (``reg drift list --json``): all, or those of the model
        ``spec`` or of ``slot``'s active model."""
        return [DriftEntry.from_dict(d) for d in json.loads(_call(self._native.drift, spec, slot))]

    # The gate.

    def check(
        self,
        path: StrPath,
        *,
        slot: Optional[str] = None,
        model: Optional[str] = None,
        log: Optional[StrPath] = None,
    ) -> Decision:
        """The gate's decision for the file at ``path`` (``reg check --json``): whether its
        bytes, hashed now, are an artifact of an approved model, and with ``slot`` or
        ``model``, of that one. A denial is returned, not raised (``allowed`` is False).
        ``log`` (else ``REG_GATE_LOG``) is a decision log to append the decision to, as
        ``reg check --log``. To load the file, use :meth:`open_verified` instead: the file may
        change after it was checked."""
        text = _call(self._native.check, os.fspath(path), slot, model, _path(log))
        return Decision.from_dict(json.loads(text))

    def open_verified(
        self,
        path: StrPath,
        *,
        slot: Optional[str] = None,
        model: Optional[str] = None,
        log: Optional[StrPath] = None,
    ) -> VerifiedFile:
        """Opens the file at ``path`` through the gate: copies it into a private file while
        hashing it and returns that copy, read-only, only if the gate allows it; so a file
        swapped on disk afterwards is never what the caller reads. Raises :class:`Denied`
        (with ``.decision``) otherwise. ``slot``, ``model`` and ``log`` as :meth:`check`."""
        raw, text = _call(self._native.open_verified, os.fspath(path), slot, model, _path(log))
        return VerifiedFile(raw, Decision.from_dict(json.loads(text)))

    # Writes, for automation: keys from PEM files; the passphrase of an encrypted key is
    # ``passphrase``, else REG_KEY_PASSPHRASE; reg never prompts from here.

    def promote(
        self, spec: str, reason: str, key: StrPath, *, passphrase: Optional[str] = None
    ) -> WriteResult:
        """Approves a model (REGISTERED or DEPRECATED -> PROMOTED), as ``reg promote``."""
        return self._write(
            self._native.transition, "promote", spec, reason, os.fspath(key), passphrase,
            False, None, False,
        )

    def deprecate(
        self, spec: str, reason: str, key: StrPath, *, passphrase: Optional[str] = None
    ) -> WriteResult:
        """Phases a model out (PROMOTED -> DEPRECATED; it stays active until replaced), as
        ``reg deprecate``."""
        return self._write(
            self._native.transition, "deprecate", spec, reason, os.fspath(key), passphrase,
            False, None, False,
        )

    def revoke(
        self,
        spec: str,
        reason: str,
        key: StrPath,
        *,
        passphrase: Optional[str] = None,
        deactivate: bool = False,
        replace: Optional[str] = None,
        deny_bytes: bool = False,
    ) -> WriteResult:
        """Revokes a model for good, as ``reg revoke``: an active model needs ``deactivate``
        (its slots are cleared) or ``replace`` (a model to hand its slots to);
        ``deny_bytes`` also denies its artifact hashes whatever model claims them."""
        return self._write(
            self._native.transition, "revoke", spec, reason, os.fspath(key), passphrase,
            deactivate, replace, deny_bytes,
        )

    def activate(
        self, slot: str, spec: str, reason: str, key: StrPath, *, passphrase: Optional[str] = None
    ) -> WriteResult:
        """Makes ``spec`` the active model of ``slot``, as ``reg activate``."""
        return self._write(
            self._native.activate, slot, spec, reason, os.fspath(key), passphrase
        )

    def deactivate(
        self, slot: str, reason: str, key: StrPath, *, passphrase: Optional[str] = None
    ) -> WriteResult:
        """Clears ``slot``, as ``reg deactivate``."""
        return self._write(self._native.deactivate, slot, reason, os.fspath(key), passphrase)

    def record_drift(
        self,
        spec: Optional[str],
        observation: Union[Mapping[str, object], str],
        key: StrPath,
        *,
        slot: Optional[str] = None,
        passphrase: Optional[str] = None,
    ) -> WriteResult:
        """Records a drift observation of the model ``spec`` (or of ``slot``'s active model),
        as ``reg drift record``: ``observation`` is a mapping (serialized as JSON) or the JSON
        text (schema/drift-observation.schema.json)."""
        if isinstance(observation, str):
            text = observation
        else:
            try:
                text = json.dumps(dict(observation), allow_nan=False)
            except (TypeError, ValueError, RecursionError) as e:  # not JSON, as the CLI says
                raise InvalidInput(f"the observation is not JSON: {e}") from None
        return self._write(
            self._native.record_drift, spec, slot, text, os.fspath(key), passphrase
        )

    def _write(self, fn: Callable[..., str], *args: Any) -> WriteResult:
        """Runs a native write and reads its result."""
        return WriteResult.from_dict(json.loads(_call(fn, *args)))
