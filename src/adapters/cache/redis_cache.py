"""Cache port on Redis: MGET for reads, one pipeline for writes, and a readiness probe."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from adapters.observability.metrics import xsell_metrics
from adapters.observability.tracing import client_span
from application.errors import DependencyUnavailableError

__all__ = ["RedisCache", "RedisGeneration", "RedisProbe", "create_redis"]


def create_redis(redis_url: str) -> Redis:
    """A client with timeouts on connect and on every command, so a dead Redis fails fast."""
    return Redis.from_url(  # type: ignore[no-any-return]
        redis_url,
        socket_connect_timeout=3,
        socket_timeout=5,
        health_check_interval=30,
        retry_on_timeout=False,
    )


_log = logging.getLogger("xsell.cache")


class RedisCache:
    def __init__(self, client: Redis, namespace: str = "xsell") -> None:
        self._client = client
        self._prefix = f"{namespace}:"

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        with client_span("redis MGET", system="redis", operation="MGET"):
            values = list(await self._client.mget([self._prefix + key for key in keys]))
        hits = sum(1 for value in values if value is not None)
        requests = xsell_metrics().cache_requests
        if hits:
            requests.labels(result="hit").inc(hits)
        if len(values) > hits:
            requests.labels(result="miss").inc(len(values) - hits)
        return values

    async def set_many(self, values: Mapping[str, bytes], ttl_seconds: int | None = None) -> None:
        if not values:
            return
        with client_span("redis SET", system="redis", operation="SET"):
            async with self._client.pipeline(transaction=False) as pipe:
                for key, value in values.items():
                    pipe.set(self._prefix + key, value, ex=ttl_seconds)
                await pipe.execute()

    async def delete(self, keys: Sequence[str]) -> int:
        if not keys:
            return 0
        with client_span("redis DEL", system="redis", operation="DEL"):
            return int(await self._client.delete(*[self._prefix + key for key in keys]))


class RedisProbe:
    name = "redis"

    def __init__(self, client: Redis) -> None:
        self._client = client

    async def check(self) -> None:
        try:
            await self._client.ping()
        except (RedisError, OSError) as exc:
            raise DependencyUnavailableError(f"Redis does not answer: {type(exc).__name__}") from exc


class RedisGeneration:
    """A counter readers put into their cache keys; `changed` moves it on, so older entries are never read
    again (they expire by their TTL). Shared by every process through Redis."""

    def __init__(self, client: Redis, key: str) -> None:
        self._client = client
        self._key = key

    async def current(self) -> str | None:
        """The counter now ("0" before the first change); None when Redis cannot be read."""
        try:
            value = await self._client.get(self._key)
        except (RedisError, OSError) as exc:
            _log.debug("cache generation %s not read: %s", self._key, type(exc).__name__)
            return None
        return "0" if value is None else bytes(value).decode()

    async def changed(self) -> None:
        try:
            await self._client.incr(self._key)
        except (RedisError, OSError) as exc:
            _log.warning("cache generation %s not advanced: %s", self._key, type(exc).__name__)
