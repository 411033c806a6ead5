"""One in-memory span exporter per test process (the global tracer provider never drops a processor)."""

from __future__ import annotations

from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from adapters.observability.tracing import add_span_processor

__all__ = ["finished_spans"]

_exporter: InMemorySpanExporter | None = None


def finished_spans() -> InMemorySpanExporter:
    """The exporter every span of this process reaches from now on (cleared for each caller)."""
    global _exporter
    if _exporter is None:
        _exporter = InMemorySpanExporter()
        add_span_processor(SimpleSpanProcessor(_exporter))
    _exporter.clear()
    return _exporter
