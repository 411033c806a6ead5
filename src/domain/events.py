"""Domain events: past-tense facts that aggregates collect for the application layer to publish."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.account import AccountKey
from domain.money import Money
from domain.timestamps import require_utc

__all__ = [
    "AccountJoinedCustomer",
    "AccountLeftCustomer",
    "CustomerMergeUndone",
    "CustomerSplit",
    "CustomerSplitUndone",
    "CustomersMerged",
    "Event",
    "ModelVersionStageChanged",
    "ProductFamilyMappingChanged",
    "RecommendationAccepted",
    "RecommendationConverted",
    "RecommendationDismissed",
    "RecommendationLost",
]


# Events carry ids and plain values, never entities: they outlive the unit of work that raised them and
# travel through queues. Statuses and stages are typed `str` because the enums live in the modules that
# import this one (a StrEnum member is a str, so callers pass the enum).
@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of every domain event. Raises InvariantViolationError when `occurred_at` is not UTC."""

    occurred_at: datetime

    def __post_init__(self) -> None:
        require_utc(self.occurred_at, "occurred_at")


@dataclass(frozen=True, kw_only=True)
class AccountJoinedCustomer(Event):
    customer_id: str
    account: AccountKey
    confidence: float
    method: str
    decided_by: str


@dataclass(frozen=True, kw_only=True)
class AccountLeftCustomer(Event):
    customer_id: str
    account: AccountKey
    decided_by: str


@dataclass(frozen=True, kw_only=True)
class CustomersMerged(Event):
    change_id: str
    survivor_id: str
    absorbed_id: str
    accounts: tuple[AccountKey, ...]
    decided_by: str


@dataclass(frozen=True, kw_only=True)
class CustomerSplit(Event):
    change_id: str
    customer_id: str
    new_customer_id: str
    moved_accounts: tuple[AccountKey, ...]
    decided_by: str


@dataclass(frozen=True, kw_only=True)
class CustomerMergeUndone(Event):
    change_id: str
    survivor_id: str
    restored_id: str
    accounts: tuple[AccountKey, ...]
    decided_by: str


@dataclass(frozen=True, kw_only=True)
class CustomerSplitUndone(Event):
    change_id: str
    customer_id: str
    retired_id: str
    accounts: tuple[AccountKey, ...]
    decided_by: str


@dataclass(frozen=True, kw_only=True)
class ProductFamilyMappingChanged(Event):
    org_id: str
    product_id: str
    family_id: str | None
    previous_family_id: str | None
    source: str
    decided_by: str


@dataclass(frozen=True, kw_only=True)
class RecommendationAccepted(Event):
    recommendation_id: str
    decided_by: str


@dataclass(frozen=True, kw_only=True)
class RecommendationDismissed(Event):
    recommendation_id: str
    decided_by: str
    reason: str | None


@dataclass(frozen=True, kw_only=True)
class RecommendationConverted(Event):
    recommendation_id: str
    decided_by: str
    amount: Money


@dataclass(frozen=True, kw_only=True)
class RecommendationLost(Event):
    recommendation_id: str
    decided_by: str


@dataclass(frozen=True, kw_only=True)
class ModelVersionStageChanged(Event):
    model_version_id: str
    from_stage: str | None
    to_stage: str
    decided_by: str
    reason: str | None
