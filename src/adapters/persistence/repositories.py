"""SQLAlchemy repositories over an AsyncSession that the unit of work owns."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, tuple_, union_all, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.mapping import account_from_row, account_to_row, org_from_row, org_to_row
from adapters.persistence.tables import accounts, orgs
from domain.account import Account, AccountKey
from domain.org import Org

__all__ = ["SqlaAccountRepository", "SqlaOrgRepository"]

# PostgreSQL accepts at most 32767 bind parameters per statement.
_MAX_PARAMS = 32_000


class SqlaOrgRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, org_id: str) -> Org | None:
        row = (await self._session.execute(select(orgs).where(orgs.c.id == org_id))).mappings().first()
        return None if row is None else org_from_row(row)

    async def add(self, org: Org) -> None:
        await self._session.execute(insert(orgs).values(org_to_row(org)))

    async def list(self) -> list[Org]:
        rows = (await self._session.execute(select(orgs).order_by(orgs.c.id))).mappings()
        return [org_from_row(row) for row in rows]

    async def update(self, org: Org) -> None:
        values = {key: value for key, value in org_to_row(org).items() if key != "id"}
        await self._session.execute(update(orgs).where(orgs.c.id == org.id).values(values))


class SqlaAccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, key: AccountKey) -> Account | None:
        statement = select(accounts).where(
            accounts.c.org_id == key.org_id, accounts.c.external_id == key.external_id
        )
        row = (await self._session.execute(statement)).mappings().first()
        return None if row is None else account_from_row(row)

    async def upsert(self, items: Sequence[Account]) -> None:
        # The last version of a key wins inside one batch; PostgreSQL rejects a batch touching a row twice.
        unique = {account.key: account_to_row(account) for account in items}
        rows = list(unique.values())
        if not rows:
            return
        batch = max(1, _MAX_PARAMS // len(rows[0]))
        for start in range(0, len(rows), batch):
            statement = insert(accounts).values(rows[start : start + batch])
            updated = {
                column.name: statement.excluded[column.name]
                for column in accounts.columns
                if column.name not in ("org_id", "external_id", "synced_at")
            }
            await self._session.execute(
                statement.on_conflict_do_update(index_elements=["org_id", "external_id"], set_=updated)
            )

    async def list_after(self, org_ids: Sequence[str], after: AccountKey | None, limit: int) -> list[Account]:
        if not org_ids:
            statement = select(accounts)
            if after is not None:
                statement = statement.where(
                    tuple_(accounts.c.org_id, accounts.c.external_id)
                    > tuple_(after.org_id, after.external_id)
                )
            statement = statement.order_by(accounts.c.org_id, accounts.c.external_id).limit(limit)
        else:
            # PostgreSQL 16 will not start an index scan at a row comparison when org_id is also
            # constrained (it reads the org from its first row instead), so each org gets its own range
            # scan and the pages are merged.
            parts = []
            for org_id in sorted(set(org_ids)):
                if after is not None and org_id < after.org_id:
                    continue
                part = select(accounts).where(accounts.c.org_id == org_id)
                if after is not None and org_id == after.org_id:
                    part = part.where(accounts.c.external_id > after.external_id)
                parts.append(select(part.order_by(accounts.c.external_id).limit(limit).subquery()))
            if not parts:
                return []
            merged = union_all(*parts).subquery()
            statement = select(merged).order_by(merged.c.org_id, merged.c.external_id).limit(limit)
        rows = (await self._session.execute(statement)).mappings()
        return [account_from_row(row) for row in rows]
