"""Working in-memory write-back storage and the reads it needs, for unit tests of the write-back."""

from __future__ import annotations

import copy
from datetime import datetime
from uuid import UUID

from application.customers import CustomerAccount, CustomerProfile, CustomerSummary
from application.models.feedback import RecommendationFilter
from application.models.recommendation_query import RecommendationPosition, RecommendationQuery
from domain.recommendation import Recommendation
from domain.write_back import WriteBack, WriteBackStatus


class FakeWriteBackRepository:
    """Rows by id, with both unique rules of the table; every read hands out a copy, like a database."""

    def __init__(self) -> None:
        self.rows: dict[UUID, WriteBack] = {}

    async def add(self, write_back: WriteBack) -> bool:
        for row in self.rows.values():
            if row.idempotency_key == write_back.idempotency_key or (
                row.recommendation_id == write_back.recommendation_id and row.kind is write_back.kind
            ):
                return False
        self.rows[write_back.id] = copy.deepcopy(write_back)
        return True

    async def with_key(self, idempotency_key: str) -> WriteBack | None:
        found = next((r for r in self.rows.values() if r.idempotency_key == idempotency_key), None)
        return copy.deepcopy(found)

    async def of_recommendation(self, recommendation_id: str) -> list[WriteBack]:
        rows = [r for r in self.rows.values() if r.recommendation_id == recommendation_id]
        return copy.deepcopy(sorted(rows, key=lambda r: (r.created_at, str(r.id))))

    async def claim(self, write_back_id: UUID, *, at: datetime, stale_before: datetime) -> WriteBack | None:
        row = self.rows.get(write_back_id)
        if row is None or row.status is WriteBackStatus.DONE:
            return None
        if row.attempted_at is not None and row.attempted_at >= stale_before:
            return None
        row.attempted_at = at
        return copy.deepcopy(row)

    async def save(self, write_back: WriteBack) -> None:
        self.rows[write_back.id] = copy.deepcopy(write_back)


class FakeRecommendations:
    """Recommendations by id; in scope when the target org is readable (the SQL adapter asks more)."""

    def __init__(self, items: list[Recommendation]) -> None:
        self.items = {item.id: item for item in items}

    async def get(
        self, recommendation_id: str, readable: frozenset[str] | None = None
    ) -> Recommendation | None:
        item = self.items.get(recommendation_id)
        if item is None or (readable is not None and item.target_org_id not in readable):
            return None
        return copy.deepcopy(item)

    async def save_decision(self, recommendation: Recommendation) -> bool:
        self.items[recommendation.id] = copy.deepcopy(recommendation)
        return True

    async def find(self, where: RecommendationFilter) -> list[Recommendation]:
        return []

    async def page(
        self, query: RecommendationQuery, after: RecommendationPosition | None, limit: int
    ) -> list[Recommendation]:
        return []

    async def count(self, query: RecommendationQuery) -> int:
        return 0


class FakeCustomerDirectory:
    """Customers with their member accounts; a profile shows only the accounts in readable orgs."""

    def __init__(self, customers: dict[str, tuple[str, list[CustomerAccount]]]) -> None:
        self.customers = customers

    async def search(
        self, text: str | None, readable: frozenset[str] | None, after: tuple[str, str] | None, limit: int
    ) -> list[CustomerSummary]:
        return []

    async def profile(self, customer_id: str, readable: frozenset[str] | None) -> CustomerProfile | None:
        if customer_id not in self.customers:
            return None
        name, accounts = self.customers[customer_id]
        shown = [a for a in accounts if readable is None or a.org_id in readable]
        return CustomerProfile(customer_id, name, shown) if shown else None


class FakeFamilyNames:
    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    async def family_names(self) -> dict[str, str]:
        return dict(self.names)
