"""SqlaSyncUnitOfWork: the sync's repositories over one AsyncSession; rolled back on exit unless committed."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.crm_records import SqlaCrmRecordRepository
from adapters.persistence.repositories import SqlaOrgRepository
from adapters.persistence.sync_repositories import (
    SqlaCredentialRepository,
    SqlaOrgStatusRepository,
    SqlaSyncCursorRepository,
    SqlaSyncRunRepository,
)

__all__ = ["SqlaSyncUnitOfWork"]


class SqlaSyncUnitOfWork:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self.orgs = SqlaOrgRepository(session)
        self.org_status = SqlaOrgStatusRepository(session)
        self.credentials = SqlaCredentialRepository(session)
        self.records = SqlaCrmRecordRepository(session)
        self.cursors = SqlaSyncCursorRepository(session)
        self.runs = SqlaSyncRunRepository(session)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.rollback()

    async def commit(self) -> None:
        await self._session.commit()

    async def rollback(self) -> None:
        await self._session.rollback()
