"""An embedded PostgreSQL from the pgserver package, kept under the data directory."""

from __future__ import annotations

import logging
import signal
import time
import warnings
from pathlib import Path

from adapters.embedded.processes import stop_process

__all__ = ["EmbeddedPostgres", "EmbeddedServiceError"]

_log = logging.getLogger(__name__)


class EmbeddedServiceError(RuntimeError):
    """An embedded server could not be started or stopped; the message says which and why."""


class EmbeddedPostgres:
    """Starts (or re-attaches to) PostgreSQL in `<data_dir>/postgres` and stops it on `stop()`.

    pgserver's own clean-up counts handles across processes and can leave the server running when a
    process dies; we stop the postmaster ourselves instead, by its pid, with PostgreSQL's fast shutdown.
    """

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "postgres").resolve()
        self.url: str | None = None
        self.pid: int | None = None

    def start(self) -> str:
        with warnings.catch_warnings():
            # pgserver asks platformdirs for a runtime dir at import; without XDG_RUNTIME_DIR (servers,
            # CI) platformdirs warns and falls back to /tmp, which is fine.
            warnings.simplefilter("ignore")
            from pgserver.postgres_server import get_server

        self.pgdata.mkdir(parents=True, exist_ok=True)
        logging.getLogger("pgserver").setLevel(logging.WARNING)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                server = get_server(self.pgdata, cleanup_mode=None)
        except Exception as exc:  # pgserver raises bare CalledProcessError/AssertionError
            raise EmbeddedServiceError(
                f"could not start the embedded PostgreSQL in {self.pgdata}: {exc}. "
                f"See {self.pgdata / 'log'} or set DATABASE_URL to use an external server."
            ) from exc
        self.url = server.get_uri()
        self.pid = server.get_pid()
        _log.debug("embedded PostgreSQL ready", extra={"pgdata": str(self.pgdata), "pid": self.pid})
        return self.url

    def stop(self, timeout: float = 15.0) -> None:
        """Fast shutdown (SIGINT: roll back open transactions, then exit); kill if it will not stop."""
        if self.pid is None:
            return
        pid, self.pid = self.pid, None
        stop_process(pid, signal.SIGINT, timeout)
        deadline = time.monotonic() + timeout
        while (self.pgdata / "postmaster.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
