"""Job persistence ports: the jobs themselves and the outbox their messages wait in until relayed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from application.ports.repositories import OrgRepository
from application.ports.unit_of_work import Transaction
from domain.job import Job

__all__ = ["JobRepository", "JobUnitOfWork", "Outbox", "OutboxMessage"]


@dataclass(frozen=True)
class OutboxMessage:
    """What a worker is to run: the actor's name and its keyword arguments (ids and options, no secret)."""

    job_id: UUID
    actor: str
    kwargs: dict[str, str | int | float | bool | None]
    created_at: datetime


class JobRepository(Protocol):
    async def add(self, job: Job) -> None: ...

    async def get(self, job_id: UUID, *, for_update: bool = False) -> Job | None:
        """The job; `for_update` locks its row until the transaction ends, so two deliveries of one
        message take turns."""
        ...

    async def update(self, job: Job) -> None: ...

    async def newest(
        self, readable: frozenset[str] | None, limit: int, after: tuple[datetime, UUID] | None
    ) -> list[Job]:
        """Newest first, ties by id; only jobs on no org or on an org in `readable` (None: every job);
        `after`: the (created_at, id) of the last job of the previous page."""
        ...


class Outbox(Protocol):
    async def add(self, message: OutboxMessage) -> None:
        """Store the message in the current transaction; a relay sends it once that commits."""
        ...


class JobUnitOfWork(Transaction, Protocol):
    @property
    def jobs(self) -> JobRepository: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def orgs(self) -> OrgRepository: ...
