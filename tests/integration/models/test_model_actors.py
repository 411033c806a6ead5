"""The `train` and `score` actors on a real Redis broker: they run on a worker and carry no data."""

from __future__ import annotations

import threading

import dramatiq

from adapters.embedded.services import ServiceUrls
from adapters.tasks.actors import create_broker
from adapters.tasks.model_actors import declare_model_actors


class RecordingRunner:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.done = threading.Event()

    async def train(self, profile: str, requested_by: str, job_id: str | None = None) -> None:
        self.calls.append(("train", profile, requested_by))
        self._check()

    async def score(self, job_id: str | None = None) -> None:
        self.calls.append(("score",))
        self._check()

    async def resolve(self, full: bool, job_id: str | None = None) -> None:
        self.calls.append(("resolve",))
        self._check()

    def _check(self) -> None:
        if len(self.calls) == 2:
            self.done.set()


def test_model_jobs_run_on_a_worker_from_their_own_queue(services: ServiceUrls) -> None:
    broker = create_broker(services.redis_url, max_attempts=3)
    runner = RecordingRunner()
    actors = declare_model_actors(broker, runner)
    broker.flush_all()  # after declaring: it empties only the queues the broker knows of
    trained = actors.train.send("quick", "ana")
    scored = actors.score.send()
    assert (trained.queue_name, trained.args) == ("models", ("quick", "ana"))
    assert (scored.queue_name, scored.args) == ("models", ())
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        assert runner.done.wait(30), runner.calls
    finally:
        worker.stop()
        broker.close()
    assert sorted(runner.calls) == [("score",), ("train", "quick", "ana")]
