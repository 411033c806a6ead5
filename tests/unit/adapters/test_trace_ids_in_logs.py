"""Every log line written inside a span names its trace and span; lines outside a span name none."""

from __future__ import annotations

import io
import json
import logging

from opentelemetry.sdk.trace import TracerProvider

from adapters.observability.logging import configure_logging, get_logger


def test_log_lines_inside_a_span_carry_its_ids() -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream)
    tracer = TracerProvider().get_tracer("test")
    try:
        with tracer.start_as_current_span("work") as span:
            get_logger("xsell.test").info("structlog.line")
            logging.getLogger("xsell.test").info("stdlib line")
        get_logger("xsell.test").info("outside")
    finally:
        configure_logging("INFO")
    inside_a, inside_b, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    context = span.get_span_context()
    for line in (inside_a, inside_b):
        assert line["trace_id"] == format(context.trace_id, "032x")
        assert line["span_id"] == format(context.span_id, "016x")
    assert "trace_id" not in outside and "span_id" not in outside


def test_a_use_case_that_answers_without_waiting_stays_a_plain_call() -> None:
    from adapters.observability.tracing import trace_execute

    class Listing:
        def execute(self, n: int) -> list[int]:
            return list(range(n))

    class Waiting:
        async def execute(self, n: int) -> int:
            return n

    import asyncio

    assert trace_execute(Listing()).execute(3) == [0, 1, 2]
    assert asyncio.run(trace_execute(Waiting()).execute(4)) == 4
