"""A tiny guardian process: stops the embedded servers if the xsell process that owns them dies.

A parent that exits normally, on Ctrl-C or on an exception stops its servers itself. One that is killed
(SIGKILL, OOM killer) cannot; this process notices the parent is gone and stops them, so nothing is left
running in the background.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

import psutil

from adapters.embedded.processes import stop_process

__all__ = ["spawn_watchdog"]


def spawn_watchdog(
    parent_pid: int, postgres_pid: int | None, redis_pids: Sequence[int]
) -> subprocess.Popen[bytes]:
    """Start the guardian for these server pids; terminate it once you have stopped them yourself."""
    args = [sys.executable, "-m", "adapters.embedded.watchdog", "--parent", str(parent_pid)]
    if postgres_pid:
        args += ["--postgres", str(postgres_pid)]
    for redis_pid in redis_pids:
        args += ["--redis", str(redis_pid)]
    # Its own session, so a Ctrl-C aimed at the parent's terminal group does not kill the guardian first.
    return subprocess.Popen(args, start_new_session=True, stdin=subprocess.DEVNULL)  # noqa: S603


def _alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--postgres", type=int)
    parser.add_argument("--redis", type=int, action="append", default=[])
    options = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # the parent stopped its servers itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while _alive(options.parent):
        time.sleep(0.5)
    if options.postgres:
        stop_process(options.postgres, signal.SIGINT, 15)
    for redis_pid in options.redis:
        stop_process(redis_pid, signal.SIGTERM, 15)


if __name__ == "__main__":
    _main()
