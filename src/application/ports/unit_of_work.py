"""UnitOfWork: one transaction across repositories; it rolls back unless the use case commits."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from application.ports.repositories import AccountRepository, OrgRepository

__all__ = ["Transaction", "UnitOfWork"]


class Transaction(Protocol):
    """What every unit of work does: one transaction, committed by the use case or rolled back on exit."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Roll back whatever was not committed."""
        ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class UnitOfWork(Transaction, Protocol):
    @property
    def accounts(self) -> AccountRepository: ...

    @property
    def orgs(self) -> OrgRepository: ...
