"""Ports of customer resolution: pair scoring, and where customers, matches and the crosswalk are kept."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import TracebackType
from typing import Protocol, Self

from domain.account import AccountKey
from domain.crosswalk import ProductCrosswalk
from domain.customer import Customer, CustomerChange
from domain.product import ProductKey
from domain.resolution.clustering import PairLink
from domain.resolution.decisions import MatchThresholds
from domain.resolution.hierarchy import CustomerRelation
from domain.resolution.model import Field, MatchExplanation, MatchModel

__all__ = [
    "CrosswalkRepository",
    "CustomerRepository",
    "DecisionKind",
    "MatchRepository",
    "PairDecision",
    "PairScorer",
    "ProductRecord",
    "ResolutionRecord",
    "ResolutionState",
    "ResolutionUnitOfWork",
    "ReviewItem",
    "ScoredMatch",
    "TermStatistics",
]


@dataclass(frozen=True, slots=True)
class ResolutionRecord:
    """What resolution reads of one account; `fingerprint` changes exactly when a compared field does."""

    key: AccountKey
    name: str
    website: str | None = None
    phone: str | None = None
    street: str | None = None
    city: str | None = None
    country: str | None = None
    parent_external_id: str | None = None

    @property
    def fingerprint(self) -> str:
        values = (self.name, self.website, self.phone, self.street, self.city, self.country)
        text = "\x1f".join("" if v is None else v for v in values) + f"\x1f{self.parent_external_id}"
        return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=12).hexdigest()


@dataclass(frozen=True)
class TermStatistics:
    """How common each name word, whole name and domain is: the term-frequency part of the model.

    Estimated on a full run and kept, so that later runs (full or incremental) weigh evidence alike.
    """

    records: int = 0
    tokens: dict[str, int] = field(default_factory=dict)
    names: dict[str, int] = field(default_factory=dict)
    domains: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ScoredMatch:
    """A compared pair worth keeping: its probability and the evidence behind it."""

    pair: PairLink
    probability: float
    explanation: MatchExplanation

    @property
    def name_level(self) -> int:
        return next(e.level for e in self.explanation.evidence if e.field is Field.NAME)


class PairScorer(Protocol):
    """Blocking and pairwise comparison over account records."""

    last_comparisons: int  # candidate pairs compared by the latest `score` call

    def statistics(self, records: Sequence[ResolutionRecord]) -> TermStatistics:
        """Estimate term frequencies from the records."""
        ...

    def score(
        self,
        records: Sequence[ResolutionRecord],
        statistics: TermStatistics,
        model: MatchModel,
        thresholds: MatchThresholds,
        focus: Collection[AccountKey] | None = None,
    ) -> list[ScoredMatch]:
        """Candidate pairs (only those touching `focus` when given) that a run must keep: at or above the
        review threshold, or below the cannot-link threshold with similar names (they stop chaining)."""
        ...


class DecisionKind(StrEnum):
    MUST_LINK = "must_link"
    NEVER_LINK = "never_link"


@dataclass(frozen=True, slots=True)
class PairDecision:
    """A person's word on two accounts; it overrides the model on every later run."""

    pair: PairLink
    kind: DecisionKind
    decided_by: str
    decided_at: datetime
    change_id: str | None = None


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """A pair in the review band whose accounts sit in different customers, waiting for a person."""

    pair: PairLink
    probability: float
    explanation: MatchExplanation
    left_customer: str | None
    right_customer: str | None


@dataclass(frozen=True)
class ResolutionState:
    """What the last run left behind: term statistics and each account's fingerprint then."""

    statistics: TermStatistics | None
    fingerprints: dict[AccountKey, str]
    last_run_at: datetime | None = None


class CustomerRepository(Protocol):
    async def all(self) -> list[Customer]:
        """Every customer, tombstones included, with members and history."""
        ...

    async def get(self, customer_id: str) -> Customer | None: ...

    async def of_accounts(self, accounts: Collection[AccountKey]) -> dict[AccountKey, str]:
        """The customer id each of `accounts` belongs to (accounts in no customer are left out)."""
        ...

    async def save(self, customers: Sequence[Customer]) -> None:
        """Insert or replace these customers with their members and history."""
        ...

    async def change(self, change_id: str) -> CustomerChange | None: ...

    async def relations(self) -> list[CustomerRelation]:
        """Parent/subsidiary links between customers, sorted."""
        ...

    async def replace_relations(self, relations: Collection[CustomerRelation]) -> None:
        """Make the stored relations exactly these (one per parent and child)."""
        ...


class MatchRepository(Protocol):
    async def pairs(self) -> list[ScoredMatch]: ...

    async def replace_pairs(
        self, touching: Collection[AccountKey] | None, pairs: Sequence[ScoredMatch]
    ) -> None:
        """Drop stored pairs touching `touching` (all pairs when None), then store `pairs`."""
        ...

    async def decisions(self) -> list[PairDecision]: ...

    async def add_decisions(self, decisions: Sequence[PairDecision]) -> None:
        """Store decisions; a new decision on a pair replaces the earlier one."""
        ...

    async def remove_decisions(self, change_id: str) -> None: ...

    async def state(self) -> ResolutionState: ...

    async def save_state(self, state: ResolutionState, changed: Collection[AccountKey] | None) -> None:
        """Store statistics and fingerprints (only those of `changed` when given, all otherwise)."""
        ...


@dataclass(frozen=True, slots=True)
class ProductRecord:
    key: ProductKey
    name: str
    product_code: str | None
    family: str | None
    description: str | None


class CrosswalkRepository(Protocol):
    async def load(self) -> ProductCrosswalk: ...

    async def save(self, crosswalk: ProductCrosswalk) -> None: ...

    async def products(self) -> list[ProductRecord]: ...


class ResolutionUnitOfWork(Protocol):
    """One transaction over everything resolution reads and writes; rolls back unless committed."""

    customers: CustomerRepository
    matches: MatchRepository
    crosswalk: CrosswalkRepository

    async def records(self) -> list[ResolutionRecord]:
        """Every live (not deleted) account, as resolution reads it."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...
