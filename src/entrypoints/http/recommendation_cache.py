"""Cached recommendation lists: one Redis entry per caller scope and query, retired by a generation counter.

A scoring run or a decision on an offer advances the counter (`ChangeNotice`), so no list older than the
data is ever served; entries also expire after a minute. Each entry carries the generation it was computed
under, and one MGET reads the counter and the entry together: an entry of another generation is a miss
(and is overwritten). The caller's org scope is part of the key, so two callers with different grants
never share an entry. Without Redis the list is computed every time.
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

__all__ = ["GENERATION_KEY", "cache_key", "cached_page", "page_of", "stamped"]

# Cache keys are relative to the cache's namespace (`xsell:`); the provider bumps the same key.
GENERATION_KEY = "cache:recommendations:generation"
_TTL_SECONDS = 60
_log = logging.getLogger("xsell.http")


def cache_key(query: RecommendationQuery, paging: dict[str, Any]) -> str:
    # The query holds the caller's org scope (`readable`, None for admins) with every filter.
    fields = {**{f.name: getattr(query, f.name) for f in dataclasses.fields(query)}, **paging}
    described = {k: sorted(map(str, v)) if isinstance(v, frozenset) else v for k, v in fields.items()}
    digest = hashlib.sha256(json.dumps(described, sort_keys=True, default=str).encode()).hexdigest()
    return f"cache:recommendations:page:{digest}"


def stamped(generation: bytes | None, page: bytes) -> bytes:
    """The stored entry: the generation the page was computed under, a newline, the page's JSON."""
    return (generation or b"0") + b"\n" + page


def page_of(entry: bytes | None, generation: bytes | None) -> bytes | None:
    """The page's JSON when `entry` was computed under `generation`, else None (a miss)."""
    if entry is None:
        return None
    stamp, separator, page = entry.partition(b"\n")
    return page if separator and stamp == (generation or b"0") else None


async def cached_page(
    cache: Cache,
    query: RecommendationQuery,
    paging: dict[str, Any],
    compute: Callable[[], Awaitable[RecommendationPage]],
) -> bytes:
    """The page (`paging`: limit and cursor) of `query` as JSON, from the cache when it holds the current
    one. The cached bytes are the answer as they are: a hit decodes and encodes nothing."""
    key = cache_key(query, paging)
    try:
        generation, entry = await cache.get_many([GENERATION_KEY, key])
    except (RedisError, OSError) as exc:
        _log.warning("recommendation cache unavailable, answering uncached: %s", type(exc).__name__)
        return msgspec.json.encode(await compute())
    hit = page_of(entry, generation)
    if hit is not None:
        return hit
    # Stamped with the generation read before computing: a change landing meanwhile retires it.
    page = msgspec.json.encode(await compute())
    try:
        await cache.set_many({key: stamped(generation, page)}, ttl_seconds=_TTL_SECONDS)
    except (RedisError, OSError) as exc:
        _log.warning("recommendation cache not written: %s", type(exc).__name__)
    return page
