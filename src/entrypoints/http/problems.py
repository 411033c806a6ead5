"""RFC 9457 problem+json responses for every error, with no stack traces or internals in the body."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Litestar, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.routes import HTTPRoute
from litestar.types import ExceptionHandlersMap, Guard
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from application.errors import (
    AlreadyWrittenBackError,
    AuthenticationError,
    DependencyUnavailableError,
    IdempotencyKeyReusedError,
    InvalidRequestError,
    PermissionDeniedError,
    WriteBackInProgressError,
)
from application.ports.crm import CrmError, CrmReadOnlyError
from domain.errors import (
    ConflictError,
    DomainError,
    InvalidStageTransitionError,
    InvalidStatusTransitionError,
    IrreversibleChangeError,
    NotFoundError,
)

__all__ = [
    "PROBLEM_JSON",
    "Problem",
    "ProblemGuards",
    "declare_problems",
    "exception_handlers",
    "problem",
    "problem_responses",
]

PROBLEM_JSON = "application/problem+json"
_TYPE_BASE = "https://xsell.dev/problems/"
_log = logging.getLogger("xsell.http")


def problem(
    status: int, title: str, detail: str | None = None, kind: str | None = None, **extra: Any
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"type": _TYPE_BASE + (kind or str(status)), "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update({key: value for key, value in extra.items() if value is not None})
    return Response(body, status_code=status, media_type=PROBLEM_JSON)


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """An RFC 9457 problem: `type` names the kind, `title` says it for people, `detail` this occurrence."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None


# status -> (kind, title, when it is answered, an example detail)
_DOCUMENTED: dict[int, tuple[str, str, str, str]] = {
    400: (
        "invalid-request",
        "Invalid request",
        "A parameter or the body is malformed or breaks a limit; `errors` lists each problem.",
        "Validation failed for GET /api/v1/recommendations",
    ),
    401: (
        "unauthenticated",
        "Not authenticated",
        "No valid credentials: one answer for every reason (missing, expired, revoked, wrong).",
        "sign in again",
    ),
    403: ("forbidden", "Forbidden", "The caller's role does not allow this.", "this needs the admin role"),
    404: (
        "not-found",
        "Not found",
        "No such resource, or one the caller may not read (both answer alike).",
        "no such org",
    ),
    409: (
        "conflict",
        "Conflict",
        "The resource's current state does not allow this (taken, already decided).",
        "the offer was already decided",
    ),
    413: ("413", "Request Entity Too Large", "The body is larger than 1 MiB.", ""),
    422: (
        "business-rule",
        "Request breaks a business rule",
        "The request is well formed but a business rule refuses it.",
        "the amount must be positive",
    ),
    429: (
        "429",
        "Too many requests",
        "The caller's rate limit is spent; `Retry-After` and `RateLimit-*` say when it refills.",
        "",
    ),
    502: (
        "crm-error",
        "The CRM refused",
        "The CRM refused the login or the call; `detail` gives its reason, never a secret.",
        "INVALID_LOGIN: authentication failure",
    ),
    503: (
        "unavailable",
        "Service temporarily unavailable",
        "A dependency (database, Redis) cannot be reached; retry after `Retry-After` seconds.",
        "the database is unavailable",
    ),
}


def problem_responses(*statuses: int, **descriptions: str) -> dict[int, ResponseSpec]:
    """OpenAPI responses for these problem statuses (each a problem+json document with an example). A
    keyword `s404="..."` replaces the standard description of that status for one route."""
    responses = {}
    for status in statuses:
        kind, title, description, detail = _DOCUMENTED[status]
        description = descriptions.get(f"s{status}", description)
        example: dict[str, Any] = {"type": _TYPE_BASE + kind, "title": title, "status": status}
        if detail:
            example["detail"] = detail
        responses[status] = ResponseSpec(
            data_container=Problem,
            description=description,
            media_type=PROBLEM_JSON,
            generate_examples=False,
            examples=[Example(value=example)],
        )
    return responses


def _statuses(route: HTTPRoute, handler: HTTPRouteHandler, guards: ProblemGuards) -> list[int]:
    resolved = set(handler.resolve_guards())
    statuses = [400, 503]
    if guards.authenticated in resolved:
        statuses.append(401)
    if resolved & guards.role:
        statuses.append(403)
    if resolved & guards.limited:
        statuses.append(429)
    if route.path_parameters or guards.authenticated in resolved:
        statuses.append(404)  # an unknown id, in the path or in a filter, and one the caller may not read
    if handler.http_methods & {"POST", "PUT", "PATCH"}:
        statuses.append(413)
    if handler.http_methods & {"POST", "PUT", "PATCH", "DELETE"}:
        statuses += [409, 422]  # state conflicts and business rules are checked on writes
    return statuses


@dataclass(frozen=True)
class ProblemGuards:
    """The guards that decide which problems a route can answer."""

    authenticated: Guard  # 401 without a valid token
    role: frozenset[Guard]  # 403 for the wrong role
    limited: frozenset[Guard]  # 429 when a rate limit is spent


def declare_problems(app: Litestar, guards: ProblemGuards) -> None:
    """Declares on every /api route the problems it can answer, so the OpenAPI document lists them all:
    400 and 503 everywhere, 401/403/429 behind the guards that answer them, 404 with path parameters or
    behind authentication (ids in filters), 413
    with a body, 409 and 422 on writes. A route's own `responses` (401 on sign-in, 502) are kept and win."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api/"):
            continue
        for handler in route.route_handlers:
            own: Mapping[int, ResponseSpec] = handler.responses or {}
            handler.responses = {**problem_responses(*_statuses(route, handler, guards)), **own}


def _validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    errors = exc.extra if isinstance(exc.extra, list) else None
    return problem(
        400, "Invalid request", exc.detail, "invalid-request", instance=request.url.path, errors=errors
    )


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    response = problem(exc.status_code, exc.detail, None, str(exc.status_code), instance=request.url.path)
    response.headers.update(exc.headers or {})
    return response


def _invalid(request: Request[Any, Any, Any], exc: InvalidRequestError) -> Response[dict[str, Any]]:
    return problem(400, "Invalid request", str(exc), "invalid-request", instance=request.url.path)


def _not_found(request: Request[Any, Any, Any], exc: NotFoundError) -> Response[dict[str, Any]]:
    return problem(404, "Not found", str(exc), "not-found", instance=request.url.path)


def _unauthenticated(request: Request[Any, Any, Any], exc: AuthenticationError) -> Response[dict[str, Any]]:
    # One answer for every reason (no token, bad signature, expired, revoked, wrong password), on purpose.
    response = problem(401, "Not authenticated", str(exc), "unauthenticated", instance=request.url.path)
    response.headers["WWW-Authenticate"] = 'Bearer realm="xsell"'
    return response


def _forbidden(request: Request[Any, Any, Any], exc: PermissionDeniedError) -> Response[dict[str, Any]]:
    return problem(403, "Forbidden", str(exc), "forbidden", instance=request.url.path)


def _conflict(request: Request[Any, Any, Any], exc: DomainError) -> Response[dict[str, Any]]:
    # Also a move the state rules forbid from the current state (an offer already decided, a model
    # already archived, a change already undone): the request is fine, the resource's state is what
    # conflicts with it.
    return problem(409, "Conflict", str(exc), "conflict", instance=request.url.path)


def _domain(request: Request[Any, Any, Any], exc: DomainError) -> Response[dict[str, Any]]:
    return problem(
        422, "Request breaks a business rule", str(exc), "business-rule", instance=request.url.path
    )


def _unavailable(
    request: Request[Any, Any, Any], exc: DependencyUnavailableError
) -> Response[dict[str, Any]]:
    return _retry_later(request, str(exc), after_s=5)


def _database(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[dict[str, Any]]:
    # A connection lost mid-request (failover, restart, a killed backend): its transaction rolled back and
    # the pool replaces the connection, so the client may simply retry. Any other database error is a bug.
    if exc.connection_invalidated or "connection was closed" in str(exc.orig):
        _log.warning("database connection lost", extra={"path": request.url.path, "method": request.method})
        return _retry_later(request, "The database connection was lost; nothing was saved. Please retry.")
    return _unexpected(request, exc)


def _pool_exhausted(request: Request[Any, Any, Any], exc: PoolTimeoutError) -> Response[dict[str, Any]]:
    _log.warning("no database connection free", extra={"path": request.url.path, "method": request.method})
    return _retry_later(request, "Every database connection is busy; please retry.")


def _retry_later(request: Request[Any, Any, Any], detail: str, after_s: int = 1) -> Response[dict[str, Any]]:
    response = problem(
        503, "Service temporarily unavailable", detail, "unavailable", instance=request.url.path
    )
    response.headers["Retry-After"] = str(after_s)
    return response


def _crm(request: Request[Any, Any, Any], exc: CrmError) -> Response[dict[str, Any]]:
    # The CRM's own reason (INVALID_LOGIN, a limit): gateways redact every secret they were given.
    return problem(502, "The CRM refused", str(exc), "crm-error", instance=request.url.path)


def _read_only(request: Request[Any, Any, Any], exc: CrmReadOnlyError) -> Response[dict[str, Any]]:
    return problem(409, "The org is read-only", str(exc), "read-only-org", instance=request.url.path)


def _key_reused(request: Request[Any, Any, Any], exc: IdempotencyKeyReusedError) -> Response[dict[str, Any]]:
    return problem(
        422, "Idempotency-Key reused", str(exc), "idempotency-key-reused", instance=request.url.path
    )


def _written_back(request: Request[Any, Any, Any], exc: AlreadyWrittenBackError) -> Response[dict[str, Any]]:
    return problem(
        409,
        "Already written back",
        str(exc),
        "already-written-back",
        instance=request.url.path,
        write_back_id=exc.write_back_id,
        salesforce_id=exc.salesforce_id,
    )


def _in_progress(request: Request[Any, Any, Any], exc: WriteBackInProgressError) -> Response[dict[str, Any]]:
    response = problem(
        409, "Write-back in progress", str(exc), "write-back-in-progress", instance=request.url.path
    )
    response.headers["Retry-After"] = "2"
    return response


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    _log.error("unhandled error", exc_info=exc, extra={"path": request.url.path, "method": request.method})
    return problem(
        500, "Internal error", "The error was logged; please retry or contact support.", "internal"
    )


exception_handlers: ExceptionHandlersMap = {
    ValidationException: _validation,
    HTTPException: _http,
    InvalidRequestError: _invalid,
    NotFoundError: _not_found,
    AuthenticationError: _unauthenticated,
    PermissionDeniedError: _forbidden,
    ConflictError: _conflict,
    InvalidStatusTransitionError: _conflict,
    InvalidStageTransitionError: _conflict,
    IrreversibleChangeError: _conflict,
    DomainError: _domain,
    DependencyUnavailableError: _unavailable,
    CrmError: _crm,
    CrmReadOnlyError: _read_only,
    IdempotencyKeyReusedError: _key_reused,
    AlreadyWrittenBackError: _written_back,
    WriteBackInProgressError: _in_progress,
    DBAPIError: _database,
    PoolTimeoutError: _pool_exhausted,
    Exception: _unexpected,
}
