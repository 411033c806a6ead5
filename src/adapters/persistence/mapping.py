"""Explicit mapping between table rows and domain objects (the domain never sees SQLAlchemy)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.account import Account
from domain.org import Org, OrgKind

__all__ = ["account_from_row", "account_to_row", "org_from_row", "org_to_row"]

_ACCOUNT_FIELDS = (
    "org_id",
    "external_id",
    "name",
    "currency",
    "website",
    "industry",
    "employees",
    "annual_revenue",
    "billing_street",
    "billing_city",
    "billing_state",
    "billing_postal_code",
    "billing_country",
    "phone",
    "owner_id",
    "owner_name",
    "parent_external_id",
    "created_at",
    "modified_at",
    "is_deleted",
)


def account_to_row(account: Account) -> dict[str, Any]:
    return {name: getattr(account, name) for name in _ACCOUNT_FIELDS}


def account_from_row(row: Mapping[Any, Any]) -> Account:
    return Account(**{name: row[name] for name in _ACCOUNT_FIELDS})


def org_to_row(org: Org) -> dict[str, Any]:
    return {
        "id": org.id,
        "name": org.name,
        "kind": org.kind.value,
        "business_unit": org.business_unit,
        "currency": org.currency,
        "instance_url": org.instance_url,
        "external_id": org.external_id,
        "created_at": org.created_at,
        "sync_schedule": org.sync_schedule,
    }


def org_from_row(row: Mapping[Any, Any]) -> Org:
    return Org(
        id=row["id"],
        name=row["name"],
        kind=OrgKind(row["kind"]),
        business_unit=row["business_unit"],
        currency=row["currency"],
        instance_url=row["instance_url"],
        external_id=row["external_id"],
        created_at=row["created_at"],
        sync_schedule=row["sync_schedule"],
    )
