"""OpenTelemetry traces: one tracer provider per process, and the spans xsell makes by hand.

The OpenTelemetry instrumentation packages for asyncpg, SQLAlchemy and Redis are not on the release line
of the installed SDK (and the SQLAlchemy one does nothing on SQLAlchemy 2.1), so PostgreSQL statements
are traced through SQLAlchemy's engine events, and Redis and Salesforce calls by the adapters that make
them (`client_span`).
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, TypeVar

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from sqlalchemy import event
from sqlalchemy.engine import Engine

__all__ = [
    "TRACES_MODES",
    "add_span_processor",
    "client_span",
    "configure_tracing",
    "instrument_engine",
    "trace_execute",
    "tracer",
]

TRACES_MODES = ("off", "console")
_log = logging.getLogger(__name__)
_provider: TracerProvider | None = None
_exporting: set[str] = set()
_lock = threading.Lock()
T = TypeVar("T")


def _tracer_provider(service: str) -> TracerProvider:
    global _provider
    with _lock:
        if _provider is None:
            _provider = TracerProvider(resource=Resource.create({"service.name": service}))
            # The API accepts a global provider once per process; later calls only add exporters.
            trace.set_tracer_provider(_provider)
        return _provider


def configure_tracing(service: str, *, mode: str = "off", otlp_endpoint: str | None = None) -> TracerProvider:
    """Set up this process's tracer provider (once; later calls add nothing twice).

    Spans are always made, so ids reach the logs; they are exported to OTLP over HTTP when
    `otlp_endpoint` is set (the exporter reads the other OTEL_EXPORTER_OTLP_* variables itself), and
    printed to stdout when `mode` is `console`.
    """
    provider = _tracer_provider(service)
    with _lock:
        if otlp_endpoint and "otlp" not in _exporting:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            # The exporter appends /v1/traces to OTEL_EXPORTER_OTLP_ENDPOINT itself when it reads it.
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            _exporting.add("otlp")
        if mode == "console" and "console" not in _exporting:
            # One JSON line per span, written from the batch thread so requests never wait on stdout.
            exporter = ConsoleSpanExporter(formatter=lambda span: span.to_json(indent=None) + "\n")
            provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=1000))
            _exporting.add("console")
    return provider


def add_span_processor(processor: SpanProcessor, service: str = "xsell") -> None:
    """Send every later span to `processor` too (tests use an in-memory exporter)."""
    _tracer_provider(service).add_span_processor(processor)


@functools.cache
def tracer() -> trace.Tracer:
    # One tracer per process: `get_tracer` builds a new one (and checks its arguments) on every call,
    # a cost paid several times a request. Asked for before `configure_tracing`, it is the API's proxy,
    # which follows the provider once one is set.
    return trace.get_tracer("xsell")


def client_span(
    name: str, *, system: str, operation: str | None = None, **attributes: Any
) -> AbstractContextManager[Span]:
    """A CLIENT span around one call to another system; an exception marks it failed and goes on. A call
    made outside any recorded span (tracing off, or not sampled) makes none: it would be dropped anyway,
    and the hot paths (two Redis calls per API request) then pay next to nothing for it."""
    current = trace.get_current_span()
    if not current.is_recording():
        return nullcontext(current)
    return _recorded_client_span(name, system, operation, attributes)


@contextmanager
def _recorded_client_span(
    name: str, system: str, operation: str | None, attributes: dict[str, Any]
) -> Iterator[Span]:
    with tracer().start_as_current_span(name, kind=SpanKind.CLIENT) as span:
        span.set_attribute("db.system" if system in ("postgresql", "redis") else "peer.service", system)
        if operation:
            span.set_attribute(
                "db.operation" if system in ("postgresql", "redis") else "operation", operation
            )
        for key, value in attributes.items():
            if value is not None:
                span.set_attribute(key, value)
        yield span


def trace_execute(use_case: T) -> T:
    """Wrap the use case's `execute` in an INTERNAL span named after its class (the composition root
    applies this to every use case it builds)."""
    execute: Callable[..., Any] | None = getattr(use_case, "execute", None)
    if execute is None or getattr(execute, "__xsell_traced__", False):
        return use_case
    name = type(use_case).__name__
    attributes = {"code.function": f"{name}.execute"}
    traced: Callable[..., Any]
    # Some use cases answer without waiting (listing feature definitions): their `execute` stays a plain
    # function, or callers that do not await it would get a coroutine instead of the answer.
    if inspect.iscoroutinefunction(execute):
        awaited: Callable[..., Awaitable[Any]] = execute

        @functools.wraps(execute)
        async def traced_async(*args: Any, **kwargs: Any) -> Any:
            with tracer().start_as_current_span(name, attributes=attributes):
                return await awaited(*args, **kwargs)

        traced = traced_async
    else:
        plain = execute

        @functools.wraps(execute)
        def traced_sync(*args: Any, **kwargs: Any) -> Any:
            with tracer().start_as_current_span(name, attributes=attributes):
                return plain(*args, **kwargs)

        traced = traced_sync
    setattr(traced, "__xsell_traced__", True)  # noqa: B010 - a marker attribute on a function
    use_case.execute = traced  # type: ignore[attr-defined]
    return use_case


_SPAN_KEY = "xsell_span"


def instrument_engine(engine: Engine) -> None:
    """One CLIENT span per SQL statement (its first keyword as the name; never its parameters)."""
    if getattr(engine, "_xsell_traced", False):
        return
    engine._xsell_traced = True  # type: ignore[attr-defined]

    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if not trace.get_current_span().is_recording():
            return  # outside any recorded span (tracing off): no span, as for `client_span`
        operation = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
        span = tracer().start_span(f"postgresql {operation}", kind=SpanKind.CLIENT)
        span.set_attribute("db.system", "postgresql")
        span.set_attribute("db.operation", operation)
        span.set_attribute("db.statement", statement[:2000])
        if context is not None:
            context._xsell_span = span
        else:
            conn.info[_SPAN_KEY] = span

    def _finish(conn: Any, context: Any, error: BaseException | None) -> None:
        span: Span | None = getattr(context, "_xsell_span", None) if context is not None else None
        if span is None and conn is not None:  # no connection: a failed pool ping, which made no span
            span = conn.info.pop(_SPAN_KEY, None)
        elif context is not None:
            context._xsell_span = None
        if span is None:
            return
        if error is not None:
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        span.end()

    @event.listens_for(engine, "after_cursor_execute")
    def _end(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        _finish(conn, context, None)

    @event.listens_for(engine, "handle_error")
    def _failed(exception_context: Any) -> None:
        _finish(
            exception_context.connection,
            exception_context.execution_context,
            exception_context.original_exception,
        )
