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
from adapters.embedded.redis import CACHE, QUEUE, EmbeddedRedis
from adapters.embedded.watchdog import spawn_watchdog

__all__ = ["PID_FILE", "ServiceUrls", "running_services"]

_log = logging.getLogger(__name__)


# Which processes serve this data folder right now; operators and tests use it to find leftovers.
PID_FILE = "embedded.pids.json"


def _write_pid_file(
    data_dir: Path,
    postgres: EmbeddedPostgres | None,
    redis: EmbeddedRedis | None,
    cache: EmbeddedRedis | None,
    watchdog: subprocess.Popen[bytes],
) -> None:
    pids = {
        "owner": os.getpid(),
        "postgres": postgres.pid if postgres else None,
        "redis": redis.pid if redis else None,
        "redis_cache": cache.pid if cache else None,
        "watchdog": watchdog.pid,
    }
    (data_dir / PID_FILE).write_text(json.dumps(pids))


@dataclass(frozen=True)
class ServiceUrls:
    database_url: str
    redis_url: str
    embedded_postgres: bool
    embedded_redis: bool
    server_pids: tuple[int, ...] = ()  # of the embedded servers this block started, PostgreSQL first
    cache_redis_url: str = ""  # the Redis for cache and rate limits (redis_url when there is one Redis)


@contextmanager
def running_services(
    database_url: str | None, redis_url: str | None, data_dir: Path, cache_redis_url: str | None = None
) -> Iterator[ServiceUrls]:
    """Yield usable URLs, starting embedded servers for whichever URL is missing.

    Without `redis_url`, the embedded Redis for jobs comes with a second one, without persistence, for
    the cache and rate limits (unless `cache_redis_url` names one). With `redis_url` and no
    `cache_redis_url`, that one Redis serves both.
    The servers stop when the block exits, whether normally, by KeyboardInterrupt or by an exception;
    a watchdog process stops them if this process is killed outright.
    Raises EmbeddedServiceError when an embedded server cannot start.
    """
    postgres = EmbeddedPostgres(data_dir) if database_url is None else None
    redis = EmbeddedRedis(data_dir, QUEUE) if redis_url is None else None
    cache = EmbeddedRedis(data_dir, CACHE) if redis_url is None and cache_redis_url is None else None
    watchdog: subprocess.Popen[bytes] | None = None
    try:
        if postgres is not None:
            database_url = postgres.start()
        if redis is not None:
            redis_url = redis.start()
        if cache is not None:
            cache_redis_url = cache.start()
        servers = [server for server in (postgres, redis, cache) if server is not None]
        pids = tuple(server.pid for server in servers if server.pid)
        if servers:
            watchdog = spawn_watchdog(
                os.getpid(),
                postgres.pid if postgres else None,
                [r.pid for r in (redis, cache) if r and r.pid],
            )
            _write_pid_file(data_dir, postgres, redis, cache, watchdog)
        assert database_url is not None and redis_url is not None
        yield ServiceUrls(
            database_url,
            redis_url,
            postgres is not None,
            redis is not None,
            pids,
            cache_redis_url or redis_url,
        )
    finally:
        for server in (cache, redis, postgres):
            if server is not None:
                try:
                    server.stop()
                except Exception:
                    _log.exception("could not stop an embedded server cleanly")
        if watchdog is not None:
            watchdog.terminate()
            watchdog.wait(5)
            (data_dir / PID_FILE).unlink(missing_ok=True)
