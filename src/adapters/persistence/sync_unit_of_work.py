"""SqlaSyncUnitOfWork: the sync's repositories over one AsyncSession; rolled back on exit unless committed."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.crm_records import SqlaCrmRecordRepository
from adapters.persistence.repositories import SqlaOrgRepository
from adapters.persistence.sync_repositories import (
    SqlaCredentialRepository,
    SqlaOrgStatusRepository,
    SqlaSyncCursorRepository,
    SqlaSyncRunRepository,
)
from adapters.persistence.unit_of_work import SessionUnitOfWork

__all__ = ["SqlaSyncUnitOfWork"]


class SqlaSyncUnitOfWork(SessionUnitOfWork):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.orgs = SqlaOrgRepository(session)
        self.org_status = SqlaOrgStatusRepository(session)
        self.credentials = SqlaCredentialRepository(session)
        self.records = SqlaCrmRecordRepository(session)
        self.cursors = SqlaSyncCursorRepository(session)
        self.runs = SqlaSyncRunRepository(session)
