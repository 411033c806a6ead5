"""`make bench`: runs each bench_*.py `run()`; prints one table: stage, figure, baseline, ratio, machine."""

from __future__ import annotations

import importlib
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _machine() -> tuple[str, str]:
    """(long description for the heading, short one for each row)."""
    cpu = platform.processor() or platform.machine()
    generation = ""
    try:
        pairs = (line.partition(":") for line in Path("/proc/cpuinfo").read_text().splitlines())
        wanted = ("model name", "cpu family", "model")
        info = {key.strip(): value.strip() for key, _, value in pairs if key.strip() in wanted}
    except OSError:
        info = {}
    cpu = info.get("model name", cpu)
    if "cpu family" in info:
        # Machines of one name differ (an "AMD EPYC" of family 26 runs this code about 3x faster than an
        # older one): the heading names the generation so figures of different runs are not mixed up.
        generation = f" (CPU family {info['cpu family']}, model {info.get('model', '?')})"
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cores = os.cpu_count() or 1
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores  # Linux only
    # A run pinned to fewer CPUs than the machine has (taskset, a container's cpuset) says so in every row.
    pinned = f" ({usable} usable by this run)" if usable < cores else ""
    long = f"{cpu}{generation}, {cores} cores{pinned}, {memory:.0f} GiB, Python {platform.python_version()}"
    short = f"{' '.join(cpu.split()[:2])}, {cores} cores{pinned}, {memory:.0f} GiB"
    return long, short


def main() -> None:
    selected = sys.argv[1:]
    modules = sorted(path.stem for path in HERE.glob("bench_*.py"))
    if selected:
        modules = [name for name in modules if any(s in name for s in selected)]
    machine, machine_short = _machine()
    rows: list[dict[str, object]] = []
    for name in modules:
        started = time.monotonic()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        module = importlib.import_module(f"bench.{name}")
        rows += module.run()
        print(f"  done in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    header = ("stage", "figure", "baseline", "ratio", "machine")
    table = [
        header,
        *[
            (str(r["stage"]), str(r["figure"]), str(r["baseline"]), f"{r['ratio']:.2f}x", machine_short)
            for r in rows
        ],
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    print(f"\nxsell benchmarks, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, on {machine}\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in table[1:]:
        print("| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |")


if __name__ == "__main__":
    main()
