"""A process forked from a loader gates as its parent does, and never hangs.

Pre-forking servers (``gunicorn --preload``) and multiprocessing's ``fork`` start method (the
default on Linux before Python 3.14) fork a process that has already gated files: the hashing
pool's threads do not exist in the child, so a child that used that pool would wait forever
(src/util/parallel.rs). Each child here must answer within the deadline, as its parent did.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path
from typing import Any

from conftest import Site

from reg_governance import Registry

DEADLINE = 60.0


def big_file(site: Site) -> Path:
    """16 MiB of no model: large enough that the gate hashes it on every core."""
    path = site.work / "fork-big.bin"
    with open(path, "wb") as f:
        f.write(bytes(range(256)) * (16 * 4096))
    return path


def test_a_forked_child_gates_as_its_parent_did(site: Site, registry: Any) -> None:
    big = big_file(site)
    expected = registry.check(big).to_dict()  # the parent uses the pool first
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer, then leave without running the parent's cleanups
        try:
            os.close(read_end)
            code = registry.check(big).code
            try:
                registry.open_verified(big)
            except Exception as e:  # Denied: the file is no model's
                code += "/" + type(e).__name__
            os.write(write_end, code.encode())
        finally:
            os._exit(0)
    os.close(write_end)
    start = time.monotonic()
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if time.monotonic() - start > DEADLINE:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError("the forked child hung in the gate")
        time.sleep(0.05)
    answer = os.read(read_end, 100).decode()
    os.close(read_end)
    assert answer == f"{expected['code']}/Denied"


def _check(args: tuple[str, str]) -> str:
    registry, path = args
    return str(Registry.open(registry).check(path).code)


def test_a_fork_pool_of_loaders_answers(site: Site, registry: Any) -> None:
    big = big_file(site)
    expected = registry.check(big).code  # the parent uses the pool first
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as pool:
        result = pool.map_async(_check, [(str(site.registry), str(big))] * 4)
        assert result.get(timeout=DEADLINE) == [expected] * 4
