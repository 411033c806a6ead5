"""The unit of work of jobs: a job and its outbox message are written in one transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.job_repositories import SqlaJobRepository, SqlaOutbox
from adapters.persistence.repositories import SqlaOrgRepository
from adapters.persistence.unit_of_work import SessionUnitOfWork

__all__ = ["SqlaJobUnitOfWork"]


class SqlaJobUnitOfWork(SessionUnitOfWork):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.jobs = SqlaJobRepository(session)
        self.outbox = SqlaOutbox(session)
        self.orgs = SqlaOrgRepository(session)
