"""Jobs: asynchronous work someone asked for (a sync, a resolution, a training, a scoring) and how it went."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from domain.errors import InvariantViolationError
from domain.timestamps import require_utc

__all__ = ["MAX_ERROR_LENGTH", "Job", "JobKind", "JobStatus"]

MAX_ERROR_LENGTH = 2000
# Parameters name things by id and choose options; they never hold credentials or free text.
_PARAMETER_TYPES = (str, int, float, bool, type(None))


class JobKind(StrEnum):
    SYNC = "sync"  # one org
    SYNC_ALL = "sync_all"  # every org that does not wait for a human
    RESOLVE = "resolve"
    TRAIN = "train"
    SCORE = "score"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass
class Job:
    """One request for background work. `org_id` is set for work on one org (a sync), None for work on all.

    queued -> running -> succeeded | failed; a running job whose attempt may be retried goes back to queued.
    """

    id: uuid.UUID
    kind: JobKind
    parameters: dict[str, str | int | float | bool | None]
    requested_by: str
    created_at: datetime
    org_id: str | None = None
    status: JobStatus = JobStatus.QUEUED
    started_at: datetime | None = None
    finished_at: datetime | None = None
    attempts: int = 0
    error: str | None = None
    result: dict[str, str | int | float | bool | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_utc(self.created_at, "created_at")
        for name, value in self.parameters.items():
            if not isinstance(value, _PARAMETER_TYPES):
                raise InvariantViolationError(f"job parameter {name!r} must be a plain value")
        if (self.kind is JobKind.SYNC) != (self.org_id is not None):
            raise InvariantViolationError("a sync job names exactly one org; other jobs name none")

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)

    def can_start(self, now: datetime, stale_after: timedelta) -> bool:
        """Queued, or running for longer than any attempt may last (its worker died without a word)."""
        if self.status is JobStatus.QUEUED:
            return True
        return (
            self.status is JobStatus.RUNNING
            and self.started_at is not None
            and now - self.started_at > stale_after
        )

    def start(self, now: datetime) -> None:
        self.status, self.started_at, self.attempts = JobStatus.RUNNING, now, self.attempts + 1

    def succeed(self, now: datetime, result: dict[str, str | int | float | bool | None]) -> None:
        self.status, self.finished_at, self.result, self.error = JobStatus.SUCCEEDED, now, dict(result), None

    def fail(self, now: datetime, error: str) -> None:
        self.status, self.finished_at, self.error = JobStatus.FAILED, now, error[:MAX_ERROR_LENGTH]

    def retry_later(self, error: str) -> None:
        """The attempt failed in a way worth another: back in the queue, with the reason kept."""
        self.status, self.error = JobStatus.QUEUED, error[:MAX_ERROR_LENGTH]
