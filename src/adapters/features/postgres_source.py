"""SqlaFeatureSource: reads, as of a cutoff, the synced records and the customer and family mappings.

It filters what was created before the cutoff to read less; the computation applies every point-in-time
rule again. Records deleted in the CRM are left out of every cutoff: deletions carry no timestamp here,
so a deleted record cannot be placed in time (it errs towards forgetting, never towards the future).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Float, Select, cast, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.persistence.customer_tables import (
    customer_members,
    customers,
    product_families,
    product_family_mappings,
)
from adapters.persistence.tables import accounts, activities, opportunities, opportunity_line_items
from application.features.model import FeatureInputs, cutoff_instant

__all__ = ["SqlaFeatureSource"]


async def _frame(connection: AsyncConnection, query: Select[Any], columns: Sequence[str]) -> pd.DataFrame:
    result = await connection.execute(query)
    return pd.DataFrame(result.all(), columns=list(columns))


class SqlaFeatureSource:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def load(self, as_of: date) -> FeatureInputs:
        cutoff = cutoff_instant(as_of)
        opp_known = func.coalesce(opportunities.c.created_at, opportunities.c.modified_at)
        item_known = func.coalesce(opportunity_line_items.c.created_at, opportunity_line_items.c.modified_at)
        act_known = func.coalesce(activities.c.created_at, activities.c.modified_at)
        async with self._engine.connect() as connection:
            families = await connection.scalars(
                select(product_families.c.id)
                .where(product_families.c.is_active)
                .order_by(product_families.c.id)
            )
            family_ids = tuple(families)
            members = await _frame(
                connection,
                select(
                    customer_members.c.customer_id,
                    customer_members.c.org_id,
                    customer_members.c.external_id,
                    customer_members.c.confidence,
                )
                .join(customers, customers.c.id == customer_members.c.customer_id)
                .where(customers.c.merged_into.is_(None)),
                ["customer_id", "org_id", "account_id", "confidence"],
            )
            account_frame = await _frame(
                connection,
                select(
                    accounts.c.org_id,
                    accounts.c.external_id,
                    accounts.c.industry,
                    accounts.c.employees,
                    cast(accounts.c.annual_revenue, Float(precision=53)),
                    accounts.c.billing_country,
                    accounts.c.created_at,
                ).where(~accounts.c.is_deleted, accounts.c.created_at < cutoff),
                ["org_id", "account_id", "industry", "employees", "annual_revenue", "country", "created_at"],
            )
            products = await _frame(
                connection,
                select(
                    product_family_mappings.c.org_id,
                    product_family_mappings.c.external_id,
                    product_family_mappings.c.family_id,
                ).where(product_family_mappings.c.family_id.is_not(None)),
                ["org_id", "product_id", "family_id"],
            )
            opportunity_frame = await _frame(
                connection,
                select(
                    opportunities.c.org_id,
                    opportunities.c.external_id,
                    opportunities.c.account_external_id,
                    cast(opportunities.c.amount, Float(precision=53)),
                    opportunities.c.is_closed,
                    opportunities.c.is_won,
                    opportunities.c.close_date,
                    opp_known,
                ).where(~opportunities.c.is_deleted, opp_known < cutoff),
                [
                    "org_id",
                    "opportunity_id",
                    "account_id",
                    "amount",
                    "is_closed",
                    "is_won",
                    "close_date",
                    "created_at",
                ],
            )
            items = opportunity_line_items
            item_frame = await _frame(
                connection,
                select(
                    items.c.org_id,
                    items.c.external_id,
                    items.c.opportunity_external_id,
                    items.c.product_external_id,
                    cast(items.c.total_price, Float(precision=53)),
                    item_known,
                ).where(~items.c.is_deleted, item_known < cutoff),
                ["org_id", "line_item_id", "opportunity_id", "product_id", "total_price", "created_at"],
            )
            activity_frame = await _frame(
                connection,
                select(
                    activities.c.org_id,
                    activities.c.account_external_id,
                    activities.c.kind,
                    activities.c.activity_type,
                    activities.c.activity_at,
                    act_known,
                ).where(~activities.c.is_deleted, act_known < cutoff, activities.c.activity_at < cutoff),
                ["org_id", "account_id", "kind", "activity_type", "activity_at", "created_at"],
            )
        return FeatureInputs(
            as_of=as_of,
            families=family_ids,
            members=members,
            accounts=account_frame,
            products=products,
            opportunities=opportunity_frame,
            line_items=item_frame,
            activities=activity_frame,
        )
