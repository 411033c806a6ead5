"""The ASGI application: routes Salesforce's URL space to handlers, applies faults, budget and headers.

Orgs are told apart by the port a request arrives on (each org has its own instance URL); the login
port serves every org's logins, as login.salesforce.com does.
"""

from __future__ import annotations

import asyncio
import re
import threading
import urllib.parse
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from simulators.salesforce.admin import AdminApi
from simulators.salesforce.auth import Session, TokenRegistry, oauth_token, soap_fault, soap_login
from simulators.salesforce.bulk import BulkQueryJobs
from simulators.salesforce.errors import (
    ApiError,
    InvalidSessionError,
    NotFoundError,
    OAuthError,
    RequestLimitError,
    SoapLoginError,
)
from simulators.salesforce.org import FakeOrg
from simulators.salesforce.rest import RestApi
from simulators.salesforce.settings import ServerSettings
from simulators.salesforce.wire import Request, Response, api_error, json_response

__all__ = ["FakeSalesforceApp"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_API = re.compile(r"^/services/data/v(\d+\.\d+)(/.*)?$")
_SOAP = re.compile(r"^/services/Soap/u/(\d+\.\d+)/?$")
_RELEASES = {
    "57.0": "Spring '23",
    "58.0": "Summer '23",
    "59.0": "Winter '24",
    "60.0": "Spring '24",
    "61.0": "Summer '24",
    "62.0": "Winter '25",
}
_COMMON_HEADERS = [
    (b"cache-control", b"no-cache,must-revalidate,max-age=0,no-store,private"),
    (b"x-content-type-options", b"nosniff"),
    (b"server", b"sfdcedge"),
]


def _method_not_allowed(method: str, allowed: str) -> ApiError:
    return ApiError(
        f"HTTP Method '{method}' not allowed. Allowed are {allowed}", code="METHOD_NOT_ALLOWED", status=405
    )


class FakeSalesforceApp:
    """ASGI app serving every org; handlers run under one lock so tests may also touch orgs directly."""

    def __init__(self, orgs: list[FakeOrg], settings: ServerSettings) -> None:
        self.settings = settings
        self.orgs = {org.name: org for org in orgs}
        self.port_orgs: dict[int, FakeOrg] = {}
        self.tokens = TokenRegistry(settings.token_lifetime_s)
        self.rest = RestApi(settings)
        self.bulk = BulkQueryJobs(settings)
        self.admin = AdminApi(self.orgs, self.tokens)
        self.lock = threading.RLock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        port = int((scope.get("server") or ("", 0))[1] or 0)
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        query = {
            key: values[0] for key, values in urllib.parse.parse_qs(scope["query_string"].decode()).items()
        }
        request = Request(scope["method"], scope["path"], query, headers, b"".join(chunks), port)
        org = self.port_orgs.get(port)
        if org is not None and org.faults.latency_ms > 0 and not request.path.startswith("/__admin"):
            await asyncio.sleep(org.faults.latency_ms / 1000)
        with self.lock:
            response, limit_org = self.dispatch(request, org)
        await self._send(send, response, limit_org)

    async def _send(self, send: Send, response: Response, org: FakeOrg | None) -> None:
        headers = [
            (b"content-type", response.content_type.encode()),
            (b"content-length", str(len(response.body)).encode()),
            *_COMMON_HEADERS,
        ]
        if org is not None:
            headers.append((b"sforce-limit-info", f"api-usage={org.api_used}/{org.api_max}".encode()))
        headers += [(key.lower().encode(), value.encode()) for key, value in response.headers]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        if response.reset and response.body:
            # Returning before the promised bytes are sent makes the server drop the connection mid-body.
            await send(
                {
                    "type": "http.response.body",
                    "body": response.body[: len(response.body) // 2],
                    "more_body": True,
                }
            )
            return
        await send({"type": "http.response.body", "body": response.body})

    # -- routing ---------------------------------------------------------------------------------

    def dispatch(self, request: Request, port_org: FakeOrg | None) -> tuple[Response, FakeOrg | None]:
        path = request.path
        try:
            if path.startswith("/__admin"):
                if not self.settings.admin:
                    raise NotFoundError()
                return self.admin.handle(request), None
            if path.rstrip("/") == "/services/oauth2/token":
                return self._token(request, port_org), None
            soap = _SOAP.match(path)
            if soap:
                return self._soap(request, port_org, soap.group(1)), None
            if path.rstrip("/") == "/services/data":
                versions = [
                    {
                        "label": _RELEASES.get(version, version),
                        "url": f"/services/data/v{version}",
                        "version": version,
                    }
                    for version in self.settings.api_versions
                ]
                return json_response(200, versions), None
            api = _API.match(path)
            if api:
                return self._api(request, port_org, api.group(1), (api.group(2) or "/").strip("/"))
            raise NotFoundError()
        except ApiError as error:
            return api_error(error), port_org if _API.match(path) else None

    def _login_orgs(self, port_org: FakeOrg | None) -> list[FakeOrg]:
        return [port_org] if port_org is not None else list(self.orgs.values())

    def _token(self, request: Request, port_org: FakeOrg | None) -> Response:
        if request.method != "POST":
            raise _method_not_allowed(request.method, "POST")
        form = {key: values[0] for key, values in urllib.parse.parse_qs(request.body.decode()).items()}
        form.update({key: value for key, value in request.query.items() if key not in form})
        try:
            body = oauth_token(
                self._login_orgs(port_org), form, request.headers.get("authorization", ""), self.tokens
            )
        except OAuthError as error:
            return json_response(400, {"error": error.error, "error_description": error.description})
        return json_response(200, body)

    def _soap(self, request: Request, port_org: FakeOrg | None, version: str) -> Response:
        try:
            envelope = soap_login(self._login_orgs(port_org), request.body.decode(), version, self.tokens)
        except SoapLoginError as error:
            return Response(500, soap_fault(error).encode(), "text/xml;charset=UTF-8")
        return Response(200, envelope.encode(), "text/xml;charset=UTF-8")

    def _session(self, request: Request, port_org: FakeOrg | None) -> Session:
        header = request.headers.get("authorization", "")
        token = (
            header[7:].strip()
            if header.lower().startswith("bearer ")
            else request.headers.get("x-sfdc-session", "")
        )
        session = self.tokens.check(token)
        if port_org is not None and session.org is not port_org:
            raise InvalidSessionError()
        return session

    def _api(
        self, request: Request, port_org: FakeOrg | None, version: str, rest: str
    ) -> tuple[Response, FakeOrg | None]:
        session = self._session(request, port_org)
        org = session.org
        try:
            faults = org.faults
            if faults.expire_tokens_once:
                faults.expire_tokens_once = False
                org.faults_injected += 1
                self.tokens.revoke_org(org)
                raise InvalidSessionError()
            if org.api_used >= org.api_max:
                raise RequestLimitError()
            org.count_request()
            if faults.error_rate and org.rng.random() < faults.error_rate:
                org.faults_injected += 1
                if org.rng.random() < 0.5:
                    raise ApiError(
                        "An unexpected error occurred. Please include this ErrorId if you contact support: "
                        f"{org.rng.randrange(10**9)}-{org.rng.randrange(10**5)} "
                        f"(-{org.rng.randrange(10**9)})",
                        code="UNKNOWN_EXCEPTION",
                        status=500,
                    )
                raise ApiError("Server Unavailable", code="SERVER_UNAVAILABLE", status=503)
            response = self._route(session, request, version, rest)
            if faults.reset_rate and org.rng.random() < faults.reset_rate:
                org.faults_injected += 1
                response.reset = True
            return response, org
        except ApiError as error:
            return api_error(error), org

    def _route(self, session: Session, request: Request, version: str, rest: str) -> Response:
        method = request.method
        parts = rest.split("/") if rest else []
        head = parts[0] if parts else ""

        def only(*methods: str) -> None:
            if method not in methods:
                raise _method_not_allowed(method, ",".join(methods))

        if not parts:
            only("GET")
            base = f"/services/data/v{version}"
            names = ("sobjects", "query", "queryAll", "limits", "jobs")
            return json_response(200, {name: f"{base}/{name}" for name in names})
        if head in {"query", "queryAll"}:
            only("GET")
            if len(parts) == 1:
                return self.rest.query(session, request, version, include_deleted=head == "queryAll")
            if len(parts) == 2:
                return self.rest.query_more(session, request, version, parts[1])
        elif head == "limits":
            only("GET")
            if len(parts) == 1:
                return self.rest.limits(session)
            if parts[1:] == ["recordCount"]:
                wanted = [name for name in request.query.get("sObjects", "").split(",") if name]
                counts = [
                    {"count": len(table.rows), "name": table.name}
                    for table in session.org.data.tables.values()
                    if not wanted or table.name in wanted
                ]
                return json_response(200, {"sObjects": counts})
        elif head == "sobjects":
            return self._sobjects(session, request, version, parts[1:])
        elif head == "jobs" and len(parts) >= 2 and parts[1] == "query":
            return self._jobs(session, request, version, parts[2:])
        raise NotFoundError()

    def _sobjects(self, session: Session, request: Request, version: str, parts: list[str]) -> Response:
        method = request.method
        if not parts:
            if method != "GET":
                raise _method_not_allowed(method, "GET,HEAD")
            return self.rest.describe_global(session, version)
        object_name = parts[0]
        if len(parts) == 1:
            if method == "GET":
                return self.rest.object_info(session, version, object_name)
            if method == "POST":
                return self.rest.create(session, request, version, object_name)
            raise _method_not_allowed(method, "GET,HEAD,POST")
        if len(parts) == 2 and parts[1] == "describe":
            if method != "GET":
                raise _method_not_allowed(method, "GET,HEAD")
            return self.rest.describe(session, version, object_name)
        if len(parts) == 2:
            record_id = parts[1]
            if method == "GET":
                return self.rest.get_record(session, request, version, object_name, record_id)
            if method == "PATCH":
                return self.rest.update(session, request, object_name, record_id)
            if method == "DELETE":
                return self.rest.delete(session, object_name, record_id)
            raise _method_not_allowed(method, "GET,HEAD,PATCH,DELETE")
        raise NotFoundError()

    def _jobs(self, session: Session, request: Request, version: str, parts: list[str]) -> Response:
        method = request.method
        if not parts:
            if method == "POST":
                return self.bulk.create(session, request, version)
            if method == "GET":
                return self.bulk.list_jobs(session)
            raise _method_not_allowed(method, "GET,POST")
        job_id = parts[0]
        if len(parts) == 1:
            if method == "GET":
                return self.bulk.status(session, job_id)
            if method == "PATCH":
                return self.bulk.abort(session, request, job_id)
            if method == "DELETE":
                return self.bulk.delete(session, job_id)
            raise _method_not_allowed(method, "GET,PATCH,DELETE")
        if parts[1:] == ["results"]:
            if method != "GET":
                raise _method_not_allowed(method, "GET")
            return self.bulk.results(session, request, version, job_id)
        raise NotFoundError()
