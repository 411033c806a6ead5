"""Bulk API 2.0 query jobs: create, poll through UploadComplete → InProgress → JobComplete, CSV result pages.

Result pages are rendered on demand from the job's snapshot of rows, each a complete CSV with its own header
row: every value double-quoted, LF line endings, nulls as empty values, booleans `true`/`false`, datetimes
as `2024-01-31T12:34:56.000Z`, relationship columns named by path (`Owner.Name`).
"""

from __future__ import annotations

import base64
import binascii
import itertools
from dataclasses import dataclass
from typing import Any

from simulators.salesforce.auth import Session
from simulators.salesforce.errors import ApiError, NotFoundError
from simulators.salesforce.ids import KEY_PREFIXES, base62, to_18
from simulators.salesforce.settings import ServerSettings
from simulators.salesforce.soql import parse_soql
from simulators.salesforce.soql.planner import QueryPlan, plan_query
from simulators.salesforce.store import Row
from simulators.salesforce.timefmt import now_datetime
from simulators.salesforce.wire import Request, Response, json_response

__all__ = ["BulkQueryJobs"]


@dataclass(slots=True)
class _Job:
    id: str
    org_name: str
    operation: str
    plan: QueryPlan
    rows: list[Row]
    created_by: str
    created: str
    modstamp: str
    version: str
    state: str = "UploadComplete"
    polls: int = 0
    fail: bool = False
    error_message: str | None = None

    def info(self, *, detailed: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": self.plan.object_name,
            "createdById": self.created_by,
            "createdDate": self.created,
            "systemModstamp": self.modstamp,
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.version),
        }
        if detailed:
            out["jobType"] = "V2Query"
        out["lineEnding"] = "LF"
        out["columnDelimiter"] = "COMMA"
        if detailed:
            out["numberRecordsProcessed"] = len(self.rows) if self.state == "JobComplete" else 0
            out["retries"] = 0
            out["totalProcessingTime"] = 0 if self.state != "JobComplete" else 42
            out["isPkChunkingSupported"] = True
            if self.state == "Failed":
                out["errorMessage"] = self.error_message
        return out


class BulkQueryJobs:
    """All Bulk 2.0 query jobs of the server, keyed by org and job id."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self._jobs: dict[tuple[str, str], _Job] = {}
        self._counter = itertools.count(1)

    def create(self, session: Session, request: Request, version: str) -> Response:
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            raise ApiError("The query parameter is required", code="INVALIDJOB")
        operation = body.get("operation", "query")
        if operation not in {"query", "queryAll"}:
            raise ApiError(f"Invalid operation: {operation}", code="INVALIDJOB")
        for key, allowed in (("columnDelimiter", "COMMA"), ("lineEnding", "LF"), ("contentType", "CSV")):
            if body.get(key, allowed) != allowed:
                raise ApiError(f"The fake Salesforce serves only {key}={allowed}", code="INVALIDJOB")
        org = session.org
        plan = plan_query(parse_soql(body["query"]), org.data, org.visibility(session.user))
        if plan.query.count_only:
            raise ApiError("Aggregate queries are not supported in Bulk API 2.0 query jobs", code="API_ERROR")
        rows = plan.run(include_deleted=operation == "queryAll")
        job_id = to_18(KEY_PREFIXES["BulkJob"] + org.data.pod + base62(next(self._counter), 10))
        stamp = now_datetime()
        job = _Job(
            job_id,
            org.name,
            operation,
            plan,
            rows,
            session.user.id,
            stamp,
            stamp,
            version,
            fail=org.faults.bulk_fail,
        )
        self._jobs[(org.name, job_id)] = job
        return json_response(200, job.info(detailed=False))

    def _job(self, session: Session, job_id: str) -> _Job:
        job = self._jobs.get((session.org.name, job_id))
        if job is None:
            raise NotFoundError()
        return job

    def status(self, session: Session, job_id: str) -> Response:
        job = self._job(session, job_id)
        if job.state in {"UploadComplete", "InProgress"}:
            job.polls += 1
            if job.polls > self.settings.bulk_in_progress_polls:
                if job.fail:
                    job.state = "Failed"
                    job.error_message = (
                        "Query failed: the fake Salesforce was told to fail Bulk jobs (bulk_fail)"
                    )
                else:
                    job.state = "JobComplete"
            else:
                job.state = "InProgress"
            job.modstamp = now_datetime()
        return json_response(200, job.info(detailed=True))

    def list_jobs(self, session: Session) -> Response:
        mine = [job.info(detailed=True) for (org, _), job in self._jobs.items() if org == session.org.name]
        return json_response(200, {"done": True, "records": mine, "nextRecordsUrl": None})

    def abort(self, session: Session, request: Request, job_id: str) -> Response:
        job = self._job(session, job_id)
        body = request.json()
        if not isinstance(body, dict) or body.get("state") != "Aborted":
            raise ApiError("Only state Aborted can be set on a query job", code="INVALIDJOB")
        if job.state in {"JobComplete", "Failed"}:
            raise ApiError(f"Job is already {job.state}", code="INVALIDJOB")
        job.state = "Aborted"
        return json_response(200, job.info(detailed=True))

    def delete(self, session: Session, job_id: str) -> Response:
        job = self._job(session, job_id)
        del self._jobs[(job.org_name, job.id)]
        return Response(204)

    def results(self, session: Session, request: Request, version: str, job_id: str) -> Response:
        job = self._job(session, job_id)
        if job.state != "JobComplete":
            raise ApiError(f"Job {job.id} is not complete (state {job.state})", code="API_ERROR")
        if version != job.version:
            raise ApiError(
                "Results must be requested with the API version the job was created with",
                code="API_ERROR",
                status=409,
            )
        offset = _decode_locator(request.query.get("locator"))
        if offset > len(job.rows):
            raise ApiError("invalid locator", code="INVALID_QUERY_LOCATOR")
        limit_text = request.query.get("maxRecords")
        if limit_text is None:
            limit = self.settings.bulk_default_max_records
        elif limit_text.isdigit() and int(limit_text) > 0:
            limit = int(limit_text)
        else:
            raise ApiError(f"Invalid maxRecords: {limit_text}", code="INVALIDJOB")
        end = min(offset + limit, len(job.rows))
        text = job.plan.csv_text(job.rows[offset:end])
        locator = "null" if end >= len(job.rows) else _encode_locator(end)
        return Response(
            200,
            text.encode(),
            "text/csv",
            [("Sforce-Locator", locator), ("Sforce-NumberOfRecords", str(end - offset))],
        )


def _encode_locator(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def _decode_locator(locator: str | None) -> int:
    if not locator:
        return 0
    try:
        text = base64.b64decode(locator + "=" * (-len(locator) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError("invalid locator", code="INVALID_QUERY_LOCATOR") from None
    if not text.isdigit():
        raise ApiError("invalid locator", code="INVALID_QUERY_LOCATOR")
    return int(text)
