"""Authentication and authorization of routes: the bearer-token guard, the admin guard, `principal`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dishka import AsyncContainer
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import Components, SecurityScheme

from application.auth import Authenticate
from application.errors import AuthenticationError, PermissionDeniedError
from domain.access import Principal, Role
from entrypoints.http.guards import refuse_nul, refuse_unknown_query
from entrypoints.http.rate_limits import WINDOW_SECONDS, counted, enforce_limit
from entrypoints.settings import Settings

__all__ = [
    "BEARER",
    "SECURITY_COMPONENTS",
    "admin_only",
    "admin_or_analyst",
    "admitted_principal",
    "admitted_versions",
    "authenticated",
    "principal_dependency",
]

BEARER = "BearerToken"
_VERSIONS = "admitted_versions"
_ADMISSION = "admission"  # on the app state: see `_admission`
SECURITY_COMPONENTS = Components(
    security_schemes={
        BEARER: SecurityScheme(
            type="http",
            scheme="bearer",
            bearer_format="JWT",
            description="An access token from POST /api/v1/auth/login or /api/v1/auth/token, in the"
            " Authorization header only (never a cookie or a query parameter).",
        )
    }
)


async def _admission(connection: ASGIConnection[Any, Any, Any, Any]) -> tuple[Authenticate, int]:
    """The process's `Authenticate` and the rate limit, resolved from the container on the first request
    and kept on the app (both live as long as the process; looking them up on every request took 8% of
    the guard's time)."""
    found: tuple[Authenticate, int] | None = connection.app.state.get(_ADMISSION)
    if found is None:
        container: AsyncContainer = connection.state.dishka_container
        settings = await container.get(Settings)
        found = (await container.get(Authenticate), settings.rate_limit_per_minute)
        connection.app.state[_ADMISSION] = found
    return found


def _bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    # Only the Authorization header, only the Bearer scheme: no cookies (no CSRF surface), no query
    # parameters (tokens in URLs end up in logs and browser history).
    values = connection.headers.getall("authorization", [])
    if len(values) != 1:
        raise AuthenticationError()
    scheme, _, token = values[0].strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise AuthenticationError()
    return token


async def authenticated(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Guard: the path and query hold no NUL (`refuse_nul`, 400); the request carries a valid access
    token of an active principal, or it gets 401; the principal has XSELL_RATE_LIMIT_PER_MINUTE requests
    left, or it gets 429 (counted in the same step); and it names no query parameter the route does not
    take, or it gets 400. One guard, not four: Litestar copies the handler for every guard it runs."""
    refuse_nul(connection)
    token = _bearer_token(connection)
    use_case, limit = await _admission(connection)
    admitted = await use_case.admit(token, limit, WINDOW_SECONDS)
    # The scope's state dict itself (Litestar sets it on every request): `connection.state` builds a new
    # State around it on each access.
    state = connection.scope["state"]
    state["principal"] = admitted.principal
    state[_VERSIONS] = admitted.watched
    counted(connection, admitted.decision)
    enforce_limit(connection)
    refuse_unknown_query(connection, handler)


async def admin_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard, after `authenticated`: only admins; everyone else gets 403 whatever the method."""
    principal = connection.state.get("principal")
    if not isinstance(principal, Principal):
        raise AuthenticationError()
    if not principal.is_admin:
        raise PermissionDeniedError("this needs the admin role")


async def admin_or_analyst(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard, after `authenticated`: admins and analysts; `sales` gets 403 whatever the method."""
    principal = connection.state.get("principal")
    if not isinstance(principal, Principal):
        raise AuthenticationError()
    if principal.role not in (Role.ADMIN, Role.ANALYST):
        raise PermissionDeniedError("this needs the admin or analyst role")


def admitted_principal(request: Request[Any, Any, Any]) -> Principal:
    """The principal `authenticated` admitted this request for; AuthenticationError on a route outside
    the guarded router."""
    principal = request.scope["state"].get("principal")
    if not isinstance(principal, Principal):
        raise AuthenticationError()
    return principal


def admitted_versions(request: Request[Any, Any, Any]) -> Mapping[str, str]:
    """The versions the admission step read for this request (`GateAnswer.watched`); empty when Redis
    could not be reached or the route is not guarded."""
    versions = request.scope["state"].get(_VERSIONS)
    return versions if isinstance(versions, Mapping) else {}


async def _principal(request: Request[Any, Any, Any]) -> Principal:
    return admitted_principal(request)


principal_dependency = Provide(_principal)
