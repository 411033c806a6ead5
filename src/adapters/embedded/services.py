"""Resolves where PostgreSQL and Redis are: the configured URLs, or embedded servers started on demand."""

from __future__ import annotations

import json
import logging
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from adapters.embedded.postgres import EmbeddedPostgres
from adapters.embedded.redis import EmbeddedRedis
from adapters.embedded.watchdog import spawn_watchdog

__all__ = ["PID_FILE", "ServiceUrls", "running_services"]

_log = logging.getLogger(__name__)


# Which processes serve this data folder right now; operators and tests use it to find leftovers.
PID_FILE = "embedded.pids.json"


def _write_pid_file(
    data_dir: Path,
    postgres: EmbeddedPostgres | None,
    redis: EmbeddedRedis | None,
    watchdog: subprocess.Popen[bytes],
) -> None:
    pids = {
        "owner": os.getpid(),
        "postgres": postgres.pid if postgres else None,
        "redis": redis.pid if redis else None,
        "watchdog": watchdog.pid,
    }
    (data_dir / PID_FILE).write_text(json.dumps(pids))


@dataclass(frozen=True)
class ServiceUrls:
    database_url: str
    redis_url: str
    embedded_postgres: bool
    embedded_redis: bool
    server_pids: tuple[int, ...] = ()  # of the embedded servers this block started


@contextmanager
def running_services(
    database_url: str | None, redis_url: str | None, data_dir: Path
) -> Iterator[ServiceUrls]:
    """Yield usable URLs, starting embedded servers for whichever URL is missing.

    The servers stop when the block exits, whether normally, by KeyboardInterrupt or by an exception;
    a watchdog process stops them if this process is killed outright.
    Raises EmbeddedServiceError when an embedded server cannot start.
    """
    postgres = EmbeddedPostgres(data_dir) if database_url is None else None
    redis = EmbeddedRedis(data_dir) if redis_url is None else None
    watchdog: subprocess.Popen[bytes] | None = None
    try:
        if postgres is not None:
            database_url = postgres.start()
        if redis is not None:
            redis_url = redis.start()
        if postgres is not None or redis is not None:
            watchdog = spawn_watchdog(
                os.getpid(), postgres.pid if postgres else None, redis.pid if redis else None
            )
            _write_pid_file(data_dir, postgres, redis, watchdog)
        assert database_url is not None and redis_url is not None
        pids = tuple(pid for pid in (postgres.pid if postgres else None, redis.pid if redis else None) if pid)
        yield ServiceUrls(database_url, redis_url, postgres is not None, redis is not None, pids)
    finally:
        for server in (redis, postgres):
            if server is not None:
                try:
                    server.stop()
                except Exception:
                    _log.exception("could not stop an embedded server cleanly")
        if watchdog is not None:
            watchdog.terminate()
            watchdog.wait(5)
            (data_dir / PID_FILE).unlink(missing_ok=True)
