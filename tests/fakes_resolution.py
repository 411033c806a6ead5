"""Working in-memory doubles of the resolution ports, for unit tests of the resolution use cases."""

from __future__ import annotations

import copy
from collections.abc import Collection, Sequence
from typing import Self

from application.resolution.ports import (
    PairDecision,
    ProductRecord,
    ResolutionRecord,
    ResolutionState,
    ScoredMatch,
)
from domain.account import AccountKey
from domain.crosswalk import ProductCrosswalk
from domain.customer import Customer, CustomerChange
from domain.resolution.hierarchy import CustomerRelation


class FakeCustomerRepository:
    def __init__(self, store: dict[str, Customer]) -> None:
        self._store = store
        self.related: list[CustomerRelation] = []

    async def relations(self) -> list[CustomerRelation]:
        return sorted(self.related)

    async def replace_relations(self, relations: Collection[CustomerRelation]) -> None:
        self.related = sorted(relations)

    async def all(self) -> list[Customer]:
        return [copy.deepcopy(self._store[i]) for i in sorted(self._store)]

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
        self.current = ResolutionState(None, {})

    async def pairs(self) -> list[ScoredMatch]:
        return list(self.stored.values())

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

    async def state(self) -> ResolutionState:
        return self.current

    async def save_state(self, state: ResolutionState, changed: Collection[AccountKey] | None) -> None:
        self.current = ResolutionState(state.statistics, dict(state.fingerprints), state.last_run_at)


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
        self.commits = 0
        self._snapshot = self._take()

    def _take(self) -> tuple[object, ...]:
        return copy.deepcopy(
            (self.customer_store, self.matches.stored, self.matches.decided, self.matches.current)
        )

    async def records(self) -> list[ResolutionRecord]:
        return list(self.accounts)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.rollback()

    async def commit(self) -> None:
        self.commits += 1
        self._snapshot = self._take()

    async def rollback(self) -> None:
        customers, stored, decided, current = copy.deepcopy(self._snapshot)
        self.customer_store.clear()
        self.customer_store.update(customers)  # type: ignore[arg-type]
        self.matches.stored = stored  # type: ignore[assignment]
        self.matches.decided = decided  # type: ignore[assignment]
        self.matches.current = current  # type: ignore[assignment]
