"""The unit of work of customer resolution: one AsyncSession over customers, matches and the crosswalk."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.customer_repositories import (
    SqlaCrosswalkRepository,
    SqlaCustomerRepository,
    SqlaMatchRepository,
)
from adapters.persistence.tables import accounts
from adapters.persistence.unit_of_work import SessionUnitOfWork
from application.resolution.ports import (
    CrosswalkRepository,
    CustomerRepository,
    MatchRepository,
    ResolutionRecord,
)
from domain.account import AccountKey

__all__ = ["SqlaResolutionUnitOfWork"]


class SqlaResolutionUnitOfWork(SessionUnitOfWork):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.customers: CustomerRepository = SqlaCustomerRepository(session)
        self.matches: MatchRepository = SqlaMatchRepository(session)
        self.crosswalk: CrosswalkRepository = SqlaCrosswalkRepository(session)

    async def records(self) -> list[ResolutionRecord]:
        c = accounts.c
        statement = (
            select(
                c.org_id,
                c.external_id,
                c.name,
                c.website,
                c.phone,
                c.billing_street,
                c.billing_city,
                c.billing_country,
                c.parent_external_id,
            )
            .where(c.is_deleted.is_(False))
            .order_by(c.org_id, c.external_id)
        )
        result = await self._session.execute(statement)
        return [
            ResolutionRecord(AccountKey(r[0], r[1]), r[2], r[3], r[4], r[5], r[6], r[7], r[8]) for r in result
        ]
