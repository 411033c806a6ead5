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
from application.ports.cache import ChangeNotice, NoChangeNotice

__all__ = ["SqlaAuthUnitOfWork"]


class SqlaAuthUnitOfWork(SessionUnitOfWork):
    """`changes` is told after every commit: principals cached from before are not reused after it."""

    def __init__(
        self, session: AsyncSession, changes: ChangeNotice | None = None, *, owns_session: bool = False
    ) -> None:
        super().__init__(session, owns_session=owns_session)
        self._changes: ChangeNotice = changes or NoChangeNotice()
        self.users = SqlaUserRepository(session)
        self.clients = SqlaServiceClientRepository(session)
        self.sessions = SqlaSessionRepository(session)
        self.orgs = SqlaOrgRepository(session)

    async def commit(self) -> None:
        await super().commit()
        await self._changes.changed()
