"""Repositories: collections of aggregates, one protocol per aggregate."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.account import Account, AccountKey
from domain.org import Org

__all__ = ["AccountRepository", "OrgRepository"]


class OrgRepository(Protocol):
    async def get(self, org_id: str) -> Org | None: ...

    async def add(self, org: Org) -> None: ...

    async def list(self) -> list[Org]: ...

    async def update(self, org: Org) -> None:
        """Store the org's changed settings (its id never changes)."""
        ...


class AccountRepository(Protocol):
    async def get(self, key: AccountKey) -> Account | None: ...

    async def upsert(self, items: Sequence[Account]) -> None:
        """Insert or replace by (org_id, external_id)."""
        ...

    async def list_after(self, org_ids: Sequence[str], after: AccountKey | None, limit: int) -> list[Account]:
        """Up to `limit` accounts in key order strictly after `after`; all orgs when `org_ids` is empty."""
        ...
