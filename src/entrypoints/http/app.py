"""Builds the Litestar application: routes, OpenAPI, problem+json errors and the dishka container."""

from __future__ import annotations

from dishka.integrations.litestar import setup_dishka
from litestar import Litestar, Router
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin

from entrypoints.container import make_container
from entrypoints.http.access_log import access_log
from entrypoints.http.accounts import AccountController
from entrypoints.http.auth import AuthController
from entrypoints.http.customers import CustomerController
from entrypoints.http.health import health, ready
from entrypoints.http.models import FeatureController, ModelController
from entrypoints.http.orgs import OrgController
from entrypoints.http.problems import exception_handlers
from entrypoints.http.rate_limits import per_principal_limit, rate_limit_headers
from entrypoints.http.recommendations import RecommendationController
from entrypoints.http.security import BEARER, SECURITY_COMPONENTS, authenticated, principal_dependency
from entrypoints.http.telemetry import metrics, telemetry
from entrypoints.http.users import UserController
from entrypoints.http.whitespace import WhitespaceController
from entrypoints.settings import Settings

__all__ = ["create_app"]

_MAX_BODY_BYTES = 1_048_576  # 1 MiB: larger bodies answer 413 before any handler reads them (RL-4)

_DESCRIPTION = (
    "Cross-sell recommendations across the Salesforce orgs of one company group. "
    "Errors are RFC 9457 problem+json documents; lists are cursor-paginated."
)


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
            CustomerController,
            ModelController,
            FeatureController,
            WhitespaceController,
        ],
        guards=[authenticated, per_principal_limit],
        dependencies={"principal": principal_dependency},
        security=[{BEARER: []}],
    )
    app = Litestar(
        route_handlers=[health, ready, metrics, AuthController, protected],
        exception_handlers=exception_handlers,
        middleware=[telemetry, access_log],
        before_send=[rate_limit_headers],
        request_max_body_size=_MAX_BODY_BYTES,
        openapi_config=OpenAPIConfig(
            title="xsell API",
            version="1",
            description=_DESCRIPTION,
            path="/schema",
            render_plugins=[ScalarRenderPlugin()],
            components=SECURITY_COMPONENTS,
        ),
        on_shutdown=[container.close],
        logging_config=None,  # logging is set up once, by adapters.observability.logging
        debug=False,
    )
    setup_dishka(container, app)
    return app
