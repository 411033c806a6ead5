"""Asynchronous work: request a job (its row and outbox message in one transaction), run it, read it."""

from application.jobs.browse import ListJobs, ShowJob
from application.jobs.ports import JobRepository, JobUnitOfWork, Outbox, OutboxMessage
from application.jobs.request import JobRequest, RequestJob
from application.jobs.run import JobResult, JobWork, RunJob

__all__ = [
    "JobRepository",
    "JobRequest",
    "JobResult",
    "JobUnitOfWork",
    "JobWork",
    "ListJobs",
    "Outbox",
    "OutboxMessage",
    "RequestJob",
    "RunJob",
    "ShowJob",
]
