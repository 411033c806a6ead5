"""SqlaCustomerHistory: a customer's opportunities and activities across its readable member accounts."""

from __future__ import annotations

from sqlalchemy import ColumnElement, DateTime, Numeric, and_, cast, literal, null, select, true, union_all
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.customer_tables import customer_members
from adapters.persistence.tables import activities, opportunities
from application.customers import TimelineEvent

__all__ = ["SqlaCustomerHistory"]


def _members_in(readable: frozenset[str] | None) -> ColumnElement[bool]:
    return true() if readable is None else customer_members.c.org_id.in_(sorted(readable))


class SqlaCustomerHistory:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def timeline(
        self, customer_id: str, readable: frozenset[str] | None, limit: int
    ) -> list[TimelineEvent]:
        m, o, a = customer_members.c, opportunities.c, activities.c
        member = and_(m.customer_id == customer_id, _members_in(readable))
        deals = (
            select(
                cast(o.close_date, DateTime(timezone=True)).label("at"),
                o.org_id,
                o.account_external_id.label("account_id"),
                literal("opportunity").label("kind"),
                o.name.label("title"),
                o.stage.label("stage"),
                o.amount.label("amount"),
                o.currency.label("currency"),
                o.external_id,
            )
            .select_from(
                customer_members.join(
                    opportunities, and_(o.org_id == m.org_id, o.account_external_id == m.external_id)
                )
            )
            .where(member, o.is_deleted.is_(False))
        )
        doings = (
            select(
                a.activity_at.label("at"),
                a.org_id,
                a.account_external_id.label("account_id"),
                a.kind.label("kind"),
                a.subject.label("title"),
                a.activity_type.label("stage"),
                cast(null(), Numeric(20, 2)).label("amount"),
                a.status.label("currency"),
                a.external_id,
            )
            .select_from(
                customer_members.join(
                    activities, and_(a.org_id == m.org_id, a.account_external_id == m.external_id)
                )
            )
            .where(member, a.is_deleted.is_(False))
        )
        events = union_all(deals, doings).subquery()
        statement = (
            select(events)
            .order_by(events.c.at.desc().nulls_last(), events.c.org_id, events.c.external_id)
            .limit(limit)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(statement)).all()
        return [
            TimelineEvent(
                at=row.at,
                org_id=row.org_id,
                account_id=row.account_id,
                kind=row.kind,
                title=row.title,
                detail=_detail(row.kind, row.stage, row.amount, row.currency),
            )
            for row in rows
        ]


def _detail(kind: str, stage: str | None, amount: object, third: str | None) -> str | None:
    """Stage and amount of an opportunity; type and status of an activity (the union's shared columns)."""
    if kind == "opportunity":
        money = None if amount is None else f"{amount:,} {third or ''}".strip()
        parts = [stage, money]
    else:
        parts = [stage, third]
    return " · ".join(p for p in parts if p) or None
