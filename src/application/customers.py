"""Customers as a reader sees them: search, one customer across the caller's orgs, its offers right now."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from application.errors import InvalidRequestError
from application.models.feedback import RecommendationRepository
from application.models.offers import visible_reasons
from application.models.realtime import LiveOffer, ScoreCustomerNow
from application.models.recommendation_query import RecommendationQuery
from application.pagination import Page, decode_cursor, encode_cursor
from domain.access import Principal
from domain.errors import NotFoundError
from domain.recommendation import Recommendation, RecommendationStatus

__all__ = [
    "CustomerAccount",
    "CustomerDirectory",
    "CustomerHistory",
    "CustomerProfile",
    "CustomerSummary",
    "CustomerView",
    "OffersNow",
    "SearchCustomers",
    "ShowCustomer",
    "ShowCustomerTimeline",
    "TimelineEvent",
]

_CURSOR_KIND = "customers"
_OPEN = frozenset({RecommendationStatus.NEW, RecommendationStatus.ACCEPTED})
_OPEN_SHOWN = 50
MAX_TIMELINE_EVENTS = 500


@dataclass(frozen=True)
class CustomerSummary:
    """A customer as the caller may see it: only member accounts in readable orgs are counted."""

    id: str
    name: str
    org_ids: tuple[str, ...]
    accounts: int


@dataclass(frozen=True)
class CustomerAccount:
    org_id: str
    external_id: str
    name: str | None  # None when the membership outlived the synced account
    industry: str | None
    confidence: float
    method: str


@dataclass(frozen=True)
class CustomerProfile:
    """One customer's member accounts and the families it owns, per org, limited to readable orgs."""

    id: str
    name: str
    accounts: list[CustomerAccount]
    families_by_org: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class CustomerView:
    profile: CustomerProfile
    open_recommendations: list[Recommendation]


class CustomerDirectory(Protocol):
    """Read side of resolved customers, always within an org scope (None: every org)."""

    async def search(
        self, text: str | None, readable: frozenset[str] | None, after: tuple[str, str] | None, limit: int
    ) -> list[CustomerSummary]:
        """Live customers with a member account in a readable org whose name contains `text`
        (case-insensitive), by name then id, strictly after `after` (name, id) when given."""
        ...

    async def profile(self, customer_id: str, readable: frozenset[str] | None) -> CustomerProfile | None:
        """None when the customer does not exist or has no member account in a readable org."""
        ...


@dataclass(frozen=True)
class TimelineEvent:
    """An opportunity or an activity (task, event) of one of the customer's member accounts."""

    at: datetime | None  # close date (opportunities) or activity time; None when the CRM has neither
    org_id: str
    account_id: str
    kind: str  # opportunity | task | event
    title: str | None
    detail: str | None  # stage and amount, or activity type and status


class CustomerHistory(Protocol):
    async def timeline(
        self, customer_id: str, readable: frozenset[str] | None, limit: int
    ) -> list[TimelineEvent]:
        """Live opportunities and activities of the customer's member accounts in readable orgs, newest
        first (undated last), at most `limit`."""
        ...


class SearchCustomers:
    def __init__(self, directory: CustomerDirectory, max_page_size: int = 500) -> None:
        self._directory = directory
        self._max_page_size = max_page_size

    async def execute(
        self, principal: Principal, text: str | None = None, *, limit: int = 50, cursor: str | None = None
    ) -> Page[CustomerSummary]:
        """Raises InvalidRequestError for a bad limit, InvalidCursorError for a cursor xsell did not issue."""
        if not 1 <= limit <= self._max_page_size:
            raise InvalidRequestError(f"limit must be between 1 and {self._max_page_size}, got {limit}")
        after = None
        if cursor is not None:
            name, customer_id = decode_cursor(_CURSOR_KIND, cursor, 2)
            after = (name, customer_id)
        text = (text or "").strip() or None
        rows = await self._directory.search(text, principal.read_scope, after, limit + 1)
        items = rows[:limit]
        next_cursor = None
        if len(rows) > limit:
            next_cursor = encode_cursor(_CURSOR_KIND, (items[-1].name, items[-1].id))
        return Page(items=items, next_cursor=next_cursor)


class ShowCustomer:
    def __init__(self, directory: CustomerDirectory, recommendations: RecommendationRepository) -> None:
        self._directory = directory
        self._recommendations = recommendations

    async def execute(self, customer_id: str, principal: Principal) -> CustomerView:
        """The customer's accounts and families in the caller's orgs and its open offers there (the best
        50). Raises NotFoundError for an unknown customer and one with no account in a readable org."""
        scope = principal.read_scope
        profile = await self._directory.profile(customer_id, scope)
        if profile is None:
            raise NotFoundError(f"no customer {customer_id!r}")
        query = RecommendationQuery(readable=scope, customer_id=customer_id, statuses=_OPEN)
        offers = await self._recommendations.page(query, None, _OPEN_SHOWN)
        for offer in offers:
            offer.reasons = visible_reasons(offer.reasons, scope)
        return CustomerView(profile=profile, open_recommendations=offers)


class OffersNow:
    """ScoreCustomerNow for a customer the caller may read, without other orgs' peer evidence."""

    def __init__(self, directory: CustomerDirectory, score: ScoreCustomerNow) -> None:
        self._directory = directory
        self._score = score

    async def execute(self, customer_id: str, principal: Principal, *, limit: int = 5) -> list[LiveOffer]:
        """Raises NotFoundError for a customer the caller may not read (as for an unknown one) and what
        ScoreCustomerNow raises."""
        scope = principal.read_scope
        if await self._directory.profile(customer_id, scope) is None:
            raise NotFoundError(f"no customer {customer_id!r}")
        offers = await self._score.execute(customer_id, limit=limit)
        return [dataclasses.replace(o, reasons=visible_reasons(o.reasons, scope)) for o in offers]


class ShowCustomerTimeline:
    def __init__(self, directory: CustomerDirectory, history: CustomerHistory) -> None:
        self._directory = directory
        self._history = history

    async def execute(
        self, customer_id: str, principal: Principal, *, limit: int = 100
    ) -> list[TimelineEvent]:
        """Raises InvalidRequestError for a bad limit and NotFoundError for a customer the caller may not
        read (as for an unknown one)."""
        if not 1 <= limit <= MAX_TIMELINE_EVENTS:
            raise InvalidRequestError(f"limit must be between 1 and {MAX_TIMELINE_EVENTS}, got {limit}")
        scope = principal.read_scope
        if await self._directory.profile(customer_id, scope) is None:
            raise NotFoundError(f"no customer {customer_id!r}")
        return await self._history.timeline(customer_id, scope, limit)
