"""SalesforceCrmGateway: simple-salesforce (REST queryAll paging, Bulk API 2.0) in a bounded thread pool.

simple-salesforce is blocking, so every call runs in a shared ThreadPoolExecutor, at most `concurrency`
at a time per org, each with a requests timeout. Transient failures (5xx, 429, timeouts, resets,
QUERY_TIMEOUT) are retried with jittered exponential backoff; everything else is raised as the matching
CrmError at once. `Sforce-Limit-Info` is read from every response by a session hook.
"""

from __future__ import annotations

import asyncio
import csv
import functools
import io
import json
import random
import re
import threading
import urllib.parse
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

import requests
from requests.adapters import BaseAdapter
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from adapters.crm.canonical import SKIPPED_TYPES, RecordReader, soql_datetime
from application.ports.crm import (
    CrmAuthError,
    CrmError,
    CrmInvalidFieldError,
    CrmLimitExceededError,
    CrmRecordPage,
    CrmRequestError,
    CrmTransientError,
    CrmValue,
    ObjectSchema,
    OrgCredentials,
)
from domain.sync import ApiUsage, BackoffPolicy

__all__ = ["SalesforceCrmGateway", "login_domain"]

T = TypeVar("T")

_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")
_TRANSIENT_CODES = {"QUERY_TIMEOUT", "SERVER_UNAVAILABLE", "UNKNOWN_EXCEPTION", "INVALID_QUERY_LOCATOR"}
_TRANSIENT_STATUS = {420, 429, 500, 502, 503, 504}
API_VERSION = "59.0"


class _BulkJobFailedError(Exception):
    """A Bulk 2.0 job ended Failed or Aborted; the gateway falls back to REST paging."""


class _TimeoutSession(requests.Session):
    """A session whose every request has a (connect, read) timeout unless the caller gave one."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self.timeout_s = timeout_s

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", (min(10.0, self.timeout_s), self.timeout_s))
        return super().request(method, url, *args, **kwargs)  # type: ignore[arg-type]


def login_domain(login_url: str | None) -> str:
    """`https://login.salesforce.com` → `login`; `https://acme.my.salesforce.com` → `acme.my`."""
    if not login_url:
        return "login"
    host = urllib.parse.urlsplit(login_url if "://" in login_url else f"https://{login_url}").hostname or ""
    return host.removesuffix(".salesforce.com") or "login"


def _error_code(error: SalesforceError) -> str:
    content: Any = error.content
    if isinstance(content, list) and content and isinstance(content[0], Mapping):
        return str(content[0].get("errorCode", ""))
    return ""


def _translate(error: Exception) -> CrmError:
    """One CrmError per failure kind; the message never carries request headers (they hold the token)."""
    if isinstance(error, CrmError):
        return error
    if isinstance(error, SalesforceAuthenticationFailed):
        return CrmAuthError(f"login refused: {error.code}: {error.message}")
    if isinstance(error, SalesforceExpiredSession):
        return CrmAuthError("the session expired and logging in again did not help")
    if isinstance(error, SalesforceRefusedRequest):
        code = _error_code(error)
        if code == "REQUEST_LIMIT_EXCEEDED":
            return CrmLimitExceededError(code)
        return CrmRequestError(f"refused (403 {code})")
    if isinstance(error, SalesforceMalformedRequest):
        code = _error_code(error)
        if code == "INVALID_FIELD":
            return CrmInvalidFieldError(code)
        if code in _TRANSIENT_CODES:
            return CrmTransientError(code)
        return CrmRequestError(f"rejected (400 {code})")
    if isinstance(error, SalesforceResourceNotFound):
        return CrmRequestError("not found (404)")
    if isinstance(error, SalesforceError):
        code = _error_code(error)
        if error.status in _TRANSIENT_STATUS or code in _TRANSIENT_CODES:
            return CrmTransientError(f"{error.status} {code}".strip())
        return CrmRequestError(f"failed ({error.status} {code})")
    if isinstance(error, requests.RequestException | ValueError | ConnectionError | TimeoutError):
        # Resets, timeouts and bodies cut short (ValueError: JSON that stops mid-way).
        return CrmTransientError(type(error).__name__)
    return CrmTransientError(f"unexpected {type(error).__name__}")


def _query_more(sf: Salesforce, *, next_url: str) -> Any:
    return sf.query_more(next_url, identifier_is_url=True, include_deleted=True)


def _bulk_results(sf: Salesforce, *, job_id: str, params: dict[str, Any]) -> requests.Response:
    return sf._call_salesforce(
        "GET",
        f"{sf.bulk2_url}query/{job_id}/results",
        params=params,
        headers={"Accept": "text/csv; charset=UTF-8"},
    )


class SalesforceCrmGateway:
    """One org on Salesforce. `mount` puts a transport adapter on `https://` (tests mount the fake's)."""

    def __init__(
        self,
        credentials: OrgCredentials,
        pool: ThreadPoolExecutor,
        *,
        concurrency: int = 4,
        timeout_s: float = 60.0,
        backoff: BackoffPolicy | None = None,
        mount: BaseAdapter | None = None,
        page_size: int | None = None,
        bulk_page_size: int = 50_000,
        bulk_poll_s: float = 1.0,
        on_token: Callable[[str], None] | None = None,
    ) -> None:
        self._credentials = credentials
        self._pool = pool
        self._slots = asyncio.Semaphore(concurrency)
        self._timeout_s = timeout_s
        self._backoff = backoff or BackoffPolicy()
        self._page_size = page_size
        self._bulk_page_size = bulk_page_size
        self._bulk_poll_s = bulk_poll_s
        self._on_token = on_token
        self._session = _TimeoutSession(timeout_s)
        if mount is not None:
            self._session.mount("https://", mount)
        self._session.hooks["response"].append(self._read_limits)
        self._usage: ApiUsage | None = None
        self._client: Salesforce | None = None
        self._login_lock = threading.Lock()

    # -- plumbing ------------------------------------------------------------------------------------

    def _read_limits(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        match = _LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info", ""))
        if match:
            self._usage = ApiUsage(int(match.group(1)), int(match.group(2)))

    def _login(self) -> Salesforce:
        with self._login_lock:
            if self._client is not None:
                return self._client
            creds = self._credentials
            domain = login_domain(creds.login_url)
            common: dict[str, Any] = {"session": self._session, "version": API_VERSION, "domain": domain}
            if creds.flow == "password":
                client = Salesforce(
                    username=creds.username,
                    password=creds.secrets.get("password", "") + creds.secrets.get("security_token", ""),
                    consumer_key=creds.client_id,
                    consumer_secret=creds.secrets.get("client_secret"),
                    **common,
                )
            elif creds.flow == "client_credentials":
                client = Salesforce(
                    consumer_key=creds.client_id, consumer_secret=creds.secrets.get("client_secret"), **common
                )
            elif creds.flow == "jwt":
                client = Salesforce(
                    username=creds.username,
                    consumer_key=creds.client_id,
                    privatekey=creds.secrets.get("private_key"),
                    **common,
                )
            else:
                raise CrmAuthError(f"unknown login flow {creds.flow!r}")
            if self._on_token is not None:
                self._on_token(client.session_id)
            self._client = client
            return client

    async def _call(self, work: Callable[[Salesforce], T]) -> T:
        """Run `work(client)` in the pool; retry transient failures with backoff, translate the rest."""
        loop = asyncio.get_running_loop()
        retry = 0
        while True:
            try:
                async with self._slots:
                    return await asyncio.wait_for(
                        loop.run_in_executor(self._pool, lambda: work(self._login())),
                        # The requests timeout bounds each HTTP call; this bounds the whole step.
                        timeout=self._timeout_s * 3,
                    )
            except _BulkJobFailedError:
                raise
            except Exception as error:
                translated = _translate(error)
                retry += 1
                if not isinstance(translated, CrmTransientError) or retry >= self._backoff.attempts:
                    raise translated from None
                await asyncio.sleep(self._backoff.delay(retry, random.random()))  # noqa: S311 - jitter only

    # -- the port ------------------------------------------------------------------------------------

    def api_usage(self) -> ApiUsage | None:
        return self._usage

    async def limits(self) -> ApiUsage:
        result = await self._call(lambda sf: sf.restful("limits/") or {})
        daily = result["DailyApiRequests"]
        self._usage = ApiUsage(int(daily["Max"]) - int(daily["Remaining"]), int(daily["Max"]))
        return self._usage

    async def describe(self, sobject: str) -> ObjectSchema:
        # restful() goes through the client's re-login on 401; SFType.describe() can recurse on it.
        result = await self._call(lambda sf: sf.restful(f"sobjects/{sobject}/describe") or {})
        fields = {
            str(item["name"]): str(item["type"])
            for item in result["fields"]
            if item["type"] not in SKIPPED_TYPES
        }
        return ObjectSchema(sobject, fields)

    async def count(self, sobject: str) -> int:
        soql = f"SELECT COUNT() FROM {sobject}"  # noqa: S608 - SOQL, the object name is one of ours
        result = await self._call(lambda sf: sf.query(soql))
        return int(result["totalSize"])

    async def create(self, sobject: str, values: Mapping[str, CrmValue]) -> str:
        body = json.dumps(dict(values))
        result = await self._call(
            lambda sf: sf.restful(f"sobjects/{sobject}/", method="POST", data=body) or {}
        )
        return str(result["id"])

    async def close(self) -> None:
        self._session.close()

    def _soql(self, schema: ObjectSchema, since: datetime | None, until: datetime | None) -> str:
        bounds = []
        if since is not None:
            bounds.append(f"SystemModstamp >= {soql_datetime(since)}")
        if until is not None:
            bounds.append(f"SystemModstamp < {soql_datetime(until)}")
        where = f" WHERE {' AND '.join(bounds)}" if bounds else ""
        fields = ", ".join(schema.fields)
        # SOQL, not SQL: the names come from describe.
        return f"SELECT {fields} FROM {schema.name}{where} ORDER BY SystemModstamp ASC, Id ASC"  # noqa: S608

    async def changes(
        self,
        schema: ObjectSchema,
        since: datetime | None,
        until: datetime | None = None,
        *,
        bulk: bool = False,
    ) -> AsyncIterator[CrmRecordPage]:
        soql = self._soql(schema, since, until)
        reader = RecordReader(schema)
        if bulk:
            try:
                async for page in self._bulk_pages(soql, reader):
                    yield page
                return
            except _BulkJobFailedError:
                # Records already yielded were committed; REST re-reads them idempotently.
                pass
        async for page in self._rest_pages(soql, reader):
            yield page

    async def _rest_pages(self, soql: str, reader: RecordReader) -> AsyncIterator[CrmRecordPage]:
        headers = {"Sforce-Query-Options": f"batchSize={self._page_size}"} if self._page_size else {}
        result = await self._call(lambda sf: sf.query(soql, include_deleted=True, headers=headers))
        while True:
            yield CrmRecordPage([reader.read(raw) for raw in result["records"]])
            if result.get("done", True) or not result.get("nextRecordsUrl"):
                return
            next_url = result["nextRecordsUrl"]
            result = await self._call(functools.partial(_query_more, next_url=next_url))

    async def _bulk_pages(self, soql: str, reader: RecordReader) -> AsyncIterator[CrmRecordPage]:
        body = json.dumps(
            {"operation": "queryAll", "query": soql, "columnDelimiter": "COMMA", "lineEnding": "LF"}
        )
        # The client's private _call_salesforce is the one path that re-logs in on 401 and returns the raw
        # response (CSV bodies and Sforce-Locator headers are needed); its bulk2 helpers do neither.
        job = await self._call(
            lambda sf: sf._call_salesforce("POST", f"{sf.bulk2_url}query", data=body).json()
        )
        job_id = str(job["id"])
        while True:
            info = await self._call(
                lambda sf: sf._call_salesforce("GET", f"{sf.bulk2_url}query/{job_id}").json()
            )
            state = info.get("state")
            if state == "JobComplete":
                break
            if state in ("Failed", "Aborted"):
                raise _BulkJobFailedError(info.get("errorMessage") or state)
            await asyncio.sleep(self._bulk_poll_s)
        locator = ""
        while True:
            params: dict[str, Any] = {"maxRecords": self._bulk_page_size}
            if locator:
                params["locator"] = locator
            response = await self._call(functools.partial(_bulk_results, job_id=job_id, params=params))
            text = response.content.decode("utf-8").replace("\x00", "")
            rows = csv.DictReader(io.StringIO(text))
            yield CrmRecordPage([reader.read(row) for row in rows])
            locator = response.headers.get("Sforce-Locator", "")
            if not locator or locator == "null":
                return
