"""Stopping a server process by pid: a polite signal first, SIGKILL if it does not exit in time."""

from __future__ import annotations

import contextlib
import logging
import os
import signal

import psutil

__all__ = ["stop_process"]

_log = logging.getLogger(__name__)


def stop_process(pid: int, polite: signal.Signals, timeout: float) -> None:
    """Send `polite`, wait up to `timeout` seconds, then kill. A process already gone is fine."""
    try:
        process = psutil.Process(pid)
        os.kill(pid, polite)
        process.wait(timeout)
    except psutil.TimeoutExpired:
        _log.warning("process did not stop in time; killing it", extra={"pid": pid})
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    except (psutil.NoSuchProcess, ProcessLookupError):
        pass
