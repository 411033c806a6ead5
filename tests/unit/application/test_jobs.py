"""RequestJob, RunJob, ShowJob and ListJobs on in-memory fakes: one transaction for job and message, a job
runs once whatever the deliveries, and jobs on orgs outside the grants stay invisible."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from tests.fakes import FakeClock, FakeJobUnitOfWork, FakeTaskQueue

from application.errors import InvalidCursorError, InvalidRequestError, PermissionDeniedError
from application.jobs import JobRequest, ListJobs, RequestJob, RunJob, ShowJob
from domain.access import Principal, PrincipalKind, Role
from domain.errors import InvariantViolationError, NotFoundError
from domain.job import Job, JobKind, JobStatus
from domain.org import Org, OrgKind

STALE = timedelta(hours=2)


def _principal(role: Role, *orgs: str) -> Principal:
    return Principal(subject=f"{role.value}-1", kind=PrincipalKind.USER, role=role, org_ids=frozenset(orgs))


ADMIN = _principal(Role.ADMIN)


def _world() -> tuple[FakeJobUnitOfWork, FakeTaskQueue, FakeClock]:
    orgs = [Org(o, o.upper(), OrgKind.SALESFORCE, o, "USD") for o in ("amer", "emea")]
    uow = FakeJobUnitOfWork(orgs)
    return uow, FakeTaskQueue(uow.committed_outbox), FakeClock()


async def test_a_job_and_its_message_are_committed_together_and_sent_at_once() -> None:
    uow, queue, clock = _world()
    job = await RequestJob(uow, queue, clock).execute(
        JobRequest(JobKind.SYNC, org_id="emea", full=True), _principal(Role.ANALYST, "emea")
    )
    assert job.status is JobStatus.QUEUED and job.org_id == "emea" and job.parameters == {"full": True}
    assert list(uow.committed_jobs) == [job.id] and uow.commits == 1
    [message] = queue.sent
    assert message.actor == "sync_org"
    assert message.kwargs == {"org_id": "emea", "full": True, "job_id": str(job.id)}


async def test_with_the_queue_down_the_job_is_still_queued_and_its_message_waits() -> None:
    uow, queue, clock = _world()
    queue.down = True
    job = await RequestJob(uow, queue, clock).execute(JobRequest(JobKind.SCORE), ADMIN)
    assert uow.committed_jobs[job.id].status is JobStatus.QUEUED
    assert [m.job_id for m in uow.committed_outbox] == [job.id] and queue.sent == []
    queue.down = False
    assert await queue.send_pending() == 1


@pytest.mark.parametrize(
    ("request_", "principal", "error"),
    [
        (JobRequest(JobKind.RESOLVE), _principal(Role.SALES, "amer"), PermissionDeniedError),
        (JobRequest(JobKind.SYNC_ALL), _principal(Role.ANALYST, "amer"), PermissionDeniedError),
        (JobRequest(JobKind.SYNC, org_id="amer"), _principal(Role.ANALYST, "emea"), NotFoundError),
        (JobRequest(JobKind.SYNC, org_id="nowhere"), ADMIN, NotFoundError),
        (JobRequest(JobKind.SYNC), ADMIN, InvalidRequestError),
        (JobRequest(JobKind.SCORE, full=True), ADMIN, InvalidRequestError),
        (JobRequest(JobKind.RESOLVE, profile="quick"), ADMIN, InvalidRequestError),
        (JobRequest(JobKind.TRAIN, profile="forever"), ADMIN, InvalidRequestError),
    ],
)
async def test_refused_requests_write_nothing(
    request_: JobRequest, principal: Principal, error: type[Exception]
) -> None:
    uow, queue, clock = _world()
    with pytest.raises(error):
        await RequestJob(uow, queue, clock).execute(request_, principal)
    assert uow.committed_jobs == {} and uow.committed_outbox == [] and queue.sent == []


async def test_a_message_delivered_twice_runs_its_job_once() -> None:
    uow, queue, clock = _world()
    job = await RequestJob(uow, queue, clock).execute(JobRequest(JobKind.RESOLVE), ADMIN)
    runs: list[int] = []

    async def work() -> dict[str, str | int | float | bool | None]:
        runs.append(1)
        return {"customers": 7}

    done = await RunJob(uow, clock).execute(job.id, work, stale_after=STALE)
    assert done is not None and done.status is JobStatus.SUCCEEDED and done.result == {"customers": 7}
    assert await RunJob(uow, clock).execute(job.id, work, stale_after=STALE) is None
    assert runs == [1] and uow.committed_jobs[job.id].attempts == 1


async def test_a_running_job_is_not_started_again_until_it_is_stale() -> None:
    uow, queue, clock = _world()
    job = await RequestJob(uow, queue, clock).execute(JobRequest(JobKind.SCORE), ADMIN)
    async with uow:  # a worker took it, then died without a word
        taken = await uow.jobs.get(job.id)
        assert taken is not None
        taken.start(clock.now())
        await uow.jobs.update(taken)
        await uow.commit()

    async def work() -> dict[str, str | int | float | bool | None]:
        return {}

    assert await RunJob(uow, clock).execute(job.id, work, stale_after=STALE) is None
    clock.advance(hours=3)
    done = await RunJob(uow, clock).execute(job.id, work, stale_after=STALE)
    assert done is not None and done.status is JobStatus.SUCCEEDED and done.attempts == 2


async def test_failures_are_recorded_and_retried_only_when_the_rule_says_so() -> None:
    uow, queue, clock = _world()
    job = await RequestJob(uow, queue, clock).execute(JobRequest(JobKind.SYNC, org_id="amer"), ADMIN)

    async def flaky() -> dict[str, str | int | float | bool | None]:
        raise TimeoutError("the CRM kept timing out")

    def retry(error: Exception, attempts: int) -> bool:
        return attempts < 2

    run = RunJob(uow, clock)
    with pytest.raises(TimeoutError):
        await run.execute(job.id, flaky, stale_after=STALE, retry=retry)
    stored = uow.committed_jobs[job.id]
    assert (stored.status, stored.error) == (JobStatus.QUEUED, "the CRM kept timing out")
    with pytest.raises(TimeoutError):
        await run.execute(job.id, flaky, stale_after=STALE, retry=retry)
    stored = uow.committed_jobs[job.id]
    assert (stored.status, stored.attempts) == (JobStatus.FAILED, 2) and stored.finished_at is not None


async def test_jobs_on_orgs_outside_the_grants_are_invisible() -> None:
    uow, queue, clock = _world()
    use = RequestJob(uow, queue, clock)
    on_amer = await use.execute(JobRequest(JobKind.SYNC, org_id="amer"), ADMIN)
    clock.advance(seconds=1)
    on_emea = await use.execute(JobRequest(JobKind.SYNC, org_id="emea"), ADMIN)
    clock.advance(seconds=1)
    scoring = await use.execute(JobRequest(JobKind.SCORE), ADMIN)
    analyst = _principal(Role.ANALYST, "emea")
    with pytest.raises(NotFoundError):
        await ShowJob(uow).execute(on_amer.id, analyst)
    assert (await ShowJob(uow).execute(on_emea.id, analyst)).id == on_emea.id
    first = await ListJobs(uow).execute(analyst, limit=1)
    assert [j.id for j in first.items] == [scoring.id] and first.next_cursor
    second = await ListJobs(uow).execute(analyst, limit=1, cursor=first.next_cursor)
    assert [j.id for j in second.items] == [on_emea.id] and second.next_cursor is None
    everything = await ListJobs(uow).execute(ADMIN, limit=10)
    assert [j.id for j in everything.items] == [scoring.id, on_emea.id, on_amer.id]
    with pytest.raises(InvalidCursorError):
        await ListJobs(uow).execute(ADMIN, limit=1, cursor="bm90LWEtY3Vyc29y")


def test_a_job_keeps_credentials_and_free_text_out_of_its_parameters() -> None:
    clock = FakeClock()
    with pytest.raises(InvariantViolationError):
        Job(id=uuid.uuid4(), kind=JobKind.SCORE, parameters={"x": ["a"]},  # type: ignore[dict-item]
            requested_by="a", created_at=clock.now())  # fmt: skip
    with pytest.raises(InvariantViolationError):
        Job(id=uuid.uuid4(), kind=JobKind.SYNC, parameters={}, requested_by="a",
            created_at=clock.now())  # fmt: skip
