"""SqlaCustomerDirectory: resolved customers read within an org scope (search, one customer's profile)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import ColumnElement, and_, func, select, true, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.customer_tables import customer_members, customers, product_family_mappings
from adapters.persistence.tables import accounts, opportunities, opportunity_line_items
from application.customers import CustomerAccount, CustomerProfile, CustomerSummary

__all__ = ["SqlaCustomerDirectory"]


def _members_in(readable: frozenset[str] | None) -> ColumnElement[bool]:
    return true() if readable is None else customer_members.c.org_id.in_(sorted(readable))


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class SqlaCustomerDirectory:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def search(
        self, text: str | None, readable: frozenset[str] | None, after: tuple[str, str] | None, limit: int
    ) -> list[CustomerSummary]:
        c, m = customers.c, customer_members.c
        statement = (
            select(
                c.id,
                c.name,
                func.array_agg(func.distinct(m.org_id)).label("org_ids"),
                func.count().label("n"),
            )
            .select_from(customers.join(customer_members, m.customer_id == c.id))
            .where(c.merged_into.is_(None), _members_in(readable))
            .group_by(c.id, c.name)
            .order_by(c.name, c.id)
            .limit(limit)
        )
        if text is not None:
            statement = statement.where(c.name.ilike(_like(text), escape="\\"))
        if after is not None:
            statement = statement.where(tuple_(c.name, c.id) > tuple_(*after))
        async with self._engine.connect() as connection:
            rows = await connection.execute(statement)
            return [CustomerSummary(row.id, row.name, tuple(sorted(row.org_ids)), int(row.n)) for row in rows]

    async def profile(self, customer_id: str, readable: frozenset[str] | None) -> CustomerProfile | None:
        c, m, a = customers.c, customer_members.c, accounts.c
        members = (
            select(
                c.name.label("customer_name"),
                m.org_id,
                m.external_id,
                m.confidence,
                m.method,
                a.name,
                a.industry,
            )
            .select_from(
                customers.join(customer_members, m.customer_id == c.id).outerjoin(
                    accounts, and_(a.org_id == m.org_id, a.external_id == m.external_id)
                )
            )
            .where(c.id == customer_id, c.merged_into.is_(None), _members_in(readable))
            .order_by(m.org_id, m.external_id)
        )
        o, li, pm = opportunities.c, opportunity_line_items.c, product_family_mappings.c
        # Owned = a line item of a won, live opportunity of a member account, mapped to a family.
        owned = (
            select(m.org_id, pm.family_id)
            .distinct()
            .select_from(
                customer_members.join(
                    opportunities,
                    and_(o.org_id == m.org_id, o.account_external_id == m.external_id),
                )
                .join(
                    opportunity_line_items,
                    and_(li.org_id == o.org_id, li.opportunity_external_id == o.external_id),
                )
                .join(
                    product_family_mappings,
                    and_(pm.org_id == li.org_id, pm.external_id == li.product_external_id),
                )
            )
            .where(
                m.customer_id == customer_id,
                _members_in(readable),
                o.is_won.is_(True),
                o.is_deleted.is_(False),
                li.is_deleted.is_(False),
                pm.family_id.is_not(None),
            )
            .order_by(m.org_id, pm.family_id)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(members)).all()
            if not rows:
                return None
            families: dict[str, list[str]] = defaultdict(list)
            for row in await connection.execute(owned):
                families[row.org_id].append(row.family_id)
        return CustomerProfile(
            id=customer_id,
            name=rows[0].customer_name,
            accounts=[
                CustomerAccount(
                    row.org_id, row.external_id, row.name, row.industry, row.confidence, row.method
                )
                for row in rows
            ],
            families_by_org=dict(families),
        )
