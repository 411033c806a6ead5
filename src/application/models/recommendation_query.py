"""What a reader asks of the stored recommendations: filters, sort order, keyset position, org scope."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from domain.recommendation import Arm, RecommendationStatus

__all__ = ["OfferDocument", "RecommendationPosition", "RecommendationQuery", "RecommendationSort"]


class RecommendationSort(StrEnum):
    """Both orders are descending, ties broken by id ascending, so every page boundary is exact."""

    EXPECTED_VALUE = "expected_value"
    PROBABILITY = "probability"


@dataclass(frozen=True)
class RecommendationPosition:
    """The sort key of the last row of a page: the next page starts strictly after it."""

    value: Decimal | float
    id: str


@dataclass(frozen=True, slots=True)
class OfferDocument:
    """One listed offer as a JSON object, for readers that pass it on rather than act on it (the list
    endpoint): every field of a `Recommendation` under its own name (`expected_value` and
    `converted_amount` as decimal strings, the currency beside them, times in RFC 3339), its reasons
    already narrowed to those the reader may see (`visible_reasons`). `position` is its sort key."""

    position: RecommendationPosition
    json: str


@dataclass(frozen=True)
class RecommendationQuery:
    """Filters over stored recommendations; empty collections and None mean "any".

    `readable` is the caller's org scope (None: every org, for admins). A recommendation is in scope
    when its target org is readable and its customer has a member account in a readable org.
    `industry` matches, case-insensitively, the industry of any of the customer's member accounts in a
    readable org (the synced Account.Industry; an industry only another org records does not count).
    """

    readable: frozenset[str] | None
    target_org_ids: frozenset[str] = frozenset()
    family_ids: frozenset[str] = frozenset()
    industry: str | None = None
    min_probability: float | None = None
    min_value: Decimal | None = None
    statuses: frozenset[RecommendationStatus] = frozenset()
    arm: Arm | None = None
    customer_id: str | None = None
    sort: RecommendationSort = RecommendationSort.EXPECTED_VALUE
