"""The API's wire types (msgspec Structs) and their conversion from domain objects."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import msgspec

from domain.account import Account

__all__ = ["AccountOut", "AccountPage", "HealthOut", "ReadinessOut"]


class AccountOut(msgspec.Struct, frozen=True, kw_only=True):
    """An account as one org knows it."""

    org_id: str
    id: str
    name: str
    website: str | None
    domain: str | None
    industry: str | None
    employees: int | None
    annual_revenue: Decimal | None
    currency: str
    billing_city: str | None
    billing_state: str | None
    billing_country: str | None
    phone: str | None
    owner_name: str | None
    parent_id: str | None
    created_at: datetime
    modified_at: datetime
    is_deleted: bool

    @classmethod
    def of(cls, account: Account) -> AccountOut:
        return cls(
            org_id=account.org_id,
            id=account.external_id,
            name=account.name,
            website=account.website,
            domain=account.domain,
            industry=account.industry,
            employees=account.employees,
            annual_revenue=account.annual_revenue,
            currency=account.currency,
            billing_city=account.billing_city,
            billing_state=account.billing_state,
            billing_country=account.billing_country,
            phone=account.phone,
            owner_name=account.owner_name,
            parent_id=account.parent_external_id,
            created_at=account.created_at,
            modified_at=account.modified_at,
            is_deleted=account.is_deleted,
        )


class AccountPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of accounts. Pass `next_cursor` as `cursor` to get the next page; null on the last page."""

    items: list[AccountOut]
    next_cursor: str | None


class HealthOut(msgspec.Struct, frozen=True):
    status: str


class ReadinessOut(msgspec.Struct, frozen=True):
    """`ready` is true when the API can serve; `status` is `ok`, `degraded` (Redis down: answers uncached,
    rate limits not enforced, new jobs wait in the outbox) or `unavailable` (PostgreSQL down); `checks`
    gives each dependency's state or failure reason."""

    ready: bool
    status: Annotated[str, msgspec.Meta(examples=["ok"])]
    checks: dict[str, str]
