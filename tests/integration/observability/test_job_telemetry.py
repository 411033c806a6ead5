"""Jobs on a real Redis broker: durations and queue depth on the exporter, the sender's trace continued."""

from __future__ import annotations

import threading

import dramatiq
from tests.integration.observability.spans import finished_spans

from adapters.embedded.services import ServiceUrls
from adapters.observability.metrics import exposition_registry, render
from adapters.observability.tracing import tracer
from adapters.tasks.actors import create_broker
from adapters.tasks.model_actors import declare_model_actors
from adapters.tasks.telemetry import QueueDepthCollector


class TracedRunner:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.trace_ids: list[int] = []

    async def train(self, profile: str, requested_by: str, job_id: str | None = None) -> None:
        from opentelemetry import trace

        self.trace_ids.append(trace.get_current_span().get_span_context().trace_id)

    async def score(self, job_id: str | None = None) -> None:
        self.done.set()

    async def resolve(self, full: bool, job_id: str | None = None) -> None:
        self.done.set()


def _sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name} with {labels} in\n{text}")


def test_a_job_continues_its_senders_trace_and_is_measured(services: ServiceUrls) -> None:
    broker = create_broker(services.redis_url, max_attempts=3)
    runner = TracedRunner()
    actors = declare_model_actors(broker, runner)
    broker.flush_all()  # after declaring: it empties only the queues the broker knows of
    registry = exposition_registry(QueueDepthCollector(broker.client, broker.get_declared_queues))
    spans = finished_spans()
    with tracer().start_as_current_span("send") as sending:
        actors.train.send("quick", "ana")
    actors.score.send()
    waiting = render(registry).decode()
    assert _sample(waiting, "xsell_jobs_queue_depth", queue="models") == 2
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        assert runner.done.wait(30)
        worker.join()
    finally:
        worker.stop()
        broker.close()
    trace_id = sending.get_span_context().trace_id
    assert runner.trace_ids == [trace_id]  # the actor's own code runs inside the job's span
    job = next(s for s in spans.get_finished_spans() if s.name == "job train")
    assert job.context.trace_id == trace_id
    assert job.parent is not None and job.parent.span_id == sending.get_span_context().span_id
    text = render(registry).decode()
    assert _sample(text, "xsell_job_duration_seconds_count", actor="train") >= 1
    assert _sample(text, "xsell_job_duration_seconds_count", actor="score") >= 1
    assert _sample(text, "xsell_jobs_queue_depth", queue="models") == 0
