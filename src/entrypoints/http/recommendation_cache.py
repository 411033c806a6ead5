"""Cached recommendation lists: one Redis entry per caller scope and query, retired by a generation counter.

A scoring run or a decision on an offer advances the counter (`ChangeNotice`), so no list older than the
data is ever served; entries also expire after a minute. The caller's org scope is part of the key, so
two callers with different grants never share an entry. Without Redis the list is computed every time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from redis.exceptions import RedisError

from application.models.recommendation_query import RecommendationQuery
from application.ports.cache import Cache
from entrypoints.http.recommendation_schemas import RecommendationPage

__all__ = ["GENERATION_KEY", "cache_key", "cached_page"]

# Cache keys are relative to the cache's namespace (`xsell:`); the provider bumps the same key.
GENERATION_KEY = "cache:recommendations:generation"
_TTL_SECONDS = 60
_log = logging.getLogger("xsell.http")


def cache_key(generation: bytes | None, query: RecommendationQuery, paging: dict[str, Any]) -> str:
    # The query holds the caller's org scope (`readable`, None for admins) with every filter.
    fields = {**{f.name: getattr(query, f.name) for f in dataclasses.fields(query)}, **paging}
    described = {k: sorted(map(str, v)) if isinstance(v, frozenset) else v for k, v in fields.items()}
    digest = hashlib.sha256(json.dumps(described, sort_keys=True, default=str).encode()).hexdigest()
    return f"cache:recommendations:{(generation or b'0').decode()}:{digest}"


async def cached_page(
    cache: Cache,
    query: RecommendationQuery,
    paging: dict[str, Any],
    compute: Callable[[], Awaitable[RecommendationPage]],
) -> bytes:
    """The page (`paging`: limit and cursor) of `query` as JSON, from the cache when it holds the current
    one. The cached bytes are the answer as they are: a hit decodes and encodes nothing."""
    try:
        (generation,) = await cache.get_many([GENERATION_KEY])
        key = cache_key(generation, query, paging)
        (hit,) = await cache.get_many([key])
    except (RedisError, OSError) as exc:
        _log.warning("recommendation cache unavailable, answering uncached: %s", type(exc).__name__)
        return msgspec.json.encode(await compute())
    if hit is not None:
        return hit
    page = msgspec.json.encode(await compute())
    try:
        await cache.set_many({key: page}, ttl_seconds=_TTL_SECONDS)
    except (RedisError, OSError) as exc:
        _log.warning("recommendation cache not written: %s", type(exc).__name__)
    return page
