"""Jobs made visible: a Dramatiq middleware for durations, retries and traces, and the queue depth collector.

The trace context travels in the message options (`trace_context`, W3C traceparent), so a job continues
the trace of whatever sent it: an API request, the scheduler, or another job.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from opentelemetry import context as otel_context
from opentelemetry.propagate import extract, inject
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, set_span_in_context
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from redis import Redis
from redis.exceptions import RedisError

from adapters.observability.metrics import xsell_metrics
from adapters.observability.tracing import tracer

__all__ = ["TRACE_OPTION", "JobTelemetry", "QueueDepthCollector"]

TRACE_OPTION = "trace_context"


class JobTelemetry(dramatiq.Middleware):
    """Add after Dramatiq's defaults, so that Retries has decided about a failed message when this runs."""

    def __init__(self) -> None:
        self._running: dict[str, tuple[float, Span, object]] = {}
        self._lock = threading.Lock()

    def before_enqueue(self, broker: dramatiq.Broker, message: dramatiq.Message[Any], delay: int) -> None:
        carrier: dict[str, str] = {}
        inject(carrier)
        if carrier:
            message.options[TRACE_OPTION] = carrier

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        parent = extract(message.options.get(TRACE_OPTION) or {})
        span = tracer().start_span(
            f"job {message.actor_name}",
            context=parent,
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "dramatiq",
                "messaging.destination.name": message.queue_name,
                "messaging.message.id": message.message_id,
            },
        )
        # Attached on the worker thread; the AsyncIO middleware hands the actor's coroutine to its loop
        # with a copy of this thread's context, so the use case's spans nest under this one.
        token = otel_context.attach(set_span_in_context(span, parent))
        with self._lock:
            self._running[message.message_id] = (time.perf_counter(), span, token)

    def _finish(self, message: MessageProxy, exception: BaseException | None, skipped: bool) -> None:
        with self._lock:
            running = self._running.pop(message.message_id, None)
        if running is None:
            return
        started, span, token = running
        if not skipped:
            xsell_metrics().job_duration.labels(actor=message.actor_name).observe(
                time.perf_counter() - started
            )
        if exception is not None:
            span.record_exception(exception)
            span.set_status(Status(StatusCode.ERROR, type(exception).__name__))
            if not message.failed:  # Retries put it back on the queue
                xsell_metrics().job_retries.inc()
        span.end()
        otel_context.detach(token)  # type: ignore[arg-type]

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        self._finish(message, exception, skipped=False)

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self._finish(message, None, skipped=True)


class QueueDepthCollector(Collector):
    """`xsell_jobs_queue_depth`: jobs waiting in each queue, read from Redis (LLEN) at scrape time."""

    def __init__(self, client: Redis, queues: Callable[[], Iterable[str]], namespace: str = "xsell") -> None:
        self._client = client
        self._queues = queues
        self._namespace = namespace

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "xsell_jobs_queue_depth", "Jobs waiting in a Dramatiq queue.", labels=["queue"]
        )
        # Delay (.DQ) and dead-letter (.XQ) queues are not waiting work.
        names = sorted({q for q in self._queues() if not q.endswith((".DQ", ".XQ"))})
        try:
            with self._client.pipeline(transaction=False) as pipe:
                for name in names:
                    pipe.llen(f"{self._namespace}:{name}")
                depths = pipe.execute()  # type: ignore[no-untyped-call]
        except (RedisError, OSError):
            return  # no sample beats a wrong one; Prometheus keeps scraping the rest
        for name, depth in zip(names, depths, strict=True):
            family.add_metric([name], float(depth))
        yield family
