"""SqlaWhitespaceStore: ownership and open offers per industry or top customer, within an org scope."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, select, true
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.customer_tables import customer_members, customers, product_family_mappings
from adapters.persistence.model_tables import recommendations
from adapters.persistence.tables import accounts, opportunities, opportunity_line_items
from application.whitespace import Whitespace, WhitespaceAxis, WhitespaceCell, WhitespaceRow

__all__ = ["SqlaWhitespaceStore"]

_OPEN = ("new", "accepted")
_UNKNOWN = "Unknown"


def _in(column: Any, readable: frozenset[str] | None) -> ColumnElement[bool]:
    return true() if readable is None else column.in_(sorted(readable))


class SqlaWhitespaceStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    def _members(self, readable: frozenset[str] | None) -> Any:
        """Customers in scope, each with one industry (the first by name among its readable accounts)."""
        m, a, c = customer_members.c, accounts.c, customers.c
        return (
            select(
                m.customer_id,
                func.coalesce(func.min(a.industry), literal(_UNKNOWN)).label("industry"),
            )
            .select_from(
                customer_members.join(
                    customers, and_(c.id == m.customer_id, c.merged_into.is_(None))
                ).outerjoin(accounts, and_(a.org_id == m.org_id, a.external_id == m.external_id))
            )
            .where(_in(m.org_id, readable))
            .group_by(m.customer_id)
            .cte("members")
        )

    def _owned(self, readable: frozenset[str] | None) -> Any:
        """(customer, family) for each won, live line item of a readable member account mapped to a family."""
        m, o, li, pm = (
            customer_members.c,
            opportunities.c,
            opportunity_line_items.c,
            product_family_mappings.c,
        )
        return (
            select(m.customer_id, pm.family_id)
            .distinct()
            .select_from(
                customer_members.join(
                    opportunities, and_(o.org_id == m.org_id, o.account_external_id == m.external_id)
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
                _in(m.org_id, readable),
                o.is_won.is_(True),
                o.is_deleted.is_(False),
                li.is_deleted.is_(False),
                pm.family_id.is_not(None),
            )
            .cte("owned")
        )

    def _offers(self, readable: frozenset[str] | None, members: Any) -> Any:
        """(customer, family, offers, value) of open offers through a readable org to a customer in scope."""
        r = recommendations.c
        return (
            select(
                r.customer_id,
                r.family_id,
                func.count().label("n"),
                func.coalesce(func.sum(r.group_value), 0).label("value"),
            )
            .where(
                r.status.in_(_OPEN),
                _in(r.target_org_id, readable),
                r.customer_id.in_(select(members.c.customer_id)),
            )
            .group_by(r.customer_id, r.family_id)
            .cte("offers")
        )

    async def by_industry(self, readable: frozenset[str] | None) -> Whitespace:
        members = self._members(readable)
        owned = self._owned(readable)
        offers = self._offers(readable, members)
        rows = (
            select(members.c.industry, func.count().label("n"))
            .group_by(members.c.industry)
            .order_by(members.c.industry)
        )
        owned_cells = (
            select(members.c.industry.label("row"), owned.c.family_id, func.count().label("n"))
            .select_from(members.join(owned, owned.c.customer_id == members.c.customer_id))
            .group_by(members.c.industry, owned.c.family_id)
        )
        offer_cells = (
            select(
                members.c.industry.label("row"),
                offers.c.family_id,
                func.count().label("n"),
                func.sum(offers.c.value).label("value"),
            )
            .select_from(members.join(offers, offers.c.customer_id == members.c.customer_id))
            .group_by(members.c.industry, offers.c.family_id)
        )
        async with self._engine.connect() as connection:
            found = [
                WhitespaceRow(row.industry, row.industry, int(row.n))
                for row in await connection.execute(rows)
            ]
            owned_rows = (await connection.execute(owned_cells)).all()
            offer_rows = (await connection.execute(offer_cells)).all()
            currency = await self._currency(connection, readable)
        return _assemble(WhitespaceAxis.INDUSTRY, found, owned_rows, offer_rows, currency)

    async def by_customer(self, readable: frozenset[str] | None, limit: int) -> Whitespace:
        members = self._members(readable)
        owned = self._owned(readable)
        offers = self._offers(readable, members)
        c = customers.c
        top = (
            select(offers.c.customer_id, c.name, func.sum(offers.c.value).label("total"))
            .select_from(offers.join(customers, c.id == offers.c.customer_id))
            .group_by(offers.c.customer_id, c.name)
            .order_by(func.sum(offers.c.value).desc(), offers.c.customer_id)
            .limit(limit)
        )
        async with self._engine.connect() as connection:
            chosen = (await connection.execute(top)).all()
            ids = [row.customer_id for row in chosen]
            owned_rows = (
                await connection.execute(
                    select(owned.c.customer_id.label("row"), owned.c.family_id, literal(1).label("n")).where(
                        owned.c.customer_id.in_(ids)
                    )
                )
            ).all()
            offer_rows = (
                await connection.execute(
                    select(
                        offers.c.customer_id.label("row"),
                        offers.c.family_id,
                        literal(1).label("n"),
                        offers.c.value,
                    ).where(offers.c.customer_id.in_(ids))
                )
            ).all()
            currency = await self._currency(connection, readable)
        found = [WhitespaceRow(row.customer_id, row.name, 1) for row in chosen]
        return _assemble(WhitespaceAxis.CUSTOMER, found, owned_rows, offer_rows, currency)

    @staticmethod
    async def _currency(connection: Any, readable: frozenset[str] | None) -> str | None:
        r = recommendations.c
        statement = select(func.min(r.group_currency)).where(
            r.status.in_(_OPEN), _in(r.target_org_id, readable)
        )
        value = (await connection.execute(statement)).scalar()
        return None if value is None else str(value)


def _assemble(
    by: WhitespaceAxis,
    rows: list[WhitespaceRow],
    owned_rows: Sequence[Any],
    offer_rows: Sequence[Any],
    currency: str | None,
) -> Whitespace:
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for row in owned_rows:
        cells.setdefault((row.row, row.family_id), {"owned": 0, "recommended": 0, "value": 0.0})["owned"] = (
            int(row.n)
        )
    for row in offer_rows:
        cell = cells.setdefault((row.row, row.family_id), {"owned": 0, "recommended": 0, "value": 0.0})
        cell["recommended"] = int(row.n)
        cell["value"] = float(row.value)
    families = sorted({family for _row, family in cells})
    return Whitespace(
        by=by,
        rows=rows,
        families=families,
        cells=[
            WhitespaceCell(row, family, c["owned"], c["recommended"], round(c["value"], 2))
            for (row, family), c in sorted(cells.items())
        ],
        currency=currency,
    )
