"""Cached recommendation lists: one Redis entry per caller scope and query, retired by a generation counter.

A scoring run or a decision on an offer advances the counter (`ChangeNotice`), so no list older than the
data is ever served; entries also expire after a minute. Each entry carries the generation it was computed
under, and one MGET reads the counter and the entry together: an entry of another generation is a miss
(and is overwritten). The caller's org scope is part of the key, so two callers with different grants
never share an entry. Without Redis the list is computed every time.

Each process also keeps the lists it served lately (`LocalPages`), under the same keys and generations.
The admission step of every request (see `authenticated`) reads the counter with the rate-limit count, so
a list this process holds for the generation current at that moment is answered with no further round
trip; the rule is the one Redis entries follow: only the current generation is ever served. It also
remembers which page each raw request (the caller's org scope and the query string as sent) was answered
with: the same request from the same scope asks for the same page, so a repeat is answered before its
parameters are parsed and validated again (`_served_locally` in the route).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from redis.exceptions import RedisError

from adapters.observability.metrics import xsell_metrics
from application.models.recommendation_query import RecommendationQuery
from application.ports.cache import Cache

__all__ = [
    "GENERATION_KEY",
    "LOCAL_PAGES",
    "LocalPages",
    "RawRequest",
    "cache_key",
    "cached_page",
    "page_of",
    "stamped",
]

# Cache keys are relative to the cache's namespace (`xsell:`); the provider bumps the same key.
GENERATION_KEY = "cache:recommendations:generation"
_TTL_SECONDS = 60
LOCAL_PAGES = "recommendation_pages"  # where the app's state holds this process's LocalPages
_log = logging.getLogger("xsell.http")


# A caller's org scope (`Principal.read_scope`) and the query string exactly as it came.
RawRequest = tuple[frozenset[str] | None, bytes]
_MAX_REMEMBERED_QUERY = 2048


class LocalPages:
    """This process's copies of lists it served lately, all of one generation: the first sight of another
    generation (newer, or older after Redis lost its data) or of none (Redis unreachable, so nothing is
    known) drops every copy. At most `max_entries` and `max_bytes` of pages are kept; the least recently
    used go first."""

    def __init__(self, max_entries: int = 2_000, max_bytes: int = 64 * 1024 * 1024) -> None:
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._generation: str | None = None
        self._pages: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self._requests: OrderedDict[RawRequest, str] = OrderedDict()

    def _at(self, generation: str | None) -> None:
        if generation != self._generation:
            self._pages.clear()
            self._bytes = 0
            self._generation = generation

    def get(self, key: str, generation: str | None) -> bytes | None:
        """The page of `key` if it is held for `generation`, else None."""
        self._at(generation)
        page = self._pages.get(key) if generation is not None else None
        if page is not None:
            self._pages.move_to_end(key)
        return page

    def remember(self, request: RawRequest, key: str) -> None:
        """Note that `request`, once validated, was answered with the page of `key` (any generation). A
        query string longer than `_MAX_REMEMBERED_QUERY` bytes is not remembered: every list query of
        the dashboard and the documented filters fit, and the memory held stays bounded by count."""
        if len(request[1]) > _MAX_REMEMBERED_QUERY:
            return
        self._requests[request] = key
        self._requests.move_to_end(request)
        if len(self._requests) > self._max_entries:
            self._requests.popitem(last=False)

    def get_for(self, request: RawRequest, generation: str | None) -> bytes | None:
        """The page a remembered `request` was answered with, if it is held for `generation`, else None."""
        key = self._requests.get(request)
        return None if key is None else self.get(key, generation)

    def put(self, key: str, generation: str, page: bytes) -> None:
        self._at(generation)
        if len(page) > self._max_bytes:
            return
        old = self._pages.pop(key, None)
        if old is not None:
            self._bytes -= len(old)
        self._pages[key] = page
        self._bytes += len(page)
        while len(self._pages) > self._max_entries or self._bytes > self._max_bytes:
            _, dropped = self._pages.popitem(last=False)
            self._bytes -= len(dropped)


# Every field of the query, so a filter added later is part of the key without anyone remembering to.
_QUERY_FIELDS = tuple(field.name for field in dataclasses.fields(RecommendationQuery))


def _described(value: Any) -> Any:
    # Sets in sorted order: their iteration order differs between processes, the key must not.
    return sorted(map(str, value)) if isinstance(value, frozenset) else value


def cache_key(query: RecommendationQuery, paging: dict[str, Any]) -> str:
    # The query holds the caller's org scope (`readable`, None for admins) with every filter.
    return _key_of(query, tuple(sorted(paging.items())))


@functools.lru_cache(maxsize=4096)  # the same few queries come again and again: hashing the query is cheaper
def _key_of(query: RecommendationQuery, paging: tuple[tuple[str, Any], ...]) -> str:
    described = {name: _described(getattr(query, name)) for name in _QUERY_FIELDS}
    described.update(paging)
    digest = hashlib.sha256(msgspec.json.encode(described)).hexdigest()
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
    compute: Callable[[], Awaitable[bytes]],
    local: tuple[LocalPages, str | None] | None = None,
    request: RawRequest | None = None,
) -> bytes:
    """The page (`paging`: limit and cursor) of `query` as JSON (`compute` makes it: a RecommendationPage
    in JSON), from the cache when it holds the current one. The cached bytes are the answer as they are:
    a hit decodes and encodes nothing. `local` is this process's pages with the generation this request
    read at admission (None when it could not); once the page is had, `local` remembers that `request`
    (its raw form, parameters already validated) asks for it."""
    key = cache_key(query, paging)
    page = await _current_page(cache, key, compute, local)
    if local is not None and request is not None:
        local[0].remember(request, key)
    return page


async def _current_page(
    cache: Cache,
    key: str,
    compute: Callable[[], Awaitable[bytes]],
    local: tuple[LocalPages, str | None] | None,
) -> bytes:
    if local is not None:
        held = local[0].get(key, local[1])
        if held is not None:
            xsell_metrics().cache_hits.inc()
            return held
    try:
        generation, entry = await cache.get_many([GENERATION_KEY, key])
    except (RedisError, OSError) as exc:
        _log.warning("recommendation cache unavailable, answering uncached: %s", type(exc).__name__)
        return await compute()
    stamp = (generation or b"0").decode()
    hit = page_of(entry, generation)
    if hit is not None:
        if local is not None:
            local[0].put(key, stamp, hit)
        return hit
    # Stamped with the generation read before computing: a change landing meanwhile retires it.
    page = await compute()
    if local is not None:
        local[0].put(key, stamp, page)
    try:
        await cache.set_many({key: stamped(generation, page)}, ttl_seconds=_TTL_SECONDS)
    except (RedisError, OSError) as exc:
        _log.warning("recommendation cache not written: %s", type(exc).__name__)
    return page
