"""The unit of work of authentication and user administration."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.auth_repositories import (
    SqlaServiceClientRepository,
    SqlaSessionRepository,
    SqlaUserRepository,
)
from adapters.persistence.repositories import SqlaOrgRepository
from adapters.persistence.unit_of_work import SessionUnitOfWork

__all__ = ["SqlaAuthUnitOfWork"]


class SqlaAuthUnitOfWork(SessionUnitOfWork):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.users = SqlaUserRepository(session)
        self.clients = SqlaServiceClientRepository(session)
        self.sessions = SqlaSessionRepository(session)
        self.orgs = SqlaOrgRepository(session)
