"""SQLAlchemy repositories of jobs and of their outbox messages."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.job_tables import jobs, outbox
from application.jobs.ports import OutboxMessage
from domain.job import Job, JobKind, JobStatus

__all__ = ["SqlaJobRepository", "SqlaOutbox", "job_from_row"]


def _to_row(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind.value,
        "org_id": job.org_id,
        "parameters": job.parameters,
        "status": job.status.value,
        "requested_by": job.requested_by,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "attempts": job.attempts,
        "error": job.error,
        "result": job.result,
    }


def job_from_row(row: Mapping[Any, Any]) -> Job:
    return Job(
        id=row["id"],
        kind=JobKind(row["kind"]),
        org_id=row["org_id"],
        parameters=dict(row["parameters"]),
        status=JobStatus(row["status"]),
        requested_by=row["requested_by"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        attempts=row["attempts"],
        error=row["error"],
        result=dict(row["result"]),
    )


class SqlaJobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, job: Job) -> None:
        await self._session.execute(insert(jobs).values(_to_row(job)))

    async def get(self, job_id: UUID, *, for_update: bool = False) -> Job | None:
        statement = select(jobs).where(jobs.c.id == job_id)
        if for_update:
            statement = statement.with_for_update()
        row = (await self._session.execute(statement)).mappings().first()
        return None if row is None else job_from_row(row)

    async def update(self, job: Job) -> None:
        values = _to_row(job)
        del values["id"]
        await self._session.execute(update(jobs).where(jobs.c.id == job.id).values(values))

    async def newest(
        self, readable: frozenset[str] | None, limit: int, after: tuple[datetime, UUID] | None
    ) -> list[Job]:
        statement = select(jobs)
        if readable is not None:
            statement = statement.where(or_(jobs.c.org_id.is_(None), jobs.c.org_id.in_(sorted(readable))))
        if after is not None:
            statement = statement.where(tuple_(jobs.c.created_at, jobs.c.id) < tuple_(*after))
        statement = statement.order_by(jobs.c.created_at.desc(), jobs.c.id.desc()).limit(limit)
        return [job_from_row(row) for row in (await self._session.execute(statement)).mappings()]


class SqlaOutbox:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, message: OutboxMessage) -> None:
        await self._session.execute(
            insert(outbox).values(
                job_id=message.job_id,
                actor=message.actor,
                message=message.kwargs,
                created_at=message.created_at,
            )
        )
