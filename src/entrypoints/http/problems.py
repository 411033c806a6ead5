"""RFC 9457 problem+json responses for every error, with no stack traces or internals in the body."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from application.errors import (
    AuthenticationError,
    DependencyUnavailableError,
    InvalidRequestError,
    PermissionDeniedError,
)
from application.ports.crm import CrmError
from domain.errors import (
    ConflictError,
    DomainError,
    InvalidStageTransitionError,
    InvalidStatusTransitionError,
    IrreversibleChangeError,
    NotFoundError,
)

__all__ = ["PROBLEM_JSON", "exception_handlers", "problem"]

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
    response = problem(
        503, "Service temporarily unavailable", str(exc), "unavailable", instance=request.url.path
    )
    response.headers["Retry-After"] = "5"
    return response


def _crm(request: Request[Any, Any, Any], exc: CrmError) -> Response[dict[str, Any]]:
    # The CRM's own reason (INVALID_LOGIN, a limit): gateways redact every secret they were given.
    return problem(502, "The CRM refused", str(exc), "crm-error", instance=request.url.path)


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
    Exception: _unexpected,
}
