"""How much CPU this machine gives when every core is busy: the yardstick for the other rows.

Every other bench runs several processes at once (the API and its load generator; the sync, the fake
Salesforce and PostgreSQL), so what they can reach depends on how much work the machine does with all its
cores busy, not on how many cores it reports. On a shared virtual machine the two can differ a lot.

The same pure-Python loop runs in one process alone, then in one process per reported core at the same
time; the ratio is the work done per second with every core busy over the work done by one process alone
(2.0 on two real cores). The bench's processes use the CPUs this process may use (its affinity, which
children inherit), and the row says which: a command started pinned to one CPU measures one. Three rounds
alternate the two; the row gives the median of each, and the slowest and fastest single run, which show
how much the machine's speed moved meanwhile.

    python -m bench machine
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time

LOOP = 20_000_000
ROUNDS = 3


def _spin(_: int) -> float:
    started = time.perf_counter()
    total = 0
    for number in range(LOOP):
        total += number
    return time.perf_counter() - started


def run() -> list[dict[str, object]]:
    cores = os.cpu_count() or 1
    # Affinity is Linux's; elsewhere every core is taken to be usable.
    usable = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(cores))
    context = multiprocessing.get_context("spawn")
    alone: list[float] = []
    together: list[float] = []  # wall time until the last of `cores` loops ends
    with context.Pool(cores) as pool:
        pool.map(_spin, range(cores))  # start-up and warm-up, not measured
        for _ in range(ROUNDS):
            alone.append(pool.apply(_spin, (0,)))
            started = time.perf_counter()
            pool.map(_spin, range(cores), chunksize=1)
            together.append(time.perf_counter() - started)
    solo, busy = statistics.median(alone), statistics.median(together)
    effective = cores * solo / busy
    return [
        {
            "stage": f"machine: {cores} busy processes against 1 (the same Python loop, median of {ROUNDS};"
            f" CPUs usable by this run: {','.join(map(str, usable))} of {cores})",
            "figure": f"{effective:.2f} cores' worth of work ({cores} loops in {busy:.1f} s;"
            f" runs took {min(together):.1f}-{max(together):.1f} s)",
            "baseline": f"1 loop alone: {solo:.1f} s (runs took {min(alone):.1f}-{max(alone):.1f} s)",
            "ratio": effective,
        }
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
