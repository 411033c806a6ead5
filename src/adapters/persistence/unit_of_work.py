"""The SQLAlchemy unit of work: one AsyncSession, rolled back on exit unless committed."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.repositories import SqlaAccountRepository, SqlaOrgRepository

__all__ = ["SqlaUnitOfWork"]


class SqlaUnitOfWork:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self.accounts = SqlaAccountRepository(session)
        self.orgs = SqlaOrgRepository(session)

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
