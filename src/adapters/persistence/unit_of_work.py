"""SQLAlchemy units of work: one AsyncSession each, rolled back on exit unless committed."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.repositories import SqlaAccountRepository, SqlaOrgRepository

__all__ = ["SessionUnitOfWork", "SqlaUnitOfWork"]


class SessionUnitOfWork:
    """One AsyncSession for a unit of work; subclasses add the repositories their use cases need. With
    `owns_session` the session is closed when the unit of work ends (one made for it alone)."""

    def __init__(self, session: AsyncSession, *, owns_session: bool = False) -> None:
        self._session = session
        self._owns_session = owns_session

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self.rollback()
        finally:
            if self._owns_session:
                await self._session.close()

    async def commit(self) -> None:
        await self._session.commit()

    async def rollback(self) -> None:
        await self._session.rollback()


class SqlaUnitOfWork(SessionUnitOfWork):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.accounts = SqlaAccountRepository(session)
        self.orgs = SqlaOrgRepository(session)
