"""AttemptLimit: a delivery counter per message id that quarantines a message which keeps killing workers.

Dramatiq counts retries only when a worker survives to record them, so a message that crashes the process
(OOM, segfault, SIGKILL) would be redelivered forever. The counter is incremented before each delivery
and cleared when the worker lives to see the outcome; past `max_attempts` the message is moved to a Redis
hash for a human (`xsell worker --quarantined` lists it) and skipped.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import SkipMessage
from redis import Redis

from adapters.observability.metrics import xsell_metrics

__all__ = ["ATTEMPTS_KEY", "QUARANTINE_KEY", "AttemptLimit", "quarantined"]

ATTEMPTS_KEY = "xsell:tasks:attempts"
QUARANTINE_KEY = "xsell:tasks:quarantine"
_log = logging.getLogger(__name__)


class AttemptLimit(dramatiq.Middleware):
    def __init__(self, client: Redis, max_attempts: int) -> None:
        self._client = client
        self._max = max_attempts

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        attempts = int(self._client.hincrby(ATTEMPTS_KEY, message.message_id, 1))  # type: ignore[arg-type]
        if attempts > self._max:
            record = {"message": message.asdict(), "attempts": attempts - 1}
            self._client.hset(QUARANTINE_KEY, message.message_id, json.dumps(record, default=str))
            self._client.hdel(ATTEMPTS_KEY, message.message_id)
            _log.error("quarantined message %s of %s", message.message_id, message.actor_name)
            xsell_metrics().job_dead_letters.inc()
            raise SkipMessage(f"message crashed its worker {attempts - 1} times")

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        # The worker lived to see the outcome: ordinary failures are Dramatiq's retries to count.
        self._client.hdel(ATTEMPTS_KEY, message.message_id)


def quarantined(client: Redis) -> dict[str, dict[str, Any]]:
    """Quarantined messages by message id."""
    raw: dict[bytes, bytes] = client.hgetall(QUARANTINE_KEY)  # type: ignore[assignment]
    return {key.decode(): json.loads(value) for key, value in raw.items()}
