"""One log line per HTTP request: method, path, status and duration, and nothing a client sent in it.

No headers (Authorization, Cookie), no query string and no body are ever logged: they are where tokens
and passwords travel. Litestar's own request logging would write bodies and cookies, so it stays off.
"""

from __future__ import annotations

import logging
import time

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["access_log"]

_log = logging.getLogger("xsell.http.access")


def access_log(app: ASGIApp) -> ASGIApp:
    """ASGI middleware factory (Litestar `middleware=[access_log]`)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await app(scope, receive, sending)
        finally:
            _log.info(
                "request",
                extra={
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )

    return middleware
