"""Rate limits: guards that count requests in Redis, and the hook that writes the RateLimit-* headers.

Authenticated routes count per principal (RL-3), in the step that authenticates the request (the
`authenticated` guard, which also answers 429); sign-in counts per client address, with a stricter limit,
because no principal exists yet. The address is the ASGI client (what the server or a trusted-proxy
middleware set), never X-Forwarded-For, which any client can write (RL-2). The counts live in Redis, so
several API processes share one budget (RL-1). When Redis cannot be reached the request goes on: the API
stays available without limits (fail open) and says so in the log.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from dishka import AsyncContainer
from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import TooManyRequestsException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Message, Scope

from application.errors import DependencyUnavailableError
from application.ports.rate_limit import RateLimitDecision, RateLimiter
from entrypoints.settings import Settings

__all__ = [
    "WINDOW_SECONDS",
    "counted",
    "enforce_limit",
    "per_client_limit",
    "per_client_login_limit",
    "rate_limit_headers",
]

WINDOW_SECONDS = 60
_STATE_KEY = "rate_limit"
_WARN_EVERY_SECONDS = 10.0
_log = logging.getLogger("xsell.http.rate_limit")
_last_warning = 0.0


def _headers(decision: RateLimitDecision) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(decision.limit),
        "RateLimit-Remaining": str(decision.remaining),
        "RateLimit-Reset": str(decision.reset_seconds),
        "RateLimit-Policy": f"{decision.limit};w={WINDOW_SECONDS}",
    }


def _warn_open(why: str) -> None:
    # Once per few seconds, not once per request: an outage must not flood the log.
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= _WARN_EVERY_SECONDS:
        _last_warning = now
        _log.warning("rate limits not enforced: %s", why)


def counted(connection: ASGIConnection[Any, Any, Any, Any], decision: RateLimitDecision | None) -> None:
    """Keep the count of this request for the limit guards and the RateLimit-* headers; None when the
    shared count could not be reached (the request goes on: fail open, and the log says so)."""
    if decision is None:
        _warn_open("Redis does not answer")
        return
    connection.scope["state"][_STATE_KEY] = decision


def enforce_limit(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """429, with RateLimit-* and Retry-After, when this request's count went past its limit."""
    decision = connection.scope["state"].get(_STATE_KEY)
    if isinstance(decision, RateLimitDecision) and not decision.allowed:
        raise TooManyRequestsException(
            detail="Too many requests",
            headers={**_headers(decision), "Retry-After": str(decision.reset_seconds)},
        )


async def _count(connection: ASGIConnection[Any, Any, Any, Any], bucket: str, subject: str) -> None:
    container: AsyncContainer = connection.state.dishka_container
    settings = await container.get(Settings)
    limit = settings.login_rate_limit_per_minute if bucket == "login" else settings.rate_limit_per_minute
    limiter = await container.get(RateLimiter)
    try:
        decision = await limiter.hit(bucket, subject, limit, WINDOW_SECONDS)
    except DependencyUnavailableError as exc:
        _warn_open(str(exc))
        return
    counted(connection, decision)
    enforce_limit(connection)


def _client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return connection.client.host if connection.client else "unknown"


async def per_client_login_limit(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard on sign-in: XSELL_LOGIN_RATE_LIMIT_PER_MINUTE attempts per client address, else 429."""
    await _count(connection, "login", _client_address(connection))


async def per_client_limit(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard on other public token routes: XSELL_RATE_LIMIT_PER_MINUTE per client address, else 429."""
    await _count(connection, "public", _client_address(connection))


async def rate_limit_headers(message: Message, scope: Scope) -> None:
    """`before_send` hook: every response of a counted request carries RateLimit-* headers."""
    if message["type"] != "http.response.start":
        return
    decision = scope.get("state", {}).get(_STATE_KEY)
    if isinstance(decision, RateLimitDecision):
        headers = MutableScopeHeaders.from_message(message)
        for name, value in _headers(decision).items():
            headers[name] = value
