"""RequestJob: record a job and its outbox message in one transaction, then try to hand it over at once."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass

from application.errors import DependencyUnavailableError, InvalidRequestError, PermissionDeniedError
from application.jobs.ports import JobUnitOfWork, OutboxMessage
from application.models.ports import TRAINING_PROFILES
from application.ports.clock import Clock
from application.ports.task_queue import TaskQueue
from domain.access import Principal, Role
from domain.errors import NotFoundError
from domain.job import Job, JobKind

__all__ = ["ACTORS", "JobRequest", "RequestJob"]

# The worker actor that runs each kind of job.
ACTORS: dict[JobKind, str] = {
    JobKind.SYNC: "sync_org",
    JobKind.SYNC_ALL: "sync_all",
    JobKind.RESOLVE: "resolve",
    JobKind.TRAIN: "train",
    JobKind.SCORE: "score",
}


@dataclass(frozen=True)
class JobRequest:
    """`org_id` for a sync; `full` for a sync (every record again) or a resolution (every pair again);
    `profile` for a training (quick, standard, thorough)."""

    kind: JobKind
    org_id: str | None = None
    full: bool = False
    profile: str | None = None


class RequestJob:
    def __init__(self, uow: JobUnitOfWork, queue: TaskQueue, clock: Clock) -> None:
        self._uow, self._queue, self._clock = uow, queue, clock

    async def execute(self, request: JobRequest, principal: Principal) -> Job:
        """Raises PermissionDeniedError for a caller who may not start work, NotFoundError for a sync of an
        org that is unknown or not granted, InvalidRequestError for options the kind does not take.

        The job is queued even when the queue cannot be reached: its message waits in the outbox."""
        if principal.role not in (Role.ADMIN, Role.ANALYST):
            raise PermissionDeniedError("starting work needs the admin or analyst role")
        if request.kind is JobKind.SYNC_ALL and not principal.is_admin:
            raise PermissionDeniedError("a sync of every org needs the admin role")
        parameters, kwargs = self._arguments(request, principal)
        now = self._clock.now()
        job = Job(
            id=uuid.uuid4(),
            kind=request.kind,
            parameters=parameters,
            requested_by=principal.subject,
            created_at=now,
            org_id=request.org_id if request.kind is JobKind.SYNC else None,
        )
        async with self._uow as uow:
            if job.org_id is not None and (
                not principal.can_read_org(job.org_id) or await uow.orgs.get(job.org_id) is None
            ):
                raise NotFoundError(f"no org {job.org_id!r}")
            await uow.jobs.add(job)
            kwargs["job_id"] = str(job.id)
            await uow.outbox.add(OutboxMessage(job.id, ACTORS[job.kind], kwargs, now))
            await uow.commit()
        # Committed: the relays of the worker and scheduler send it within seconds whatever happens here.
        with contextlib.suppress(DependencyUnavailableError):
            await self._queue.send_pending()
        return job

    @staticmethod
    def _arguments(
        request: JobRequest, principal: Principal
    ) -> tuple[dict[str, str | int | float | bool | None], dict[str, str | int | float | bool | None]]:
        kind = request.kind
        if (kind is JobKind.SYNC) != (request.org_id is not None):
            raise InvalidRequestError("a sync names one org (org_id); other kinds of job take no org")
        if request.full and kind not in (JobKind.SYNC, JobKind.RESOLVE):
            raise InvalidRequestError(f"`full` applies to sync and resolve jobs, not {kind.value}")
        if request.profile is not None and kind is not JobKind.TRAIN:
            raise InvalidRequestError(f"`profile` applies to train jobs, not {kind.value}")
        if kind is JobKind.SYNC:
            return {"full": request.full}, {"org_id": request.org_id, "full": request.full}
        if kind is JobKind.RESOLVE:
            return {"full": request.full}, {"full": request.full}
        if kind is JobKind.TRAIN:
            profile = request.profile or "standard"
            if profile not in TRAINING_PROFILES:
                known = ", ".join(sorted(TRAINING_PROFILES))
                raise InvalidRequestError(f"unknown training profile {profile!r}; use one of {known}")
            return {"profile": profile}, {"profile": profile, "requested_by": principal.subject}
        return {}, {}
