"""The sync actors on a Dramatiq RedisBroker. Messages carry org ids only, never credentials.

The worker and the scheduler both call `declare_sync_actors`: the worker with a runner that does the work,
the scheduler (which only sends) without one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import dramatiq
from dramatiq.brokers.redis import DEFAULT_MAINTENANCE_CHANCE, RedisBroker
from dramatiq.middleware import AsyncIO
from redis import Redis

from adapters.tasks.broker import RecoveringRedisBroker
from adapters.tasks.quarantine import AttemptLimit
from adapters.tasks.telemetry import JobTelemetry

__all__ = [
    "SYNC_ATTEMPTS",
    "TIME_LIMIT_MS",
    "SyncActors",
    "SyncRunner",
    "TransientSyncError",
    "create_broker",
    "declare_sync_actors",
]

QUEUE = "sync"
# A backlog of sync triggers older than this (an outage) is dropped: the next schedule covers it.
MAX_AGE_MS = 60 * 60 * 1000
TIME_LIMIT_MS = 2 * 60 * 60 * 1000
# Attempts of one sync before a transient failure is final: the first and three retries.
SYNC_ATTEMPTS = 4


class TransientSyncError(Exception):
    """The sync failed in a way worth retrying later (the CRM kept timing out, for instance)."""


class SyncRunner(Protocol):
    async def sync_org(self, org_id: str, full: bool, job_id: str | None) -> None:
        """Run one sync (for the job `job_id`, when someone asked for it); raise TransientSyncError when it
        should be retried."""
        ...

    async def sync_all(self, job_id: str | None, send: Callable[[str], object]) -> None:
        """Call `send` with every org a sync of all covers (not those waiting for a human)."""
        ...


@dataclass(frozen=True)
class SyncActors:
    sync_org: dramatiq.Actor[Any, Any]
    sync_all: dramatiq.Actor[Any, Any]


def create_broker(
    redis_url: str,
    *,
    max_attempts: int,
    heartbeat_timeout_ms: int = 60_000,
    maintenance_chance: int = DEFAULT_MAINTENANCE_CHANCE,
    timeout_s: float | None = None,
) -> RedisBroker:
    """`maintenance_chance` (per million broker commands) is how often a command also moves the unacked
    messages of workers silent for `heartbeat_timeout_ms` (killed ones) back onto their queue.
    `timeout_s` bounds connecting and each command, for processes that only send (a request must not wait
    on an unresponsive Redis)."""
    client = None
    if timeout_s is not None:  # the broker ignores timeouts given beside a URL: bring a client that has them
        client = Redis.from_url(redis_url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
    broker = RecoveringRedisBroker(
        url=None if client is not None else redis_url,
        client=client,
        namespace="xsell",
        heartbeat_timeout=heartbeat_timeout_ms,
        maintenance_chance=maintenance_chance,
    )
    broker.add_middleware(AsyncIO())
    broker.add_middleware(AttemptLimit(Redis.from_url(redis_url), max_attempts))
    broker.add_middleware(JobTelemetry())
    return broker


def declare_sync_actors(broker: dramatiq.Broker, runner: SyncRunner | None) -> SyncActors:
    def _runner() -> SyncRunner:
        if runner is None:
            raise RuntimeError("this process only sends sync jobs")
        return runner

    async def sync_org(org_id: str, full: bool = False, job_id: str | None = None) -> None:
        await _runner().sync_org(org_id, full, job_id)

    async def sync_all(job_id: str | None = None) -> None:
        await _runner().sync_all(job_id, org_actor.send)

    org_actor: dramatiq.Actor[Any, Any] = dramatiq.actor(
        broker=broker,
        actor_name="sync_org",
        queue_name=QUEUE,
        max_retries=3,
        min_backoff=15_000,
        max_backoff=600_000,
        # `retries`: the failures before this one, so this failure ends attempt retries + 1.
        retry_when=lambda retries, error: (
            isinstance(error, TransientSyncError) and retries + 1 < SYNC_ATTEMPTS
        ),
        max_age=MAX_AGE_MS,
        time_limit=TIME_LIMIT_MS,
    )(sync_org)
    all_actor: dramatiq.Actor[Any, Any] = dramatiq.actor(
        broker=broker, actor_name="sync_all", queue_name=QUEUE, max_retries=0, max_age=MAX_AGE_MS
    )(sync_all)
    return SyncActors(org_actor, all_actor)
