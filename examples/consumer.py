#!/usr/bin/env python3
"""A model server's loader that loads nothing the registry has not approved.

Usage: examples/consumer.py SLOT MODEL_DIR [--registry PATH]

The loader asks the registry which model is active in SLOT and which files it holds, then reads
each of those files from MODEL_DIR only through the load gate (`Registry.open_verified`): what it
reads is the gate's private copy of the bytes it verified, so a file swapped on disk after the
check is never what the runtime gets. It reads no other file of MODEL_DIR, and it refuses the
whole model if any one file is refused: a registry this host has not pinned, a rolled-back copy,
a slot with no active model, or bytes that are not that model's. Every rule is the registry's
(the same library as the `reg` command line); this file only asks.

It runs no model: it stops where a server would hand the bytes to its runtime, and prints what
it would load. On a refusal it prints `error:` with the registry's message (and `hint:` when
there is one) on standard error and exits with the code `reg` would (1 refused, 2 bad input or
I/O, 3 busy).

The registry is PATH, else `REG_DIR`, else the current directory or a parent; this host's pins
and records are read from the environment as `reg` reads them (`REG_TRUST_FILE`,
`REG_STATE_DIR`, ...).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from reg_governance import RegError, Registry


@dataclass(frozen=True)
class LoadedFile:
    """One verified file, as the runtime would receive it."""

    path: str
    data: bytes
    blake3: str


@dataclass(frozen=True)
class LoadedModel:
    """The active model of a slot, every file of it verified by the gate."""

    slot: str
    model: str
    files: tuple[LoadedFile, ...]


class SlotChanged(Exception):
    """The slot's active model changed while the loader read its files."""

    def __init__(self, slot: str, expected: str, found: Optional[str]) -> None:
        super().__init__(
            f"slot `{slot}` changed while its model was being loaded: {found} instead of {expected}"
        )


class MisplacedArtifact(Exception):
    """A file holds another artifact of the same model than the one its path names."""

    def __init__(self, path: str, expected: str, found: Optional[str]) -> None:
        super().__init__(
            f"`{path}` holds the bytes of another artifact of the model ({found}), not its own ({expected})"
        )


def load_active_model(registry: Registry, slot: str, model_dir: Path) -> LoadedModel:
    """Reads every artifact of the model active in `slot` from `model_dir`, through the gate.

    Raises the registry's refusal (`Denied` for a file the gate does not allow for this slot,
    another `RegError` for a slot with no active model), or `SlotChanged`; a refusal of any one
    file refuses the model, so nothing partial reaches the runtime.
    """
    record = registry.show(slot=slot)
    spec = f"{record.name}@{record.version}"
    files: list[LoadedFile] = []
    for artifact in record.artifacts:
        # The slot scopes each decision: bytes of any other model, even an approved one, are
        # refused here.
        with registry.open_verified(model_dir / artifact.path, slot=slot) as f:
            data = f.read()
            if f.decision.model != spec:
                # The slot moved to another model between show() and the gate: the files
                # would mix two models.
                raise SlotChanged(slot, spec, f.decision.model)
            if f.decision.hash != artifact.blake3:
                # Bytes of this model, but another of its files (its config where its weights
                # belong): the gate vouches for the bytes, the loader for where they go.
                raise MisplacedArtifact(artifact.path, artifact.blake3, f.decision.hash)
            files.append(LoadedFile(artifact.path, data, f.decision.hash or ""))
    return LoadedModel(slot, spec, tuple(files))


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the loader; returns the process's exit code."""
    parser = argparse.ArgumentParser(
        description="Load the active model of a slot through reg's load gate (runs no model)."
    )
    parser.add_argument("slot", help="the slot whose active model to load")
    parser.add_argument("model_dir", type=Path, help="the directory holding the model's files")
    parser.add_argument("--registry", help="the registry (default: REG_DIR, else a parent)")
    args = parser.parse_args(argv)
    try:
        registry = Registry.open(args.registry)
        model = load_active_model(registry, args.slot, args.model_dir)
    except RegError as e:
        print(f"error: {e.message}", file=sys.stderr)
        if e.hint:
            print(f"hint: {e.hint}", file=sys.stderr)
        return e.exit_code
    except SlotChanged as e:
        print(f"error: {e}", file=sys.stderr)
        print("hint: load again: the slot now names another model", file=sys.stderr)
        return 1
    except MisplacedArtifact as e:
        print(f"error: {e}", file=sys.stderr)
        print("hint: the model directory was altered: restore it from the bundle "
              "(`reg checkout`)", file=sys.stderr)
        return 1
    for f in model.files:
        print(f"verified {f.path}: {len(f.data)} bytes, blake3 {f.blake3}")
    total = sum(len(f.data) for f in model.files)
    print(f"ready: {model.model}, active in slot `{model.slot}`: {len(model.files)} file(s), "
          f"{total} bytes (no model was run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
