"""Threads gate files at once: every decision is right, and hashing releases the GIL.

A model server loads several files in parallel; each `check` and `open_verified` must decide
as it would alone, and a long hash in one thread must not stop the interpreter's other threads
(measured: the other thread's loop keeps running while the hash is in progress).
"""

from __future__ import annotations

import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import pytest
from conftest import ACTIVE, FILES, NEWER, REVOKED, SLOT, Site, writable

from reg_governance import Denied, Registry

BIG_MIB = 256


@pytest.fixture(autouse=True)
def remove_big_files(site: Site) -> Iterator[None]:
    """pytest keeps the last runs' directories: these tests' large files go at once."""
    yield
    writable(site.work)
    shutil.rmtree(site.work)


def big_file(site: Site) -> Path:
    """A large file of no model (the gate hashes all of it before it says no)."""
    path = site.work / "big.bin"
    chunk = bytes(range(256)) * 4096  # 1 MiB
    with open(path, "wb") as f:
        for i in range(BIG_MIB):
            f.write(i.to_bytes(4, "little") + chunk[4:])
    return path


def test_two_threads_gating_at_once_both_decide_right(site: Site, registry: Any) -> None:
    allowed, denied = site.file(ACTIVE), site.file(NEWER)
    expected = {
        str(allowed): registry.check(allowed, slot=SLOT).to_dict(),
        str(denied): registry.check(denied, slot=SLOT).to_dict(),
    }
    barrier = threading.Barrier(2)

    def gate(path: Path) -> list[Any]:
        out = []
        for _ in range(20):
            barrier.wait(timeout=30)
            out.append(registry.check(path, slot=SLOT).to_dict())
            try:
                with registry.open_verified(path, slot=SLOT) as f:
                    out.append(("read", f.read()))
            except Denied as e:
                assert e.decision is not None
                out.append(("denied", e.decision.code))
        return out

    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(gate, [allowed, denied])
    data = FILES[ACTIVE][list(FILES[ACTIVE])[0]]
    assert a == [expected[str(allowed)], ("read", data)] * 20
    assert b == [expected[str(denied)], ("denied", "out-of-scope")] * 20


def test_many_threads_one_registry_each_and_shared(site: Site) -> None:
    files = [site.file(ACTIVE, 0), site.file(ACTIVE, 1), site.file(NEWER), site.file(REVOKED), site.unknown]
    shared = Registry.open(site.registry)
    expected = [shared.check(p).to_dict() for p in files]

    def work(i: int) -> list[Any]:
        r = shared if i % 2 else Registry.open(site.registry)
        return [r.check(p).to_dict() for p in files]

    with ThreadPoolExecutor(8) as pool:
        for got in pool.map(work, range(16)):
            assert got == expected


def test_hashing_releases_the_gil(site: Site, registry: Any) -> None:
    big = big_file(site)
    while True:
        registry.check(big)  # warm the page cache
        t0 = time.perf_counter()
        d = registry.check(big)
        alone = time.perf_counter() - t0
        # A hash long enough to tell a held GIL from the 5 ms switch interval; a faster
        # machine gets a bigger file (up to 2 GiB).
        size = big.stat().st_size
        if alone >= 0.1 or size >= 2 << 30:
            break
        with open(big, "ab") as f, open(big, "rb") as g:
            for _ in range(size >> 20):
                f.write(g.read(1 << 20))
    assert not d.allowed and d.code == "not-registered"

    done = threading.Event()
    durations: list[float] = []

    def gate() -> None:
        for _ in range(3):
            t = time.perf_counter()
            registry.check(big)
            durations.append(time.perf_counter() - t)
        done.set()

    worker = threading.Thread(target=gate)
    # The other thread: pure Python, counting its iterations and the longest pause between two.
    iterations, longest, last = 0, 0.0, time.perf_counter()
    worker.start()
    while not done.is_set():
        now = time.perf_counter()
        longest = max(longest, now - last)
        last = now
        iterations += 1
    worker.join()
    total = sum(durations)
    # Held for the whole hash, the GIL would stop this loop for about one hash at a time; the
    # switch interval is 5 ms, so a released GIL leaves pauses far below one hash.
    print(f"hash of {big.stat().st_size >> 20} MiB: alone {alone:.3f} s, beside Python {durations}, longest pause {longest:.4f} s")
    assert min(durations) > 0.05, f"the hash is too quick to measure: {durations}"
    assert longest < min(durations) / 2, (
        f"the Python thread stopped for {longest:.3f} s during hashes of {durations} s "
        f"(alone {alone:.3f} s): the GIL is held while hashing"
    )
    assert iterations > 1000 * total, (iterations, total)


def test_open_verified_releases_the_gil(site: Site, registry: Any) -> None:
    """The private copy is made outside the GIL too: a big artifact of a PROMOTED model is
    hashed and copied while another thread keeps running."""
    model = site.work / "big-model"
    model.mkdir()
    big = big_file(site).rename(model / "weights.bin")
    site.cli(
        "bundle", "pack", str(model), "-o", "big.tar", "--key", "keys/publisher.pem",
        "--name", "big", "--version", "1.0.0", "--type", "LLM", "--use", "generation",
        "--description", "a big model",
    )
    site.cli("add", "big.tar", "--key", "keys/operator.pem")
    site.cli("promote", "big@1.0.0", "--reason", "ok", "--key", "keys/operator.pem")
    registry = Registry.open(site.registry)
    done = threading.Event()
    durations: list[float] = []
    sizes: list[int] = []

    def gate() -> None:
        for _ in range(2):
            t = time.perf_counter()
            with registry.open_verified(big, model="big@1.0.0") as f:
                durations.append(time.perf_counter() - t)
                sizes.append(f.seek(0, 2))
        done.set()

    worker = threading.Thread(target=gate)
    longest, last = 0.0, time.perf_counter()
    worker.start()
    while not done.is_set():
        now = time.perf_counter()
        longest = max(longest, now - last)
        last = now
    worker.join()
    assert sizes == [BIG_MIB << 20] * 2
    assert min(durations) > 0.05, durations
    assert longest < min(durations) / 2, (
        f"the Python thread stopped for {longest:.3f} s during open_verified calls of "
        f"{durations} s: the GIL is held while copying"
    )
