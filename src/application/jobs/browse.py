"""Reading jobs: one by id, or the newest first a page at a time, within the caller's org grants."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from application.errors import InvalidCursorError
from application.jobs.ports import JobUnitOfWork
from application.pagination import Page, decode_cursor, encode_cursor
from domain.access import Principal
from domain.errors import NotFoundError
from domain.job import Job

__all__ = ["ListJobs", "ShowJob"]

_CURSOR_KIND = "jobs"


def _visible(job: Job, principal: Principal) -> bool:
    return job.org_id is None or principal.can_read_org(job.org_id)


class ShowJob:
    def __init__(self, uow: JobUnitOfWork) -> None:
        self._uow = uow

    async def execute(self, job_id: UUID, principal: Principal) -> Job:
        """Raises NotFoundError for an unknown job and, alike, for a job on an org `principal` may not
        read."""
        async with self._uow as uow:
            job = await uow.jobs.get(job_id)
            if job is None or not _visible(job, principal):
                raise NotFoundError(f"no job {job_id}")
            return job


class ListJobs:
    def __init__(self, uow: JobUnitOfWork) -> None:
        self._uow = uow

    async def execute(self, principal: Principal, *, limit: int, cursor: str | None = None) -> Page[Job]:
        """Raises InvalidCursorError for a cursor xsell did not issue for this list."""
        after = None
        if cursor is not None:
            created_at, job_id = decode_cursor(_CURSOR_KIND, cursor, 2)
            try:
                after = (datetime.fromisoformat(created_at), UUID(job_id))
            except ValueError:
                raise InvalidCursorError("the cursor does not belong to this list") from None
        async with self._uow as uow:
            jobs = await uow.jobs.newest(principal.read_scope, limit + 1, after)
        next_cursor = None
        if len(jobs) > limit:
            jobs = jobs[:limit]
            last = jobs[-1]
            next_cursor = encode_cursor(_CURSOR_KIND, (last.created_at.isoformat(), str(last.id)))
        return Page(jobs, next_cursor)
