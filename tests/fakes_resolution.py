"""Working in-memory doubles of the resolution ports, for unit tests of the resolution use cases."""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Self

from application.resolution.ports import (
    DecisionKind,
    PairDecision,
    ProductRecord,
    ResolutionRecord,
    ResolutionState,
    ResolutionTotals,
    ScoredMatch,
    TermStatistics,
)
from domain.account import AccountKey
from domain.crosswalk import ProductCrosswalk
from domain.customer import Customer, CustomerChange
from domain.resolution.clustering import PairLink, affected_accounts
from domain.resolution.decisions import MatchThresholds
from domain.resolution.hierarchy import CustomerRelation


class FakeCustomerRepository:
    def __init__(self, store: dict[str, Customer]) -> None:
        self._store = store
        self.related: list[CustomerRelation] = []

    async def relations(self) -> list[CustomerRelation]:
        return sorted(self.related)

    async def replace_relations(
        self, touching: Collection[str] | None, relations: Collection[CustomerRelation]
    ) -> None:
        gone = set(touching or ())
        kept = [] if touching is None else [r for r in self.related if not {r.parent_id, r.child_id} & gone]
        unique = {
            (r.parent_id, r.child_id): r
            for r in sorted(relations, key=lambda r: r.source.value, reverse=True)
        }
        self.related = sorted([*kept, *unique.values()])

    async def all(self) -> list[Customer]:
        return [copy.deepcopy(self._store[i]) for i in sorted(self._store)]

    async def holding(self, accounts: Collection[AccountKey] | None) -> list[Customer]:
        if accounts is None:
            return await self.all()
        wanted = set(accounts)
        return [
            copy.deepcopy(self._store[i]) for i in sorted(self._store) if wanted & set(self._store[i].members)
        ]

    async def ids(self) -> set[str]:
        return set(self._store)

    async def changed_by_people(self, since: datetime) -> set[AccountKey]:
        ids = {
            i
            for c in self._store.values()
            for r in c.history
            if r.at >= since or (r.undone_at is not None and r.undone_at >= since)
            for i in (r.customer_id, r.other_customer_id)
        }
        return {k for i in ids if i in self._store for k in self._store[i].members}

    async def named(self) -> dict[str, str]:
        return {c.id: c.name for c in self._store.values() if c.is_active and c.members}

    async def get(self, customer_id: str) -> Customer | None:
        found = self._store.get(customer_id)
        return None if found is None else copy.deepcopy(found)

    async def of_accounts(self, accounts: Collection[AccountKey]) -> dict[AccountKey, str]:
        wanted = set(accounts)
        return {k: c.id for c in self._store.values() for k in c.members if k in wanted}

    async def save(self, customers: Sequence[Customer]) -> None:
        for customer in customers:
            saved = copy.deepcopy(customer)
            saved.events.clear()
            self._store[customer.id] = saved

    async def change(self, change_id: str) -> CustomerChange | None:
        for customer in self._store.values():
            for record in customer.history:
                if record.id == change_id:
                    return record
        return None


class FakeMatchRepository:
    def __init__(self) -> None:
        self.stored: dict[object, ScoredMatch] = {}
        self.decided: dict[object, PairDecision] = {}
        self.current = ResolutionState(None)
        self.blocks: dict[AccountKey, frozenset[int]] = {}

    async def pairs(self, touching: Collection[AccountKey] | None = None) -> list[ScoredMatch]:
        if touching is None:
            return list(self.stored.values())
        wanted = set(touching)
        return [p for p in self.stored.values() if {p.pair.left, p.pair.right} & wanted]

    async def linked(self, accounts: Collection[AccountKey], auto_merge: float) -> set[AccountKey]:
        must = [d.pair for d in self.decided.values() if d.kind is DecisionKind.MUST_LINK]
        return affected_accounts(accounts, self.stored.values(), auto_merge=auto_merge, must_link=must)

    async def replace_block_keys(
        self, touching: Collection[AccountKey] | None, keys: Mapping[AccountKey, Collection[int]]
    ) -> None:
        if touching is None:
            self.blocks.clear()
        for key in touching or ():
            self.blocks.pop(key, None)
        self.blocks.update({k: frozenset(codes) for k, codes in keys.items()})

    async def in_blocks(self, keys: Collection[int]) -> set[AccountKey]:
        wanted = set(keys)
        return {k for k, codes in self.blocks.items() if codes & wanted}

    async def replace_pairs(
        self, touching: Collection[AccountKey] | None, pairs: Sequence[ScoredMatch]
    ) -> None:
        if touching is None:
            self.stored.clear()
        else:
            gone = set(touching)
            self.stored = {k: p for k, p in self.stored.items() if not {p.pair.left, p.pair.right} & gone}
        self.stored.update({p.pair: p for p in pairs})

    async def decisions(self) -> list[PairDecision]:
        return list(self.decided.values())

    async def add_decisions(self, decisions: Sequence[PairDecision]) -> None:
        self.decided.update({d.pair: d for d in decisions})

    async def remove_decisions(self, change_id: str) -> None:
        self.decided = {k: d for k, d in self.decided.items() if d.change_id != change_id}

    async def forget_decision(self, pair: PairLink) -> None:
        self.decided.pop(pair, None)

    async def state(self) -> ResolutionState:
        return self.current

    async def save_state(self, last_run_at: datetime, statistics: TermStatistics | None = None) -> None:
        self.current = ResolutionState(statistics or self.current.statistics, last_run_at)


class FakeCrosswalkRepository:
    def __init__(self) -> None:
        self.crosswalk = ProductCrosswalk()
        self.items: list[ProductRecord] = []

    async def load(self) -> ProductCrosswalk:
        return copy.deepcopy(self.crosswalk)

    async def save(self, crosswalk: ProductCrosswalk) -> None:
        self.crosswalk = copy.deepcopy(crosswalk)

    async def products(self) -> list[ProductRecord]:
        return list(self.items)


class FakeResolutionUnitOfWork:
    """Commits by keeping what was saved; a rollback without commit restores the last committed state."""

    def __init__(self, records: list[ResolutionRecord] | None = None) -> None:
        self.accounts: list[ResolutionRecord] = list(records or [])
        self.customer_store: dict[str, Customer] = {}
        self.customers = FakeCustomerRepository(self.customer_store)
        self.matches = FakeMatchRepository()
        self.crosswalk = FakeCrosswalkRepository()
        self.fingerprints: dict[AccountKey, str] = {}
        self.commits = 0
        self._snapshot = self._take()

    def _take(self) -> tuple[object, ...]:
        return copy.deepcopy(
            (
                self.customer_store,
                self.matches.stored,
                self.matches.decided,
                self.matches.current,
                self.matches.blocks,
                self.fingerprints,
            )
        )

    async def records(self, keys: Collection[AccountKey] | None = None) -> list[ResolutionRecord]:
        wanted = None if keys is None else set(keys)
        return sorted((r for r in self.accounts if wanted is None or r.key in wanted), key=lambda r: r.key)

    async def changed_accounts(self) -> set[AccountKey]:
        live = {r.key: r.fingerprint for r in self.accounts}
        filed = {k for c in self.customer_store.values() for k in c.members}
        changed = {k for k, f in live.items() if self.fingerprints.get(k) != f}
        return changed | ((set(self.fingerprints) | filed) - set(live))

    async def remember(self, keys: Collection[AccountKey] | None) -> None:
        live = {r.key: r.fingerprint for r in self.accounts}
        if keys is None:
            self.fingerprints = live
            return
        for key in keys:
            self.fingerprints.pop(key, None)
            if key in live:
                self.fingerprints[key] = live[key]

    async def parent_links(self, accounts: Collection[AccountKey] | None) -> dict[AccountKey, AccountKey]:
        live = {r.key for r in self.accounts}
        links = {
            r.key: AccountKey(r.key.org_id, r.parent_external_id)
            for r in self.accounts
            if r.parent_external_id and AccountKey(r.key.org_id, r.parent_external_id) in live
        }
        if accounts is None:
            return links
        wanted = set(accounts)
        return {child: parent for child, parent in links.items() if child in wanted or parent in wanted}

    async def totals(self, thresholds: MatchThresholds) -> ResolutionTotals:
        owner = {k: c.id for c in self.customer_store.values() for k in c.members}
        live = [c for c in self.customer_store.values() if c.members]
        review = [
            p
            for p in self.matches.stored.values()
            if thresholds.review <= p.probability < thresholds.auto_merge
            and owner.get(p.pair.left) != owner.get(p.pair.right)
        ]
        return ResolutionTotals(
            accounts=len(self.accounts),
            customers=len(live),
            multi_org_customers=sum(1 for c in live if len({k.org_id for k in c.members}) > 1),
            kept_pairs=len(self.matches.stored),
            review_pairs=len(review),
            relations=len(self.customers.related),
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.rollback()

    async def commit(self) -> None:
        self.commits += 1
        self._snapshot = self._take()

    async def rollback(self) -> None:
        customers, stored, decided, current, blocks, fingerprints = copy.deepcopy(self._snapshot)
        self.customer_store.clear()
        self.customer_store.update(customers)  # type: ignore[arg-type]
        self.matches.stored = stored  # type: ignore[assignment]
        self.matches.decided = decided  # type: ignore[assignment]
        self.matches.current = current  # type: ignore[assignment]
        self.matches.blocks = blocks  # type: ignore[assignment]
        self.fingerprints = fingerprints  # type: ignore[assignment]
