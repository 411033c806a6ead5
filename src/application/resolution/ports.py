"""Ports of customer resolution: pair scoring, and where customers, matches and the crosswalk are kept."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from application.ports.unit_of_work import Transaction
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
    "ResolutionTotals",
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
        """MD5 of the compared fields joined by \\x1f (None as ""): PostgreSQL's md5() gives the same, so a
        database finds changed accounts without reading them."""
        values = (self.name, self.website, self.phone, self.street, self.city, self.country)
        text = "\x1f".join("" if v is None else v for v in (*values, self.parent_external_id))
        return hashlib.md5(text.encode("utf-8", "replace"), usedforsecurity=False).hexdigest()


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

    def block_keys(self, records: Sequence[ResolutionRecord]) -> dict[AccountKey, tuple[int, ...]]:
        """Each record's blocking keys as integers that stay the same across processes: two records can
        form a candidate pair only when they share one, so stored keys find a change's neighbours."""
        ...

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
    left_name: str | None = None  # None once the account was deleted in its org
    right_name: str | None = None


@dataclass(frozen=True)
class ResolutionState:
    """What the last run left behind: term statistics and when it ran."""

    statistics: TermStatistics | None
    last_run_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ResolutionTotals:
    """Whole-database figures after a run, whatever part of it the run redid."""

    accounts: int
    customers: int
    multi_org_customers: int
    kept_pairs: int
    review_pairs: int
    relations: int


class CustomerRepository(Protocol):
    async def all(self) -> list[Customer]:
        """Every customer, tombstones included, with members and history."""
        ...

    async def holding(self, accounts: Collection[AccountKey] | None) -> list[Customer]:
        """The customers with a member among `accounts`, with all their members and history (every
        customer, tombstones included, when None)."""
        ...

    async def ids(self) -> set[str]:
        """Every customer id ever given, tombstones included."""
        ...

    async def changed_by_people(self, since: datetime) -> set[AccountKey]:
        """The members of customers that a person merged, split or undid at or after `since`."""
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

    async def named(self) -> dict[str, str]:
        """The name of every live customer (not retired, with members), by id."""
        ...

    async def replace_relations(
        self, touching: Collection[str] | None, relations: Collection[CustomerRelation]
    ) -> None:
        """Drop the stored relations with an end in `touching` (all when None), then store `relations`
        (one per parent and child)."""
        ...


class MatchRepository(Protocol):
    async def pairs(self, touching: Collection[AccountKey] | None = None) -> list[ScoredMatch]:
        """The stored pairs with an end in `touching` (all when None)."""
        ...

    async def linked(self, accounts: Collection[AccountKey], auto_merge: float) -> set[AccountKey]:
        """`accounts` and every account linked to one of them, step by step, through stored pairs at or
        above `auto_merge` or must-link decisions: whole components of the auto-merge graph."""
        ...

    async def replace_block_keys(
        self, touching: Collection[AccountKey] | None, keys: Mapping[AccountKey, Collection[int]]
    ) -> None:
        """Drop the stored block keys of `touching` (all when None), then store `keys`."""
        ...

    async def in_blocks(self, keys: Collection[int]) -> set[AccountKey]:
        """The accounts with a stored block key among `keys`."""
        ...

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

    async def forget_decision(self, pair: PairLink) -> None:
        """Drop the decision on `pair`, if any."""
        ...

    async def state(self) -> ResolutionState: ...

    async def save_state(self, last_run_at: datetime, statistics: TermStatistics | None = None) -> None:
        """Record a run at `last_run_at`, with new term statistics when given (kept as stored otherwise)."""
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


class ResolutionUnitOfWork(Transaction, Protocol):
    """One transaction over everything resolution reads and writes; rolls back unless committed."""

    customers: CustomerRepository
    matches: MatchRepository
    crosswalk: CrosswalkRepository

    async def records(self, keys: Collection[AccountKey] | None = None) -> list[ResolutionRecord]:
        """The live (not deleted) accounts among `keys` (every one when None), as resolution reads them,
        in key order."""
        ...

    async def changed_accounts(self) -> set[AccountKey]:
        """The accounts whose fingerprint differs from the one remembered: changed, new and deleted."""
        ...

    async def remember(self, keys: Collection[AccountKey] | None) -> None:
        """Remember the fingerprints of `keys` (of every account when None) as they are now; a deleted
        account is forgotten."""
        ...

    async def parent_links(self, accounts: Collection[AccountKey] | None) -> dict[AccountKey, AccountKey]:
        """CRM parent links (child -> parent, both live, in one org) with an end among `accounts` (every
        link when None)."""
        ...

    async def totals(self, thresholds: MatchThresholds) -> ResolutionTotals:
        """Accounts, customers, kept pairs, pairs waiting for review and relations, as stored now."""
        ...
