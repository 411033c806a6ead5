"""Request telemetry: one server span and one latency sample per request, and the /metrics endpoint.

Requests are labelled by their route template (`/api/v1/users/{id}`), never by the raw path, so ids do not
become label values (one series per id would swamp Prometheus).
"""

from __future__ import annotations

import time

from litestar import Response, get
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry.propagate import extract
from opentelemetry.trace import SpanKind, Status, StatusCode

from adapters.observability.metrics import CONTENT_TYPE_LATEST, exposition_registry, render, xsell_metrics
from adapters.observability.tracing import tracer

__all__ = ["metrics", "telemetry"]


def telemetry(app: ASGIApp) -> ASGIApp:
    """ASGI middleware factory (Litestar `middleware=[telemetry, ...]`, outermost)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        method = str(scope.get("method", ""))
        route = str(scope.get("path_template") or "unrouted")
        headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope.get("headers", ())}
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        with tracer().start_as_current_span(
            f"{method} {route}",
            context=extract(headers),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "http.route": route},
        ) as span:
            try:
                await app(scope, receive, sending)
            finally:
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
                xsell_metrics().http_duration.labels(route=route, method=method, status=str(status)).observe(
                    time.perf_counter() - started
                )

    return middleware


@get("/metrics", include_in_schema=False, media_type=CONTENT_TYPE_LATEST, sync_to_thread=False)
def metrics() -> Response[bytes]:
    """Prometheus text format: this process, or every process sharing PROMETHEUS_MULTIPROC_DIR."""
    return Response(render(exposition_registry()), media_type=CONTENT_TYPE_LATEST)
