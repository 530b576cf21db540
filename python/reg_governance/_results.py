"""Result types: frozen dataclasses over the CLI's ``--json`` documents.

Each result is built from the exact JSON object the ``reg`` library produced for the CLI's
``--json`` (the schemas in ``schema/*.schema.json``). Field names are the JSON keys, except
``from`` and ``as``, which are Python keywords and become ``from_`` and ``as_``. Optional
members the JSON omits are ``None``. Lists become tuples, and free-form objects read-only
mappings, so that a result cannot be changed after the fact. ``to_dict()`` returns a deep copy of
the JSON object the result came from, members the dataclass does not name included, so it equals
the CLI's output exactly.
"""

from __future__ import annotations

import copy
import dataclasses
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Type, TypeVar

__all__ = [
    "Added",
    "Artifact",
    "Decision",
    "DenySummary",
    "DriftEntry",
    "DriftList",
    "DriftSummary",
    "HistoryEntry",
    "LogEntry",
    "Model",
    "ModelRecord",
    "ModelRef",
    "Provenance",
    "Publisher",
    "RevokedKey",
    "SlotAssignment",
    "SlotChange",
    "SlotStatus",
    "Suspension",
    "Trust",
    "WriteResult",
]

_T = TypeVar("_T", bound="_Json")


def _freeze(value: Any) -> Any:
    """A read-only view of free-form JSON: objects as mappings that refuse writes, arrays as
    tuples, recursively."""
    if isinstance(value, dict):
        return types.MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _json(
    key: Optional[str] = None,
    convert: Optional[Callable[[Any], Any]] = None,
    optional: bool = False,
) -> Any:
    """A dataclass field read from JSON member ``key`` (default: the field's name), converted by
    ``convert``; an optional one defaults to None when the member is absent."""
    meta = {"json": key, "convert": convert}
    if optional:
        return field(default=None, metadata=meta)
    return field(metadata=meta)


def _one(cls: Type[_T]) -> Callable[[Any], Optional[_T]]:
    """Converts a JSON object (or null) to ``cls``."""

    def convert(value: Any) -> Optional[_T]:
        return None if value is None else cls.from_dict(value)

    return convert


def _many(cls: Type[_T]) -> Callable[[Any], Optional[Tuple[_T, ...]]]:
    """Converts a JSON array of objects (or null) to a tuple of ``cls``."""

    def convert(value: Any) -> Optional[Tuple[_T, ...]]:
        return None if value is None else tuple(cls.from_dict(v) for v in value)

    return convert


class _Json:
    """What every result shares: built from a JSON object, which it keeps, and turned back into
    exactly that object by ``to_dict()``."""

    _raw: Dict[str, Any]

    @classmethod
    def from_dict(cls: Type[_T], data: Mapping[str, Any]) -> _T:
        """The result for a JSON object, as the CLI's ``--json`` prints it (the object is
        copied: later changes to ``data`` do not reach the result)."""
        raw = copy.deepcopy(dict(data))
        kwargs: Dict[str, Any] = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            key = f.metadata.get("json") or f.name
            if key not in raw:
                continue
            convert = f.metadata.get("convert")
            value = copy.deepcopy(raw[key])
            kwargs[f.name] = convert(value) if convert is not None else _freeze(value)
        result = cls(**kwargs)
        object.__setattr__(result, "_raw", raw)
        return result

    def to_dict(self) -> Dict[str, Any]:
        """The JSON object this result came from, as the CLI's ``--json`` prints it (a deep
        copy: changing it changes nothing here)."""
        return copy.deepcopy(self._raw)


@dataclass(frozen=True)
class Trust(_Json):
    """Whether the registry is pinned on this host, and by what: ``"trust-file"`` (a pin of the
    host trust file, ``reg trust add``), ``"--trust"`` (``trust=`` or ``REG_TRUST``), or None
    (unpinned: the registry was checked only against itself)."""

    pinned: bool = _json()
    by: Optional[str] = _json()


@dataclass(frozen=True)
class Suspension(_Json):
    """A suspension (FORMAT.md section 5.14): the key revoked as compromised that the model rests
    on, and the seq of that revocation."""

    key: str = _json()
    seq: int = _json()


@dataclass(frozen=True)
class RevokedKey(_Json):
    """A revoked key a model rests on: as its publisher or as an approver, when it was revoked
    (seq), and how (``retired`` or ``compromised``)."""

    fingerprint: str = _json()
    as_: str = _json("as")
    revoked: int = _json()
    kind: str = _json()


@dataclass(frozen=True)
class SlotStatus(_Json):
    """A slot and its active model (one element of ``reg status --json``)."""

    slot: str = _json()
    model: str = _json()
    name: str = _json()
    version: str = _json()
    state: str = _json()
    entry: str = _json()
    since: str = _json()
    actor: str = _json()
    trust: Trust = _json(convert=_one(Trust))
    suspended: Optional[Suspension] = _json(convert=_one(Suspension), optional=True)
    blocked: Optional[str] = _json(optional=True)
    revoked_keys: Optional[Tuple[RevokedKey, ...]] = _json(
        convert=_many(RevokedKey), optional=True
    )


@dataclass(frozen=True)
class Model(_Json):
    """A model as ``reg list --json`` lists it."""

    id: str = _json()
    name: str = _json()
    version: str = _json()
    state: str = _json()
    trust: Trust = _json(convert=_one(Trust))
    suspended: Optional[Suspension] = _json(convert=_one(Suspension), optional=True)
    blocked: Optional[str] = _json(optional=True)
    revoked_keys: Optional[Tuple[RevokedKey, ...]] = _json(
        convert=_many(RevokedKey), optional=True
    )


@dataclass(frozen=True)
class Provenance(_Json):
    """A provenance item of a model record: a name and a hash."""

    name: str = _json()
    hash: str = _json()


@dataclass(frozen=True)
class Artifact(_Json):
    """An artifact of a model record: its path in the model, size, BLAKE3 and format."""

    path: str = _json()
    size: int = _json()
    blake3: str = _json()
    format: str = _json()
    runs_code_when_loaded: bool = _json()


@dataclass(frozen=True)
class Publisher(_Json):
    """The publisher's key and signature of a model record."""

    fingerprint: str = _json()
    signature: str = _json()
    name: Optional[str] = _json(optional=True)


@dataclass(frozen=True)
class Added(_Json):
    """How a model was admitted: the add entry, its operator and the bundle's hash."""

    entry: str = _json()
    seq: int = _json()
    time: str = _json()
    operator: str = _json()
    bundle: str = _json()
    operator_name: Optional[str] = _json(optional=True)
    encrypted: Optional[bool] = _json(optional=True)


@dataclass(frozen=True)
class HistoryEntry(_Json):
    """One ledger entry of a model's history, and its lifecycle state after it."""

    entry: str = _json()
    seq: int = _json()
    time: str = _json()
    actor: str = _json()
    action: str = _json()
    state: str = _json()
    reason: Optional[str] = _json(optional=True)
    actor_name: Optional[str] = _json(optional=True)
    slot: Optional[str] = _json(optional=True)
    detail: Optional[str] = _json(optional=True)


@dataclass(frozen=True)
class DriftSummary(_Json):
    """A model's drift observations: how many, the last entry, and the latest observation."""

    count: int = _json()
    last: str = _json()
    latest: Mapping[str, Any] = _json()


@dataclass(frozen=True)
class ModelRecord(_Json):
    """A model record as ``reg show --json`` prints it: the signed manifest with its lifecycle
    state, admission, history and slots."""

    id: str = _json()
    name: str = _json()
    version: str = _json()
    type: str = _json()
    uses: Tuple[str, ...] = _json()
    description: str = _json()
    labels: Mapping[str, str] = _json()
    provenance: Tuple[Provenance, ...] = _json(convert=_many(Provenance))
    artifacts: Tuple[Artifact, ...] = _json(convert=_many(Artifact))
    created: str = _json()
    publisher: Publisher = _json(convert=_one(Publisher))
    state: str = _json()
    added: Added = _json(convert=_one(Added))
    history: Tuple[HistoryEntry, ...] = _json(convert=_many(HistoryEntry))
    slots: Tuple[str, ...] = _json()
    trust: Trust = _json(convert=_one(Trust))
    framework: Optional[str] = _json(optional=True)
    owner: Optional[str] = _json(optional=True)
    license: Optional[str] = _json(optional=True)
    drift: Optional[DriftSummary] = _json(convert=_one(DriftSummary), optional=True)
    suspended: Optional[Suspension] = _json(convert=_one(Suspension), optional=True)
    blocked: Optional[str] = _json(optional=True)
    revoked_keys: Optional[Tuple[RevokedKey, ...]] = _json(
        convert=_many(RevokedKey), optional=True
    )


@dataclass(frozen=True)
class ModelRef(_Json):
    """A model named in a log entry: ``name@version`` and its record id."""

    model: str = _json()
    record: str = _json()


@dataclass(frozen=True)
class SlotChange(_Json):
    """A slot whose active model a ledger entry changed, with the model before and after."""

    slot: str = _json()
    from_: Optional[ModelRef] = _json("from", convert=_one(ModelRef), optional=True)
    to: Optional[ModelRef] = _json(convert=_one(ModelRef), optional=True)


@dataclass(frozen=True)
class LogEntry(_Json):
    """A ledger entry as ``reg log --json`` lists it."""

    seq: int = _json()
    id: str = _json()
    time: str = _json()
    kind: str = _json()
    actor: str = _json()
    summary: str = _json()
    reason: Optional[str] = _json(optional=True)
    actor_name: Optional[str] = _json(optional=True)
    model: Optional[str] = _json(optional=True)
    record: Optional[str] = _json(optional=True)
    slot: Optional[str] = _json(optional=True)
    from_: Optional[str] = _json("from", optional=True)
    to: Optional[str] = _json(optional=True)
    slots: Optional[Tuple[SlotChange, ...]] = _json(convert=_many(SlotChange), optional=True)
    suspended: Optional[Tuple[ModelRef, ...]] = _json(convert=_many(ModelRef), optional=True)
    lifted: Optional[Tuple[ModelRef, ...]] = _json(convert=_many(ModelRef), optional=True)
    warning: Optional[str] = _json(optional=True)


@dataclass(frozen=True)
class DriftEntry(_Json):
    """A recorded drift observation, as ``reg drift list --json`` lists it."""

    model: str = _json()
    spec: str = _json()
    entry: str = _json()
    seq: int = _json()
    recorded: str = _json()
    reporter: str = _json()
    observation: Mapping[str, Any] = _json()
    reporter_name: Optional[str] = _json(optional=True)
    recorded_by_name: Optional[str] = _json(optional=True)
    report: Optional[str] = _json(optional=True)
    recorded_by: Optional[str] = _json(optional=True)


DriftList = List[DriftEntry]
"""``reg drift list --json``: the observations, oldest first."""


@dataclass(frozen=True)
class Decision(_Json):
    """The load gate's answer for one file (an element of ``reg check --json``): ``allowed``,
    the stable reason ``code``, the model that vouches for it (or the one it belongs to), its
    record id, the BLAKE3 of the bytes read (absent when the file could not be read), the
    reason in words and a warning that goes with an ALLOW."""

    path: str = _json()
    allowed: bool = _json()
    code: str = _json()
    reason: str = _json()
    resolved: Optional[str] = _json(optional=True)
    hash: Optional[str] = _json(optional=True)
    model: Optional[str] = _json(optional=True)
    record: Optional[str] = _json(optional=True)
    warning: Optional[str] = _json(optional=True)


@dataclass(frozen=True)
class SlotAssignment(_Json):
    """A slot a write handed over or cleared (model None), or that the gate allows again."""

    slot: str = _json()
    model: Optional[str] = _json()


@dataclass(frozen=True)
class DenySummary(_Json):
    """``revoke(deny_bytes=True)``: the hashes denied now, those denied already, and the other
    models holding some of them."""

    new: int = _json()
    already: int = _json()
    others: Tuple[str, ...] = _json()


@dataclass(frozen=True)
class WriteResult(_Json):
    """What a write did (``--json`` of the commands that write one ledger entry): the entry
    written (``entry`` and ``seq``; None with ``written`` False when nothing was) and what
    changed. Members this class does not name are in ``to_dict()``."""

    action: str = _json()
    written: bool = _json()
    entry: Optional[str] = _json()
    seq: Optional[int] = _json()
    model: Optional[str] = _json(optional=True)
    record: Optional[str] = _json(optional=True)
    from_: Optional[str] = _json("from", optional=True)
    to: Optional[str] = _json(optional=True)
    state: Optional[str] = _json(optional=True)
    slot: Optional[str] = _json(optional=True)
    previous: Optional[str] = _json(optional=True)
    slots: Optional[Tuple[SlotAssignment, ...]] = _json(
        convert=_many(SlotAssignment), optional=True
    )
    still_active: Optional[Tuple[str, ...]] = _json(optional=True)
    denied: Optional[DenySummary] = _json(convert=_one(DenySummary), optional=True)
    suspension: Optional[Suspension] = _json(convert=_one(Suspension), optional=True)
    time: Optional[str] = _json(optional=True)
    actor: Optional[str] = _json(optional=True)
    count: Optional[int] = _json(optional=True)
    report: Optional[str] = _json(optional=True)
