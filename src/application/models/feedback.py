"""RecordFeedback and ListRecommendations: what sales did with an offer, and the offers to work on."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from application.errors import InvalidRequestError
from application.models.recommendation_query import OfferDocument, RecommendationPosition, RecommendationQuery
from application.ports.cache import ChangeNotice, NoChangeNotice
from application.ports.clock import Clock
from application.ports.metrics import ModelMetrics, NoMetrics
from domain.errors import ConflictError, NotFoundError
from domain.money import Money
from domain.recommendation import Recommendation, RecommendationStatus

__all__ = ["ListRecommendations", "RecommendationFilter", "RecommendationRepository", "RecordFeedback"]


@dataclass(frozen=True)
class RecommendationFilter:
    customer_id: str | None = None
    status: RecommendationStatus | None = None
    limit: int = 20


class RecommendationRepository(Protocol):
    async def get(
        self, recommendation_id: str, readable: frozenset[str] | None = None
    ) -> Recommendation | None:
        """The recommendation, or None when it does not exist or lies outside the `readable` org scope
        (see RecommendationQuery; None reads every org)."""
        ...

    async def save_decision(self, recommendation: Recommendation) -> bool:
        """Store the status and decision fields if the stored status is still the one it was read with.

        Returns False when someone else decided first (nothing is written then).
        """
        ...

    async def find(self, where: RecommendationFilter) -> list[Recommendation]:
        """Highest expected value first."""
        ...

    async def page(
        self, query: RecommendationQuery, after: RecommendationPosition | None, limit: int
    ) -> list[Recommendation]:
        """At most `limit` matches of `query` in its sort order, strictly after `after` when given."""
        ...

    async def page_documents(
        self, query: RecommendationQuery, after: RecommendationPosition | None, limit: int
    ) -> list[OfferDocument]:
        """What `page` returns, as documents built by the store: a reader that only passes offers on
        pays nothing per offer for objects it does not use."""
        ...

    async def count(self, query: RecommendationQuery) -> int:
        """How many recommendations match `query`."""
        ...


class RecordFeedback:
    def __init__(
        self,
        repository: RecommendationRepository,
        clock: Clock,
        metrics: ModelMetrics | None = None,
        changes: ChangeNotice | None = None,
    ) -> None:
        self._repository = repository
        self._clock = clock
        self._metrics: ModelMetrics = metrics or NoMetrics()
        self._changes: ChangeNotice = changes or NoChangeNotice()

    async def execute(
        self,
        recommendation_id: str,
        status: RecommendationStatus,
        *,
        by: str,
        amount: Decimal | None = None,
        reason: str | None = None,
        readable: frozenset[str] | None = None,
    ) -> Recommendation:
        """Accept, dismiss, convert (with the amount won, in the offer's currency) or mark lost.

        `readable` limits the decision to offers in that org scope (None: any). Raises NotFoundError for
        an unknown id or one outside the scope (the same answer), InvalidStatusTransitionError for a move
        the status rules forbid, InvariantViolationError for a conversion without an amount,
        ConflictError when someone else decided meanwhile.
        """
        recommendation = await self._repository.get(recommendation_id, readable)
        if recommendation is None:
            raise NotFoundError(f"no recommendation {recommendation_id!r}")
        money = None if amount is None else Money(amount, recommendation.expected_value.currency)
        recommendation.transition_to(status, by=by, at=self._clock.now(), amount=money, reason=reason)
        if not await self._repository.save_decision(recommendation):
            raise ConflictError(f"recommendation {recommendation_id} was decided by someone else meanwhile")
        self._metrics.feedback(recommendation.arm.value, recommendation.status.value)
        await self._changes.changed()
        return recommendation


class ListRecommendations:
    def __init__(self, repository: RecommendationRepository) -> None:
        self._repository = repository

    async def execute(self, where: RecommendationFilter) -> list[Recommendation]:
        """Raises InvalidRequestError for a limit outside 1..500."""
        if not 1 <= where.limit <= 500:
            raise InvalidRequestError(f"limit is 1 to 500, got {where.limit}")
        return await self._repository.find(where)
