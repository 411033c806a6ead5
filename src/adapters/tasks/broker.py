"""The Redis broker xsell's workers use: Dramatiq's, plus recovery of the delayed jobs a worker drops when
its connection to Redis breaks.

Dramatiq (2.2) keeps a worker's delayed messages (retries with backoff, jobs sent with a delay) in memory
after fetching them; Redis records them as taken by that worker. When the connection breaks, the worker
empties that memory but the records stay, and Redis hands them to another worker only once this one stops
sending heartbeats. A worker that reconnects would therefore never run them until it restarts. This broker
notices the break and, when the delay queue's consumer starts again, puts this worker's taken delayed
messages back on their queue, so the worker fetches them again.
"""

from __future__ import annotations

from typing import Any

from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import dq_name
from dramatiq.errors import ConnectionClosed
from redis import ConnectionError as RedisConnectionError

__all__ = ["RecoveringRedisBroker"]


class _Consumer(_RedisConsumer):
    def __next__(self) -> Any:
        try:
            return super().__next__()  # type: ignore[no-untyped-call]
        except ConnectionClosed:
            # The worker's consumer thread catches this and forgets every delayed message it held.
            if self.queue_name == dq_name(self.queue_name):
                self.broker.dropped_delayed.add(self.queue_name)
            raise


class RecoveringRedisBroker(RedisBroker):
    def __init__(self, **options: Any) -> None:
        super().__init__(**options)  # type: ignore[no-untyped-call]
        self.dropped_delayed: set[str] = set()

    @property
    def consumer_class(self) -> type[_RedisConsumer]:
        return _Consumer

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000) -> Any:
        if queue_name in self.dropped_delayed:
            self._give_back_taken(queue_name)
            self.dropped_delayed.discard(queue_name)
        return super().consume(queue_name, prefetch, timeout)

    def _give_back_taken(self, queue_name: str) -> None:
        taken = f"{self.namespace}:__acks__.{self.broker_id}.{queue_name}"
        try:
            # The broker's client is the synchronous one: smembers answers a set.
            message_ids = list(self.client.smembers(taken))  # type: ignore[arg-type]
            if message_ids:
                self.do_requeue(queue_name, *message_ids)
        except RedisConnectionError as exc:
            # Still down: the consumer thread catches this and tries again a second later.
            raise ConnectionClosed(exc) from None  # type: ignore[no-untyped-call]
