"""Reading recommendations for people: filtered keyset pages, bounded exports, one offer with its reasons.

Every use case works inside the caller's org scope (`Principal.read_scope`): what lies outside it is
answered exactly like what does not exist.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterable
from decimal import Decimal, InvalidOperation

from application.errors import InvalidCursorError, InvalidRequestError
from application.models.feedback import RecommendationRepository
from application.models.recommendation_query import (
    OfferDocument,
    RecommendationPosition,
    RecommendationQuery,
    RecommendationSort,
)
from application.pagination import Page, decode_cursor, encode_cursor
from domain.errors import NotFoundError
from domain.recommendation import Reason, Recommendation

__all__ = [
    "MAX_EXPORT_ROWS",
    "BrowseRecommendations",
    "ExportRecommendations",
    "ShowRecommendation",
    "visible_reasons",
]

MAX_EXPORT_ROWS = 100_000
_EXPORT_BATCH = 2_000


def visible_reasons(reasons: Iterable[Reason], readable: frozenset[str] | None) -> tuple[Reason, ...]:
    """The reasons whose evidence the caller may read: peer evidence from an org outside the scope is
    another org's data, so it is left out."""
    return tuple(r for r in reasons if readable is None or r.org_id is None or r.org_id in readable)


def _scoped(items: list[Recommendation], readable: frozenset[str] | None) -> list[Recommendation]:
    for item in items:
        item.reasons = visible_reasons(item.reasons, readable)
    return items


def _require_orgs(query: RecommendationQuery) -> None:
    if query.readable is not None:
        for org_id in sorted(query.target_org_ids):
            if org_id not in query.readable:
                raise NotFoundError(f"no org {org_id}")


def _position(item: Recommendation, sort: RecommendationSort) -> RecommendationPosition:
    if sort is RecommendationSort.PROBABILITY:
        return RecommendationPosition(item.probability, item.id)
    return RecommendationPosition(item.expected_value.amount, item.id)


def _after(cursor: str, sort: RecommendationSort) -> RecommendationPosition:
    # The sort is part of the cursor's kind: a cursor of one order is refused by the other.
    value, recommendation_id = decode_cursor(f"recommendations.{sort.value}", cursor, 2)
    try:
        number: Decimal | float = float(value) if sort is RecommendationSort.PROBABILITY else Decimal(value)
    except (ValueError, InvalidOperation):
        raise InvalidCursorError(
            "the cursor does not belong to this list; pass a page's next_cursor"
        ) from None
    if not math.isfinite(number):
        raise InvalidCursorError("the cursor does not belong to this list; pass a page's next_cursor")
    return RecommendationPosition(number, recommendation_id)


class BrowseRecommendations:
    """One keyset page of the recommendations matching a query, best first."""

    def __init__(self, repository: RecommendationRepository, max_page_size: int = 500) -> None:
        self._repository = repository
        self._max_page_size = max_page_size

    def _start(
        self, query: RecommendationQuery, limit: int, cursor: str | None
    ) -> RecommendationPosition | None:
        if not 1 <= limit <= self._max_page_size:
            raise InvalidRequestError(f"limit must be between 1 and {self._max_page_size}, got {limit}")
        after = None if cursor is None else _after(cursor, query.sort)
        _require_orgs(query)
        return after

    def _next_cursor(self, query: RecommendationQuery, last: RecommendationPosition) -> str:
        # A probability as its exact repr, an amount as its decimal string: `_after` reads them back.
        value = repr(last.value) if isinstance(last.value, float) else str(last.value)
        return encode_cursor(f"recommendations.{query.sort.value}", (value, last.id))

    async def execute(
        self, query: RecommendationQuery, *, limit: int = 50, cursor: str | None = None
    ) -> Page[Recommendation]:
        """Raises InvalidRequestError for a bad limit, InvalidCursorError for a cursor xsell did not
        issue for this sort order, NotFoundError for a target-org filter outside the caller's scope."""
        after = self._start(query, limit, cursor)
        # One extra row tells whether another page exists without a COUNT.
        rows = await self._repository.page(query, after, limit + 1)
        items = _scoped(rows[:limit], query.readable)
        next_cursor = None
        if len(rows) > limit:
            next_cursor = self._next_cursor(query, _position(items[-1], query.sort))
        return Page(items=items, next_cursor=next_cursor)

    async def documents(
        self, query: RecommendationQuery, *, limit: int = 50, cursor: str | None = None
    ) -> Page[OfferDocument]:
        """The same page as `execute`, as documents (`OfferDocument`): same checks, same cursors."""
        after = self._start(query, limit, cursor)
        rows = await self._repository.page_documents(query, after, limit + 1)
        items = rows[:limit]
        next_cursor = None
        if len(rows) > limit:
            next_cursor = self._next_cursor(query, items[-1].position)
        return Page(items=items, next_cursor=next_cursor)


class ExportRecommendations:
    """Every recommendation matching a query, in the list's order, in batches, up to a bound."""

    def __init__(self, repository: RecommendationRepository, max_rows: int = MAX_EXPORT_ROWS) -> None:
        self._repository = repository
        self._max_rows = max_rows

    async def execute(self, query: RecommendationQuery) -> AsyncIterator[list[Recommendation]]:
        """Checks the size first, then returns the batches to stream.

        Raises InvalidRequestError when more than the bound match (narrow the filters), NotFoundError for
        a target-org filter outside the caller's scope.
        """
        _require_orgs(query)
        total = await self._repository.count(query)
        if total > self._max_rows:
            raise InvalidRequestError(
                f"{total} recommendations match; an export holds at most {self._max_rows}: narrow the filters"
            )
        return self._batches(query)

    async def _batches(self, query: RecommendationQuery) -> AsyncIterator[list[Recommendation]]:
        after: RecommendationPosition | None = None
        left = self._max_rows  # rows written after the count are cut, not streamed past the bound
        while left > 0:
            rows = await self._repository.page(query, after, min(_EXPORT_BATCH, left))
            if not rows:
                return
            yield _scoped(rows, query.readable)
            left -= len(rows)
            last = rows[-1]
            value = (
                last.probability
                if query.sort is RecommendationSort.PROBABILITY
                else last.expected_value.amount
            )
            after = RecommendationPosition(value, last.id)


class ShowRecommendation:
    def __init__(self, repository: RecommendationRepository) -> None:
        self._repository = repository

    async def execute(self, recommendation_id: str, readable: frozenset[str] | None) -> Recommendation:
        """Raises NotFoundError for an unknown id and for one outside the caller's scope alike."""
        found = await self._repository.get(recommendation_id, readable)
        if found is None:
            raise NotFoundError(f"no recommendation {recommendation_id!r}")
        return _scoped([found], readable)[0]
