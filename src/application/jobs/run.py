"""RunJob: a worker's side of a job: start it once, run the work, record how it ended."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from uuid import UUID

from application.jobs.ports import JobUnitOfWork
from application.ports.clock import Clock
from domain.job import Job

__all__ = ["JobResult", "JobWork", "RunJob"]

# A small summary of what the work did (counts, a run id), stored on the job.
JobResult = dict[str, str | int | float | bool | None]
JobWork = Callable[[], Awaitable[JobResult]]
# Whether a failed attempt is worth another, given the error and the attempts made so far.
RetryRule = Callable[[Exception, int], bool]


def _never(error: Exception, attempts: int) -> bool:
    return False


def _message(error: Exception) -> str:
    return str(error) or type(error).__name__


class RunJob:
    def __init__(self, uow: JobUnitOfWork, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def execute(
        self, job_id: UUID, work: JobWork, *, stale_after: timedelta, retry: RetryRule = _never
    ) -> Job | None:
        """Run `work` for the job unless it is unknown, finished, or running elsewhere (younger than
        `stale_after`): a message delivered twice runs once, and None says it was skipped.

        The work's exception is re-raised after it is recorded: the job goes back to queued when `retry`
        says another attempt is worth it, and to failed otherwise."""
        async with self._uow as uow:
            job = await uow.jobs.get(job_id, for_update=True)
            if job is None or not job.can_start(self._clock.now(), stale_after):
                return None
            job.start(self._clock.now())
            await uow.jobs.update(job)
            await uow.commit()
        try:
            result = await work()
        except Exception as error:
            failure = error
            await self._finish(job_id, lambda job: self._failed(job, failure, retry))
            raise
        return await self._finish(job_id, lambda job: job.succeed(self._clock.now(), result))

    def _failed(self, job: Job, error: Exception, retry: RetryRule) -> None:
        if retry(error, job.attempts):
            job.retry_later(_message(error))
        else:
            job.fail(self._clock.now(), _message(error))

    async def _finish(self, job_id: UUID, change: Callable[[Job], None]) -> Job | None:
        async with self._uow as uow:
            job = await uow.jobs.get(job_id, for_update=True)
            if job is None:  # removed while it ran
                return None
            change(job)
            await uow.jobs.update(job)
            await uow.commit()
            return job
