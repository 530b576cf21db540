"""The exceptions of ``reg_governance``, one class per refusal class of the CLI.

Each carries the CLI's one-line ``message`` (also ``str(e)``), its ``hint`` (the fix, or None)
and ``exit_code`` (what ``reg`` would exit with: 1 refused, 2 bad input or I/O, 3 busy). They
survive pickling with every attribute (``__reduce__``), so multiprocessing loaders can send
them between processes.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Optional, Tuple, Type

from ._results import Decision

__all__ = [
    "Busy",
    "Denied",
    "IOFailure",
    "InvalidInput",
    "RegError",
    "Refused",
    "RollbackOrFork",
    "Tampered",
    "Unpinned",
]


class RegError(Exception):
    """A refusal or failure of the reg library: the base of every exception it raises."""

    #: The exit code of the class, when none is given.
    default_exit_code: int = 2

    message: str
    hint: Optional[str]
    exit_code: int

    def __init__(
        self, message: str, hint: Optional[str] = None, exit_code: Optional[int] = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = self.default_exit_code if exit_code is None else exit_code

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (self.message, self.hint, self.exit_code))


class Refused(RegError):
    """A rule refused the action (exit 1)."""

    default_exit_code = 1


class Denied(Refused):
    """The gate denied a file; ``decision`` says why."""

    decision: Optional[Decision]

    def __init__(
        self,
        message: str,
        hint: Optional[str] = None,
        exit_code: Optional[int] = None,
        decision: Optional[Decision] = None,
    ) -> None:
        super().__init__(message, hint, exit_code)
        self.decision = decision

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (self.message, self.hint, self.exit_code, self.decision))


class Tampered(Refused):
    """A hash, signature or ledger check failed: the registry was altered or damaged."""


class Unpinned(Refused):
    """The registry is not pinned on this host, so its answers prove nothing."""


class RollbackOrFork(Refused):
    """The registry is older than, or forked from, what this host verified before."""


class InvalidInput(RegError):
    """Bad usage or input (exit 2)."""

    default_exit_code = 2


class IOFailure(RegError):
    """The file system failed (exit 2)."""

    default_exit_code = 2


class Busy(RegError):
    """Another writer holds the registry's lock (exit 3)."""

    default_exit_code = 3


_CLASSES: Dict[str, Type[RegError]] = {
    c.__name__: c
    for c in (Refused, Denied, Tampered, Unpinned, RollbackOrFork, InvalidInput, IOFailure, Busy)
}


def from_native(error: BaseException) -> RegError:
    """The public exception for a ``_native.NativeError`` (its args are ``(class_name,
    message, hint, exit_code, decision_json)``); an unknown class name is a ``RegError``."""
    class_name, message, hint, exit_code, decision_json = error.args
    cls = _CLASSES.get(class_name, RegError)
    if cls is Denied:
        decision = None if decision_json is None else Decision.from_dict(json.loads(decision_json))
        return Denied(message, hint, exit_code, decision)
    return cls(message, hint, exit_code)
