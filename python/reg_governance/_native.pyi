"""Type stub of the native module ``reg_governance._native`` (Rust, python/src/): private.

Results cross as JSON text (the CLI's ``--json`` documents); refusals as :class:`NativeError`.
"""

import io
from typing import List, Optional, Tuple, final

__all__ = ["NativeError", "NativeRegistry"]

class NativeError(Exception):
    """A refusal of the library: ``args`` is ``(class_name, message, hint, exit_code,
    decision_json)``."""

    args: Tuple[str, str, Optional[str], int, Optional[str]]

@final
class NativeRegistry:
    """An opened registry (``Registry.open``)."""

    @staticmethod
    def open(
        path: Optional[str] = None, trust: Optional[str] = None, allow_unpinned: bool = False
    ) -> NativeRegistry: ...
    @property
    def path(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def root(self) -> str: ...
    @property
    def pinned_by(self) -> Optional[str]: ...
    def status(self) -> str: ...
    def models(
        self,
        states: Optional[List[str]] = None,
        name: Optional[str] = None,
        type: Optional[str] = None,
        uses: List[str] = ...,
        labels: Optional[List[Tuple[str, str]]] = None,
        publisher: Optional[str] = None,
    ) -> str: ...
    def show(self, spec: Optional[str] = None, slot: Optional[str] = None) -> str: ...
    def history(
        self,
        spec: Optional[str] = None,
        slot: Optional[str] = None,
        max_count: Optional[int] = None,
        since: Optional[str] = None,
        actor: Optional[str] = None,
    ) -> str: ...
    def drift(self, spec: Optional[str] = None, slot: Optional[str] = None) -> str: ...
    def check(
        self,
        path: str,
        slot: Optional[str] = None,
        model: Optional[str] = None,
        log: Optional[str] = None,
    ) -> str: ...
    def open_verified(
        self,
        path: str,
        slot: Optional[str] = None,
        model: Optional[str] = None,
        log: Optional[str] = None,
    ) -> Tuple[io.FileIO, str]: ...
    def transition(
        self,
        action: str,
        spec: str,
        reason: str,
        key: str,
        passphrase: Optional[str] = None,
        deactivate: bool = False,
        replace: Optional[str] = None,
        deny_bytes: bool = False,
    ) -> str: ...
    def activate(
        self, slot: str, spec: str, reason: str, key: str, passphrase: Optional[str] = None
    ) -> str: ...
    def deactivate(
        self, slot: str, reason: str, key: str, passphrase: Optional[str] = None
    ) -> str: ...
    def record_drift(
        self,
        spec: Optional[str],
        slot: Optional[str],
        observation: str,
        key: str,
        passphrase: Optional[str] = None,
    ) -> str: ...
