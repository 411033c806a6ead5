"""Builds the Litestar application: routes, OpenAPI, problem+json errors and the dishka container."""

from __future__ import annotations

import gc

from dishka.integrations.litestar import setup_dishka
from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.types import ASGIApp, Receive, Scope, Send

from entrypoints.container import make_container
from entrypoints.http.access_log import access_log
from entrypoints.http.accounts import AccountController
from entrypoints.http.auth import AuthController
from entrypoints.http.customers import CustomerController
from entrypoints.http.guards import well_formed
from entrypoints.http.health import health, ready
from entrypoints.http.jobs import JobController, OrgSyncController
from entrypoints.http.matches import CustomerChangeController, MatchController
from entrypoints.http.models import FeatureController, ModelController
from entrypoints.http.orgs import OrgController
from entrypoints.http.problems import ProblemGuards, declare_problems, exception_handlers
from entrypoints.http.products import ProductController, ProductFamilyController
from entrypoints.http.rate_limits import per_client_limit, per_client_login_limit, rate_limit_headers
from entrypoints.http.recommendation_cache import LOCAL_PAGES, LocalPages
from entrypoints.http.recommendations import RecommendationController
from entrypoints.http.security import (
    BEARER,
    SECURITY_COMPONENTS,
    admin_only,
    admin_or_analyst,
    authenticated,
    principal_dependency,
)
from entrypoints.http.telemetry import metrics, telemetry
from entrypoints.http.users import UserController
from entrypoints.http.whitespace import WhitespaceController
from entrypoints.http.write_backs import WriteBackController
from entrypoints.settings import Settings

__all__ = ["create_app", "freeze_startup_objects"]

_PROBLEM_GUARDS = ProblemGuards(
    authenticated=authenticated,
    role=frozenset({admin_only, admin_or_analyst}),
    limited=frozenset({authenticated, per_client_limit, per_client_login_limit}),
)

_MAX_BODY_BYTES = 1_048_576  # 1 MiB: larger bodies answer 413 before any handler reads them (RL-4)

_DESCRIPTION = (
    "Cross-sell recommendations across the Salesforce orgs of one company group. "
    "Errors are RFC 9457 problem+json documents; lists are cursor-paginated."
)


def _cors(origins: tuple[str, ...]) -> CORSConfig | None:
    """Only the configured origins, only bearer tokens (no cookies, so no credentials mode)."""
    if not origins:
        return None
    return CORSConfig(
        allow_origins=list(origins),
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        expose_headers=[
            "Location",
            "Retry-After",
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
        ],
        allow_credentials=False,
        max_age=600,
    )


def freeze_startup_objects() -> None:
    """For a server process, once its app is built: move everything made so far (modules, the app, its
    routes: some 200,000 objects) out of the garbage collector's view. Otherwise each full collection
    walks them all again, a pause of a tenth of a second or more in the middle of requests; what requests
    allocate is still collected as usual. Not for processes that build many apps (tests): what is frozen
    is never collected."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings) -> Litestar:
    """The API for resolved settings (DATABASE_URL and REDIS_URL set, embedded or external)."""
    container = make_container(settings)
    # Deny by default: everything under this router needs a valid access token; the only public routes
    # are health, readiness, metrics, the OpenAPI document and sign-in (AuthController).
    protected = Router(
        path="/api/v1",
        route_handlers=[
            AccountController,
            OrgController,
            UserController,
            RecommendationController,
            WriteBackController,
            CustomerController,
            CustomerChangeController,
            MatchController,
            ProductFamilyController,
            ProductController,
            ModelController,
            FeatureController,
            JobController,
            OrgSyncController,
            WhitespaceController,
        ],
        guards=[authenticated],  # which also counts the request against the caller's rate limit
        dependencies={"principal": principal_dependency},
        security=[{BEARER: []}],
    )
    # The public routes; `authenticated` makes the same NUL check first on the protected ones. Every route
    # belongs to one of the two routers, so none is left without it.
    public = Router(path="/", route_handlers=[health, ready, metrics, AuthController], guards=[well_formed])
    app = Litestar(
        route_handlers=[public, protected],
        exception_handlers=exception_handlers,
        middleware=[telemetry, access_log],
        before_send=[rate_limit_headers],
        request_max_body_size=_MAX_BODY_BYTES,
        cors_config=_cors(settings.cors_origins),
        openapi_config=OpenAPIConfig(
            title="xsell API",
            version="1",
            description=_DESCRIPTION,
            path="/schema",
            render_plugins=[ScalarRenderPlugin()],
            components=SECURITY_COMPONENTS,
        ),
        on_shutdown=[container.close],
        state=State({LOCAL_PAGES: LocalPages()}),
        logging_config=None,  # logging is set up once, by adapters.observability.logging
        debug=False,
    )
    declare_problems(app, _PROBLEM_GUARDS)
    setup_dishka(container, app)
    app.asgi_handler = _request_container_released(app.asgi_handler)
    return app


def _request_container_released(handler: ASGIApp) -> ASGIApp:
    """Around dishka's middleware: once a request is answered, its scope lets go of the request's
    container. The scope's state holds the container, whose context holds the Request, which holds the
    scope: a reference cycle per request, left for the garbage collector, whose collections then came
    every few requests and paused the process for up to 20 ms every few seconds. Without the cycle
    reference counting frees it all as the request ends."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await handler(scope, receive, send)
        finally:
            state = scope.get("state")
            if isinstance(state, dict):
                state.pop("dishka_container", None)

    return middleware
