"""The outbox relay: sends the messages that jobs left in the outbox table to Dramatiq, then marks them sent.

A message is sent at least once: a relay that dies between sending and marking sends it again on its next
turn, and the job's actor runs a job only once whatever the number of deliveries. Relays in several
processes never send the same rows at the same time (`FOR UPDATE SKIP LOCKED`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

import dramatiq
from dramatiq.errors import ActorNotFound
from redis.exceptions import RedisError
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.persistence.engine import create_engine, create_session_factory
from adapters.persistence.job_tables import outbox
from application.errors import DependencyUnavailableError

__all__ = ["DramatiqOutboxRelay", "OutboxRelayThread"]

_log = logging.getLogger("xsell.outbox")
_WARN_EVERY_S = 30.0


class DramatiqOutboxRelay:
    """TaskQueue over the outbox table and a broker on which every actor named in the outbox is declared."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], broker: dramatiq.Broker) -> None:
        self._sessions, self._broker = sessions, broker

    def _send(self, job_id: str, actor_name: str, kwargs: dict[str, Any]) -> None:
        actor = self._broker.get_actor(actor_name)
        # The job id is the message id: a message sent twice is recognisably one job everywhere.
        message = actor.message_with_options(kwargs=kwargs).copy(message_id=job_id)
        self._broker.enqueue(message)

    async def send_pending(self, limit: int = 100) -> int:
        failure: Exception | None = None
        sent: list[int] = []
        try:
            async with self._sessions() as session, session.begin():
                rows = (
                    await session.execute(
                        select(outbox.c.id, outbox.c.job_id, outbox.c.actor, outbox.c.message)
                        .where(outbox.c.relayed_at.is_(None))
                        .order_by(outbox.c.id)
                        .limit(limit)
                        .with_for_update(skip_locked=True)
                    )
                ).all()
                for row in rows:
                    try:
                        await asyncio.to_thread(self._send, str(row.job_id), row.actor, dict(row.message))
                    except ActorNotFound:
                        # Only a process that lacks the actor (an older version) gets here: leave the row
                        # for a relay that knows it.
                        _log.error("outbox row %s names unknown actor %s", row.id, row.actor)
                        continue
                    except (RedisError, OSError) as error:
                        failure = error  # what was sent so far is still marked below
                        break
                    sent.append(row.id)
                if sent:
                    await session.execute(
                        update(outbox).where(outbox.c.id.in_(sent)).values(relayed_at=datetime.now(UTC))
                    )
        except (SQLAlchemyError, OSError) as error:
            raise DependencyUnavailableError(f"the outbox cannot be read: {type(error).__name__}") from error
        if failure is not None:
            raise DependencyUnavailableError(
                f"the job queue cannot be reached ({type(failure).__name__}); {len(rows) - len(sent)} "
                "job(s) wait in the outbox"
            ) from failure
        return len(sent)


class OutboxRelayThread:
    """Runs a relay every `interval_s` on a thread of its own (with its own event loop and database pool)
    until `stop()`; the worker and the scheduler each run one."""

    def __init__(self, database_url: str, broker: dramatiq.Broker, interval_s: float = 1.0) -> None:
        self._database_url, self._broker, self._interval = database_url, broker, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name="outbox-relay", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _main(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        engine = create_engine(self._database_url, pool_size=1)
        relay = DramatiqOutboxRelay(create_session_factory(engine), self._broker)
        last_warning = 0.0
        try:
            while not self._stop.is_set():
                try:
                    while await relay.send_pending() == 100:  # a backlog: keep going before sleeping
                        pass
                except DependencyUnavailableError as error:
                    # Once in a while, not every second: an outage must not flood the log.
                    if time.monotonic() - last_warning >= _WARN_EVERY_S:
                        last_warning = time.monotonic()
                        _log.warning("outbox relay waiting: %s", error)
                await asyncio.to_thread(self._stop.wait, self._interval)
        finally:
            await engine.dispose()
