"""The Redis clients of a process: one for data xsell can lose, one for what must survive.

`Redis` is the cache's (XSELL_CACHE_REDIS_URL, else REDIS_URL): cache entries, rate-limit counts and the
versions that retire them, all read and written on the request path. `QueueRedis` is REDIS_URL's: the
online features (the job broker makes its own connections to the same URL). With one Redis for both,
they are two pools on the same server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import NewType

from dishka import Provider, Scope, provide
from redis.asyncio import Redis

from adapters.cache.redis_cache import create_cache_redis, create_redis
from entrypoints.settings import Settings, cache_redis_url, queue_redis_url

__all__ = ["QueueRedis", "RedisProvider"]

QueueRedis = NewType("QueueRedis", Redis)


class RedisProvider(Provider):
    scope = Scope.APP

    @provide
    async def cache_client(self, settings: Settings) -> AsyncIterator[Redis]:
        client = create_cache_redis(cache_redis_url(settings))
        yield client
        await client.aclose()

    @provide
    async def queue_client(self, settings: Settings) -> AsyncIterator[QueueRedis]:
        client = create_redis(queue_redis_url(settings))
        yield QueueRedis(client)
        await client.aclose()
