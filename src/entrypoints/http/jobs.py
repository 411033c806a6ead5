"""Routes of asynchronous work: /api/v1/jobs, and an org's sync, sync runs and reconciliation."""

from __future__ import annotations

import uuid
from typing import Annotated

from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter
from litestar.status_codes import HTTP_202_ACCEPTED

from application.jobs import JobRequest, ListJobs, RequestJob, ShowJob
from application.sync.runs import ListSyncRuns, ReconcileOrg
from domain.access import Principal
from domain.errors import NotFoundError
from domain.job import Job, JobKind
from entrypoints.http.job_schemas import JobOut, JobPage, NewJobIn, ReconciliationOut, SyncIn
from entrypoints.http.org_schemas import SyncRunOut
from entrypoints.http.problems import problem_responses
from entrypoints.http.security import admin_or_analyst

__all__ = ["JobController", "OrgSyncController"]

_API = "/api/v1"
_LOCATION = [
    ResponseHeader(
        name="Location",
        description="Where to follow the job: /api/v1/jobs/{id}.",
        documentation_only=True,
    )
]
_ACCEPTED = (
    " Answers 202 with the job at once; the work runs on a worker. The job is stored with its message in"
    " one transaction, so it is never lost: when the queue (Redis) is down it waits and is sent when the"
    " queue is back. Follow it at the `Location` it answers with."
)


def _accepted(job: Job) -> Response[JobOut]:
    return Response(
        JobOut.of(job), status_code=HTTP_202_ACCEPTED, headers={"Location": f"{_API}/jobs/{job.id}"}
    )


class JobController(Controller):
    """Jobs are for admins and analysts (403 otherwise). A job on an org outside the caller's grants
    answers 404, like an unknown one; jobs on no org (resolve, train, score, sync_all) are seen by all."""

    path = "/jobs"
    tags = ["jobs"]  # noqa: RUF012  (Litestar declares it as an instance attribute)
    guards = [admin_or_analyst]  # noqa: RUF012

    @post(
        "/",
        summary="Start work",
        description="Start a resolution (`resolve`), a training (`train`, with a `profile`), a scoring"
        " (`score`) or a sync of every org (`sync_all`, admins only)." + _ACCEPTED,
        status_code=HTTP_202_ACCEPTED,
        response_headers=_LOCATION,
        responses=problem_responses(400, 401, 403, 429),
    )
    @inject
    async def start_job(
        self,
        data: JSONBody[NewJobIn],
        use_case: FromDishka[RequestJob],
        principal: NamedDependency[Principal],
    ) -> Response[JobOut]:
        request = JobRequest(kind=JobKind(data.kind), full=data.full, profile=data.profile)
        return _accepted(await use_case.execute(request, principal))

    @get(
        "/",
        summary="List jobs",
        description="Jobs the caller may see, newest first. Page with `limit` and the `next_cursor` of the"
        " previous page.",
        opt={"query": frozenset({"limit", "cursor"})},
        responses=problem_responses(400, 401, 403, 429),
    )
    @inject
    async def list_jobs(
        self,
        use_case: FromDishka[ListJobs],
        principal: NamedDependency[Principal],
        limit: Annotated[int, Parameter(ge=1, le=200, description="Jobs per page (1-200).")] = 50,
        cursor: Annotated[
            str | None, Parameter(max_length=1024, description="The `next_cursor` of the previous page.")
        ] = None,
    ) -> JobPage:
        page = await use_case.execute(principal, limit=limit, cursor=cursor)
        return JobPage(items=[JobOut.of(job) for job in page.items], next_cursor=page.next_cursor)

    @get(
        "/{job_id:str}",
        summary="Show a job",
        description="How the job stands, and its result once finished. An unknown job and one on an org"
        " the caller may not read both answer 404.",
        responses=problem_responses(401, 403, 404, 429),
    )
    @inject
    async def show_job(
        self, job_id: FromPath[str], use_case: FromDishka[ShowJob], principal: NamedDependency[Principal]
    ) -> JobOut:
        try:
            parsed = uuid.UUID(job_id)
        except ValueError:
            raise NotFoundError(f"no job {job_id[:64]!r}") from None
        return JobOut.of(await use_case.execute(parsed, principal))


class OrgSyncController(Controller):
    """An org's sync on demand, its sync history and a live count against the CRM. An org outside the
    caller's grants answers 404, like an unknown one."""

    path = "/orgs/{org_id:str}"
    tags = ["orgs"]  # noqa: RUF012  (Litestar declares it as an instance attribute)

    @post(
        "/sync",
        summary="Sync an org now",
        description="Admins and analysts (403 otherwise). Queue a sync of the org: the changes since its"
        ' last run, or every record with `{"full": true}`. The body is optional.' + _ACCEPTED,
        guards=[admin_or_analyst],
        status_code=HTTP_202_ACCEPTED,
        response_headers=_LOCATION,
        responses=problem_responses(400, 401, 403, 404, 429),
    )
    @inject
    async def sync_org(
        self,
        org_id: FromPath[str],
        use_case: FromDishka[RequestJob],
        principal: NamedDependency[Principal],
        data: JSONBody[SyncIn | None] = None,
    ) -> Response[JobOut]:
        full = data is not None and data.full
        request = JobRequest(kind=JobKind.SYNC, org_id=org_id, full=full)
        return _accepted(await use_case.execute(request, principal))

    @get(
        "/sync-runs",
        summary="List an org's sync runs",
        description="The org's newest runs first: start, end, status, objects' upserted and deleted counts,"
        " errors, the org's API usage after the run, and the objects whose counts differed from the CRM's"
        " after it.",
        opt={"query": frozenset({"limit"})},
        responses=problem_responses(400, 401, 404, 429),
    )
    @inject
    async def list_sync_runs(
        self,
        org_id: FromPath[str],
        use_case: FromDishka[ListSyncRuns],
        principal: NamedDependency[Principal],
        limit: Annotated[int, Parameter(ge=1, le=100, description="Runs to show (1-100).")] = 20,
    ) -> list[SyncRunOut]:
        history = await use_case.execute(org_id, principal, limit)
        return [SyncRunOut.of(item.run, item.reconciliations) for item in history]

    @get(
        "/reconciliation",
        summary="Reconcile an org with its CRM",
        description="Admins and analysts (403 otherwise). Counts every synced object in the org"
        " (`SELECT COUNT()`, one API call each) and in xsell, now; nothing is stored. 502 when the CRM"
        " refuses, with its reason.",
        guards=[admin_or_analyst],
        responses=problem_responses(401, 403, 404, 429, 502),
    )
    @inject
    async def reconcile(
        self, org_id: FromPath[str], use_case: FromDishka[ReconcileOrg], principal: NamedDependency[Principal]
    ) -> ReconciliationOut:
        return ReconciliationOut.of(org_id, await use_case.execute(org_id, principal))
