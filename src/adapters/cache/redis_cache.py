"""Cache port on Redis: MGET for reads, one pipeline for writes, and a readiness probe."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import NoScriptError, RedisError
from redis.typing import EncodableT

from adapters.observability.metrics import xsell_metrics
from adapters.observability.tracing import client_span
from application.errors import DependencyUnavailableError

__all__ = [
    "COMMAND_TIMEOUT_S",
    "VERSION_OF",
    "LuaScript",
    "RedisCache",
    "RedisGeneration",
    "RedisProbe",
    "bounded",
    "create_cache_redis",
    "create_redis",
    "pooled_command",
]

# A Lua function for scripts that read a version counter. A counter that is not there (never moved, or
# lost with a cache Redis that restarted empty) starts from the server's clock in microseconds, not from
# 0: a reader holding something checked under an earlier value never sees that value come back.
VERSION_OF = """
local function version_of(key)
  local value = redis.call('GET', key)
  if not value then
    local now = redis.call('TIME')
    value = now[1] .. string.format('%06d', tonumber(now[2]))
    redis.call('SET', key, value)
  end
  return value
end
"""


COMMAND_TIMEOUT_S = 5.0


def create_redis(redis_url: str) -> Redis:
    """A client with timeouts on connect and on every socket read and write, so a dead Redis fails fast."""
    return Redis.from_url(  # type: ignore[no-any-return]
        redis_url,
        socket_connect_timeout=3,
        socket_timeout=COMMAND_TIMEOUT_S,
        health_check_interval=30,
        retry_on_timeout=False,
    )


class _UnpolledPool(ConnectionPool):
    """redis-py's pool without the poll of every connection it hands out. The poll reads the socket with
    a zero timeout to find a reply nobody read, an event-loop turn per command; but redis-py drops the
    connection whenever a command fails or is cancelled before its reply is read (timeouts included), so
    a pooled connection holds no such reply (tests/integration/test_redis_cache_client.py)."""

    async def ensure_connection(self, connection: AbstractConnection) -> None:
        await connection.connect()  # type: ignore[no-untyped-call]


def create_cache_redis(redis_url: str) -> Redis:
    """The client for the classes of this package, which the API calls on every request. No socket
    timeouts: for them redis-py runs each send in a task of its own and puts a timer on each read; with
    requests arriving one by one, those extra event-loop turns (and the pool's poll) doubled the cost of
    a request. Each call through this package has one deadline of COMMAND_TIMEOUT_S instead (`bounded`),
    so a dead Redis still fails fast; use this client nowhere else."""
    pool = _UnpolledPool.from_url(
        redis_url,
        socket_connect_timeout=3,
        socket_timeout=None,
        health_check_interval=30,
        retry_on_timeout=False,
    )
    return Redis.from_pool(pool)


def bounded() -> asyncio.Timeout:
    """The deadline of one call to Redis: TimeoutError (an OSError, which every caller handles as a
    Redis that does not answer) after COMMAND_TIMEOUT_S."""
    return asyncio.timeout(COMMAND_TIMEOUT_S)


_log = logging.getLogger("xsell.cache")


async def pooled_command(client: Redis, *args: EncodableT) -> Any:
    """One command on a connection taken straight from `client`'s pool, its reply as Redis gave it (no
    response callback). redis-py's `execute_command` adds a retry wrapper, option parsing and typing
    checks to every call, which were 40% of the cost of the API's admission step; the hot paths of this
    package (the admission script, the list cache's MGET and SET) go through here instead. Errors are
    redis-py's own: a connection that fails, or is cut off before its reply (a `bounded` deadline), is
    closed by redis-py and reconnects on its next use."""
    pool = client.connection_pool
    connection = pool.get_available_connection()  # type: ignore[no-untyped-call]
    try:
        await pool.ensure_connection(connection)
        await connection.send_packed_command(connection.pack_command(*args))
        return await connection.read_response()
    finally:
        await pool.release(connection)


class LuaScript:
    """A Lua script, run by EVALSHA (`pooled_command`), and by EVAL once when Redis does not know it
    yet (after a restart or a SCRIPT FLUSH), which also loads it for the next EVALSHA."""

    def __init__(self, client: Redis, source: str) -> None:
        self._client = client
        self._source = source
        self._sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()

    async def __call__(self, keys: Sequence[str], args: Sequence[EncodableT] = ()) -> Any:
        try:
            return await pooled_command(self._client, "EVALSHA", self._sha, len(keys), *keys, *args)
        except NoScriptError:
            return await pooled_command(self._client, "EVAL", self._source, len(keys), *keys, *args)


class RedisCache:
    def __init__(self, client: Redis, namespace: str = "xsell") -> None:
        self._client = client
        self._prefix = f"{namespace}:"

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        with client_span("redis MGET", system="redis", operation="MGET"):
            async with bounded():
                values = list(
                    await pooled_command(self._client, "MGET", *[self._prefix + key for key in keys])
                )
        hits = sum(1 for value in values if value is not None)
        metrics = xsell_metrics()
        if hits:
            metrics.cache_hits.inc(hits)
        if len(values) > hits:
            metrics.cache_misses.inc(len(values) - hits)
        return values

    async def set_many(self, values: Mapping[str, bytes], ttl_seconds: int | None = None) -> None:
        if not values:
            return
        with client_span("redis SET", system="redis", operation="SET"):
            if len(values) == 1:  # the list cache's one page: no pipeline to build
                [(key, value)] = values.items()
                expiry = ("EX", ttl_seconds) if ttl_seconds is not None else ()
                async with bounded():
                    await pooled_command(self._client, "SET", self._prefix + key, value, *expiry)
                return
            async with bounded(), self._client.pipeline(transaction=False) as pipe:
                for key, value in values.items():
                    pipe.set(self._prefix + key, value, ex=ttl_seconds)
                await pipe.execute()

    async def delete(self, keys: Sequence[str]) -> int:
        if not keys:
            return 0
        with client_span("redis DEL", system="redis", operation="DEL"):
            async with bounded():
                return int(await self._client.delete(*[self._prefix + key for key in keys]))


class RedisProbe:
    def __init__(self, client: Redis, name: str = "redis") -> None:
        self._client = client
        self.name = name

    async def check(self) -> None:
        try:
            async with bounded():
                await self._client.ping()
        except (RedisError, OSError) as exc:
            raise DependencyUnavailableError(f"Redis does not answer: {type(exc).__name__}") from exc


class RedisGeneration:
    """A counter readers put into their cache keys; `changed` moves it on, so older entries are never read
    again (they expire by their TTL). Shared by every process through Redis."""

    def __init__(self, client: Redis, key: str) -> None:
        self._read = LuaScript(client, VERSION_OF + "return version_of(KEYS[1])")
        self._move = LuaScript(client, VERSION_OF + "version_of(KEYS[1]) return redis.call('INCR', KEYS[1])")
        self._key = key

    async def current(self) -> str | None:
        """The counter now (see `VERSION_OF` for its first value); None when Redis cannot be read."""
        try:
            async with bounded():
                value = await self._read([self._key])
        except (RedisError, OSError) as exc:
            _log.debug("cache generation %s not read: %s", self._key, type(exc).__name__)
            return None
        return bytes(value).decode()

    async def changed(self) -> None:
        try:
            async with bounded():
                await self._move([self._key])
        except (RedisError, OSError) as exc:
            _log.warning("cache generation %s not advanced: %s", self._key, type(exc).__name__)
