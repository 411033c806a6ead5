"""SalesforceCrmGateway: simple-salesforce (REST queryAll paging, Bulk API 2.0) in a bounded thread pool.

simple-salesforce is blocking, so every call runs in a shared ThreadPoolExecutor, at most `concurrency`
at a time per org, each with a requests timeout. Transient failures (5xx, 429, timeouts, resets,
QUERY_TIMEOUT) are retried with jittered exponential backoff; everything else is raised as the matching
CrmError at once. `Sforce-Limit-Info` is read from every response by a session hook.
"""

from __future__ import annotations

import asyncio
import contextvars
import email.utils
import functools
import json
import random
import re
import threading
import urllib.parse
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import msgspec
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
from adapters.observability.tracing import client_span
from application.ports.crm import (
    CrmAuthError,
    CrmColumns,
    CrmCsv,
    CrmError,
    CrmInvalidFieldError,
    CrmLimitExceededError,
    CrmQueryExpiredError,
    CrmRecordPage,
    CrmRequestError,
    CrmTransientError,
    CrmValue,
    ObjectSchema,
    OrgCredentials,
)
from domain.errors import InvalidIdError
from domain.ids import SalesforceId
from domain.sync import ApiUsage, BackoffPolicy

__all__ = ["SalesforceCrmGateway", "login_domain"]

T = TypeVar("T")

_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")
_TRANSIENT_CODES = {"QUERY_TIMEOUT", "SERVER_UNAVAILABLE", "UNKNOWN_EXCEPTION"}
_TRANSIENT_STATUS = {420, 429, 500, 502, 503, 504}
# Answers that say the request was turned away before it was processed: only these are safe to send again
# for a create, which is not idempotent (a reset or a 500 may come after the record was made).
_NOT_PROCESSED_STATUS = {420, 429, 503}
API_VERSION = "59.0"
_JSON = msgspec.json.Decoder()
# Salesforce began in 1999: no record is stamped earlier, so an open window can start here when split.
_OLDEST_MODSTAMP = datetime(1999, 1, 1, tzinfo=UTC)
_NARROWEST_WINDOW = timedelta(seconds=1)


class _BulkJobFailedError(Exception):
    """A Bulk 2.0 job ended Failed or Aborted; the gateway falls back to REST paging."""


class _QueryTimeoutError(CrmTransientError):
    """QUERY_TIMEOUT: the first page of a record query is asked again over half the SystemModstamp window."""


class _FailedAttemptError(Exception):
    """A failed try, with the Retry-After (seconds) of the response that failed it, if it sent one."""

    def __init__(self, error: Exception, retry_after_s: float | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after_s = retry_after_s


def _retry_after_s(value: str | None) -> float | None:
    """`Retry-After: 5` or an HTTP date → seconds from now (never negative); None when absent or garbled."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


class _TimeoutSession(requests.Session):
    """A session whose every request has a (connect, read) timeout unless the caller gave one."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self.timeout_s = timeout_s

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", (min(10.0, self.timeout_s), self.timeout_s))
        verb = method.decode() if isinstance(method, bytes) else str(method)
        target = urllib.parse.urlsplit(url.decode() if isinstance(url, bytes) else str(url))
        # Path only: the query string holds SOQL, which may name customers.
        with client_span(
            f"salesforce {verb.upper()}",
            system="salesforce",
            **{
                "http.request.method": verb.upper(),
                "server.address": target.hostname,
                "url.path": target.path,
            },
        ) as span:
            response = super().request(method, url, *args, **kwargs)  # type: ignore[arg-type]
            span.set_attribute("http.response.status_code", response.status_code)
            return response


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
        if code == "QUERY_TIMEOUT":
            return _QueryTimeoutError(code)
        if code == "INVALID_QUERY_LOCATOR":
            return CrmQueryExpiredError(code)
        if code in _TRANSIENT_CODES:
            return CrmTransientError(code)
        return CrmRequestError(f"rejected (400 {code})")
    if isinstance(error, SalesforceResourceNotFound):
        if _error_code(error) == "INVALID_QUERY_LOCATOR":  # some releases answer an expired cursor 404
            return CrmQueryExpiredError("INVALID_QUERY_LOCATOR")
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


def _query(sf: Salesforce, *, soql: str) -> Any:
    return sf.query(soql)


def _query_every(sf: Salesforce, *, soql: str) -> Any:
    return sf.query_all(soql)


def _not_processed(error: Exception) -> bool:
    """True when the CRM answered that it did not process the request (so sending it again is safe)."""
    return isinstance(error, SalesforceError) and error.status in _NOT_PROCESSED_STATUS


def _decode(response: requests.Response) -> Any:
    """A REST body, decoded by msgspec (the client's own decoding builds an OrderedDict per record)."""
    try:
        return _JSON.decode(response.content)
    except msgspec.DecodeError as error:
        raise ValueError(f"malformed JSON: {error}") from None  # a body cut short: transient


def _query_all(sf: Salesforce, *, soql: str, headers: Mapping[str, str]) -> Any:
    """queryAll's first page (deleted records included), as simple-salesforce's query() sends it."""
    params = {"q": soql}
    return _decode(sf._call_salesforce("GET", f"{sf.base_url}queryAll/", params=params, headers=headers))


def _query_more(sf: Salesforce, *, next_url: str) -> Any:
    return _decode(sf._call_salesforce("GET", f"https://{sf.sf_instance}{next_url}"))


def _bulk_results(sf: Salesforce, *, job_id: str, params: dict[str, Any]) -> requests.Response:
    return sf._call_salesforce(
        "GET",
        f"{sf.bulk2_url}query/{job_id}/results",
        params=params,
        headers={"Accept": "text/csv; charset=UTF-8"},
    )


def _read_rest(result: Mapping[str, Any], reader: RecordReader) -> tuple[CrmColumns, str]:
    """A REST query page's records and the URL of the next page ("" after the last)."""
    records = reader.read_json(result["records"])
    if result.get("done", True) or not result.get("nextRecordsUrl"):
        return records, ""
    return records, str(result["nextRecordsUrl"])


def _window(since: datetime | None, until: datetime | None) -> str:
    """The WHERE clause of `since <= SystemModstamp < until` (either bound may be open)."""
    bounds = []
    if since is not None:
        bounds.append(f"SystemModstamp >= {soql_datetime(since)}")
    if until is not None:
        bounds.append(f"SystemModstamp < {soql_datetime(until)}")
    return f" WHERE {' AND '.join(bounds)}" if bounds else ""


def _halves(lower: datetime | None, upper: datetime | None) -> list[tuple[datetime | None, datetime | None]]:
    """The two halves, oldest first, of a SystemModstamp window whose query timed out."""
    start = lower or _OLDEST_MODSTAMP
    end = upper or datetime.now(UTC)
    if end - start <= _NARROWEST_WINDOW:
        raise CrmTransientError("QUERY_TIMEOUT on the narrowest window")
    # Whole milliseconds: SOQL literals carry no more, and the halves must meet exactly.
    middle = start + (end - start) / 2
    middle = middle.replace(microsecond=middle.microsecond // 1000 * 1000)
    return [(start, middle), (middle, upper)]


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
        self._hints = threading.local()  # per pool thread: the Retry-After of its last failed response

    # -- plumbing ------------------------------------------------------------------------------------

    def _read_limits(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if response.status_code in _TRANSIENT_STATUS:
            self._hints.retry_after_s = _retry_after_s(response.headers.get("Retry-After"))
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

    def _attempt(self, work: Callable[[Salesforce], T]) -> T:
        """One try of `work` on a pool thread; a failure carries the Retry-After its response gave."""
        self._hints.retry_after_s = None
        try:
            return work(self._login())
        except Exception as error:
            raise _FailedAttemptError(error, self._hints.retry_after_s) from error

    async def _call(
        self,
        work: Callable[[Salesforce], T],
        *,
        split_on_timeout: bool = False,
        may_retry: Callable[[Exception], bool] | None = None,
    ) -> T:
        """Run `work(client)` in the pool; retry transient failures with backoff (never sooner than a
        Retry-After asks), translate the rest. `may_retry` narrows which transient failures are tried
        again (a create only when the CRM says it did not process the request)."""
        loop = asyncio.get_running_loop()
        retry = 0
        while True:
            try:
                async with self._slots:
                    return await asyncio.wait_for(
                        # The pool's threads do not inherit the caller's context; the trace must.
                        loop.run_in_executor(self._pool, contextvars.copy_context().run, self._attempt, work),
                        # The requests timeout bounds each HTTP call; this bounds the whole step.
                        timeout=self._timeout_s * 3,
                    )
            except Exception as raised:
                error, retry_after_s = raised, None
                if isinstance(raised, _FailedAttemptError):
                    error, retry_after_s = raised.error, raised.retry_after_s
                if isinstance(error, _BulkJobFailedError):
                    raise error from None
                translated = _translate(error)
                retry += 1
                if not isinstance(translated, CrmTransientError) or retry >= self._backoff.attempts:
                    raise translated from None
                if may_retry is not None and not may_retry(error):
                    raise translated from None
                if isinstance(translated, CrmQueryExpiredError):
                    raise translated from None  # the same locator stays dead: the caller restarts
                if split_on_timeout and isinstance(translated, _QueryTimeoutError):
                    raise translated from None  # the caller narrows the query instead
                delay = self._backoff.delay(retry, random.random())  # noqa: S311 - jitter only
                if retry_after_s is not None:
                    if retry_after_s > self._backoff.cap_s:
                        # Waiting that long inside a sync holds a worker; the job's own retry comes later.
                        raise CrmTransientError(f"{translated} (Retry-After {retry_after_s:g} s)") from None
                    delay = max(delay, retry_after_s)
                await asyncio.sleep(delay)

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
        # A COUNT() that times out is summed over the halves of its SystemModstamp window, like a query.
        total = 0
        windows: list[tuple[datetime | None, datetime | None]] = [(None, None)]
        while windows:
            lower, upper = windows.pop()
            bounds = _window(lower, upper)
            soql = f"SELECT COUNT() FROM {sobject}{bounds}"  # noqa: S608 - SOQL, the object name is ours
            try:
                result = await self._call(functools.partial(_query, soql=soql), split_on_timeout=True)
            except _QueryTimeoutError:
                windows += _halves(lower, upper)
                continue
            total += int(result["totalSize"])
        return total

    async def create(self, sobject: str, values: Mapping[str, CrmValue]) -> str:
        body = json.dumps(dict(values))
        result = await self._call(
            lambda sf: sf.restful(f"sobjects/{sobject}/", method="POST", data=body) or {},
            may_retry=_not_processed,
        )
        return str(result["id"])

    async def find_marked(
        self, sobject: str, marker: str, *, parent_field: str, parent_id: str, since: datetime
    ) -> str | None:
        try:
            parent = SalesforceId.parse(parent_id).value  # only an id goes into the SOQL text
        except InvalidIdError:
            raise CrmRequestError(f"not a Salesforce id: {parent_id!r}") from None
        soql = (
            f"SELECT Id, Description FROM {sobject} WHERE {parent_field} = '{parent}'"  # noqa: S608 - ours
            f" AND CreatedDate >= {soql_datetime(since)} ORDER BY CreatedDate ASC, Id ASC"
        )
        result = await self._call(functools.partial(_query_every, soql=soql))
        for record in result.get("records", []):
            if marker in str(record.get("Description") or ""):
                return str(record["Id"])
        return None

    async def close(self) -> None:
        self._session.close()

    def _soql(self, schema: ObjectSchema, since: datetime | None, until: datetime | None) -> str:
        fields = ", ".join(schema.fields)
        where = _window(since, until)
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
        reader = RecordReader(schema)
        if bulk:
            try:
                async for page in self._bulk_pages(self._soql(schema, since, until), reader, schema.fields):
                    yield page
                return
            except _BulkJobFailedError:
                # Records already yielded were committed; REST re-reads them idempotently.
                pass
        # Windows of SystemModstamp, oldest first, so pages stay in (SystemModstamp, Id) order across them;
        # a QUERY_TIMEOUT replaces a window by its two halves.
        windows: list[tuple[datetime | None, datetime | None]] = [(since, until)]
        while windows:
            lower, upper = windows.pop(0)
            try:
                async for page in self._rest_pages(self._soql(schema, lower, upper), reader):
                    yield page
            except _QueryTimeoutError:
                windows[0:0] = _halves(lower, upper)

    async def _rest_pages(self, soql: str, reader: RecordReader) -> AsyncIterator[CrmRecordPage]:
        headers = {"Sforce-Query-Options": f"batchSize={self._page_size}"} if self._page_size else {}

        def first(sf: Salesforce) -> tuple[CrmColumns, str]:
            return _read_rest(_query_all(sf, soql=soql, headers=headers), reader)

        def more(next_url: str, sf: Salesforce) -> tuple[CrmColumns, str]:
            return _read_rest(_query_more(sf, next_url=next_url), reader)

        # As with Bulk pages: the next page is fetched and parsed while the caller writes this one.
        pending = asyncio.ensure_future(self._call(first, split_on_timeout=True))
        try:
            while True:
                records, next_url = await pending
                if next_url:
                    pending = asyncio.ensure_future(self._call(functools.partial(more, next_url)))
                yield CrmRecordPage(columns=records)
                if not next_url:
                    return
        finally:
            if not pending.done():
                pending.cancel()

    async def _bulk_pages(
        self, soql: str, reader: RecordReader, fields: Mapping[str, str]
    ) -> AsyncIterator[CrmRecordPage]:
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
        # Each results page is fetched, decoded and parsed in the pool while the caller writes the page
        # before it; a page is only handed over when asked for, so page + cursor still commit together.
        pending = asyncio.ensure_future(self._bulk_page(job_id, "", reader, fields))
        try:
            while True:
                page, locator = await pending
                if locator:
                    pending = asyncio.ensure_future(self._bulk_page(job_id, locator, reader, fields))
                yield page
                if not locator:
                    return
        finally:
            if not pending.done():
                pending.cancel()

    async def _bulk_page(
        self, job_id: str, locator: str, reader: RecordReader, fields: Mapping[str, str]
    ) -> tuple[CrmRecordPage, str]:
        params: dict[str, Any] = {"maxRecords": self._bulk_page_size}
        if locator:
            params["locator"] = locator

        def fetch(sf: Salesforce) -> tuple[CrmRecordPage, str]:
            response = _bulk_results(sf, job_id=job_id, params=params)
            data = response.content.replace(b"\x00", b"")
            # Handed on as CSV: a loader that reads CSV itself (COPY) needs no Python object per record.
            page = CrmRecordPage.from_csv(
                CrmCsv(data, fields), functools.partial(reader.read_csv, data.decode("utf-8"))
            )
            following = response.headers.get("Sforce-Locator", "")
            return page, "" if following == "null" else following

        return await self._call(fetch)
