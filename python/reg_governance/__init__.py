"""reg-governance: the Python API of reg, an offline, signed registry that governs AI/ML models.

Open a registry as the CLI does, ask its load gate before loading any bytes, read what it holds
and, for automation, write to it::

    from reg_governance import Registry

    reg = Registry.open()                  # REG_DIR or the current directory; fails unpinned
    with reg.open_verified("model.safetensors", slot="detector") as f:
        data = f.read()                    # exactly the bytes the gate allowed

Every rule is the Rust library's, the same the ``reg`` command runs; results are frozen
dataclasses whose ``to_dict()`` equals the CLI's ``--json``; refusals raise :class:`RegError`
subclasses carrying the CLI's message, hint and exit code.
"""

from ._errors import (
    Busy,
    Denied,
    InvalidInput,
    IOFailure,
    RegError,
    Refused,
    RollbackOrFork,
    Tampered,
    Unpinned,
)
from ._registry import Registry, VerifiedFile
from ._results import (
    Added,
    Artifact,
    Decision,
    DenySummary,
    DriftEntry,
    DriftList,
    DriftSummary,
    HistoryEntry,
    LogEntry,
    Model,
    ModelRecord,
    ModelRef,
    Provenance,
    Publisher,
    RevokedKey,
    SlotAssignment,
    SlotChange,
    SlotStatus,
    Suspension,
    Trust,
    WriteResult,
)

__all__ = [
    "Added",
    "Artifact",
    "Busy",
    "Decision",
    "Denied",
    "DenySummary",
    "DriftEntry",
    "DriftList",
    "DriftSummary",
    "HistoryEntry",
    "IOFailure",
    "InvalidInput",
    "LogEntry",
    "Model",
    "ModelRecord",
    "ModelRef",
    "Provenance",
    "Publisher",
    "RegError",
    "Refused",
    "Registry",
    "RevokedKey",
    "RollbackOrFork",
    "SlotAssignment",
    "SlotChange",
    "SlotStatus",
    "Suspension",
    "Tampered",
    "Trust",
    "Unpinned",
    "VerifiedFile",
    "WriteResult",
]
