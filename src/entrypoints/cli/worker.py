"""`xsell worker` (Dramatiq sync worker) and `xsell scheduler` (queues each org's sync on its own cron)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import dramatiq
import psutil
from redis import Redis

from adapters.observability.logging import get_logger
from adapters.observability.metrics import serve_metrics, use_multiprocess_dir
from adapters.tasks.actors import (
    SYNC_ATTEMPTS,
    SyncActors,
    TransientSyncError,
    create_broker,
    declare_sync_actors,
)
from adapters.tasks.actors import TIME_LIMIT_MS as SYNC_TIME_LIMIT_MS
from adapters.tasks.model_actors import (
    RESOLVE_TIME_LIMIT_MS,
    SCORE_TIME_LIMIT_MS,
    TRAIN_TIME_LIMIT_MS,
    declare_model_actors,
)
from adapters.tasks.outbox_relay import OutboxRelayThread
from adapters.tasks.quarantine import quarantined
from adapters.tasks.telemetry import QueueDepthCollector
from application.errors import InvalidRequestError
from application.jobs import JobResult, JobWork, RunJob
from application.models.ports import TRAINING_PROFILES
from application.models.scoring import ScoreCustomers
from application.models.train import TrainModel
from application.orgs import ListOrgs
from application.ports.schedule import CronCalendar
from application.resolution.resolve import ResolveCustomers
from application.sync import DueSyncs, SyncOrg, SyncTimetable
from domain.sync import OrgSyncState, SyncRunStatus
from entrypoints.cli.app import cli
from entrypoints.cli.runtime import app_container, load_settings, migrated, services
from entrypoints.container import make_container
from entrypoints.settings import Settings

__all__ = [
    "ContainerModelRunner",
    "ContainerSyncRunner",
    "SyncFailedError",
    "metrics_dir",
    "queue_depth",
    "scheduler",
    "worker",
]

WORKER_METRICS_PORT = 9191
SCHEDULER_METRICS_PORT = 9192

_log = get_logger("xsell.scheduler")
# How often the worker and the scheduler send what waits in the outbox.
RELAY_INTERVAL_S = 1.0


class SyncFailedError(Exception):
    """A requested sync ended `failed` for a reason a retry will not cure (a refused login, a bad field)."""


class _ContainerRunner:
    """Runs use cases from a worker; the container is built lazily, on the worker's event-loop thread."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._container: Any = None

    def _get(self) -> Any:
        if self._container is None:
            self._container = make_container(self._settings)
        return self._container

    async def _as_job(
        self,
        job_id: str | None,
        work: JobWork,
        *,
        time_limit_ms: int,
        retry: Callable[[Exception, int], bool] | None = None,
    ) -> None:
        """Run `work`; for a job someone asked for, through RunJob, which runs it once and records it."""
        if job_id is None:
            await work()
            return
        try:
            parsed = uuid.UUID(job_id)
        except ValueError:
            _log.error("worker.bad_job_id", job_id=job_id[:64])
            return
        async with self._get()() as request:
            use_case: RunJob = await request.get(RunJob)
            stale_after = timedelta(milliseconds=time_limit_ms)
            if retry is None:
                job = await use_case.execute(parsed, work, stale_after=stale_after)
            else:
                job = await use_case.execute(parsed, work, stale_after=stale_after, retry=retry)
        if job is None:
            _log.info("worker.job_skipped", job_id=job_id)


def _sync_retry(error: Exception, attempts: int) -> bool:
    return isinstance(error, TransientSyncError) and attempts < SYNC_ATTEMPTS


class ContainerSyncRunner(_ContainerRunner):
    """Runs the sync use case from a worker."""

    async def sync_org(self, org_id: str, full: bool, job_id: str | None = None) -> None:
        async def work() -> JobResult:
            async with self._get()() as request:
                use_case: SyncOrg = await request.get(SyncOrg)
                trigger = "schedule" if job_id is None else "api"
                report = await use_case.execute(org_id, full=full, trigger=trigger)
            if report.status is SyncRunStatus.FAILED and (report.reason or "").startswith("transient"):
                raise TransientSyncError(report.reason)
            if report.status is SyncRunStatus.FAILED and job_id is not None:
                raise SyncFailedError(report.reason or "the sync failed")
            return {
                "run_id": str(report.run_id),
                "status": report.status.value,
                "upserted": sum(c.get("upserted", 0) for c in report.counts.values()),
                "deleted": sum(c.get("deleted", 0) for c in report.counts.values()),
                "mismatched_objects": len(report.mismatches),
            }

        await self._as_job(job_id, work, time_limit_ms=SYNC_TIME_LIMIT_MS, retry=_sync_retry)

    async def sync_all(self, job_id: str | None, send: Callable[[str], object]) -> None:
        async def work() -> JobResult:
            async with self._get()() as request:
                summaries = await (await request.get(ListOrgs)).execute()
            org_ids = [s.org.id for s in summaries if s.status.state is not OrgSyncState.ATTENTION]
            for org_id in org_ids:
                send(org_id)
            return {"orgs_queued": len(org_ids)}

        await self._as_job(job_id, work, time_limit_ms=SYNC_TIME_LIMIT_MS)


class ContainerModelRunner(_ContainerRunner):
    """Trains, scores and resolves from a worker."""

    async def train(self, profile: str, requested_by: str, job_id: str | None = None) -> None:
        async def work() -> JobResult:
            async with self._get()() as request:
                use_case: TrainModel = await request.get(TrainModel)
                outcome = await use_case.execute(
                    by=requested_by,
                    horizon_days=self._settings.model_horizon_days,
                    budget=TRAINING_PROFILES.get(profile, TRAINING_PROFILES["standard"]),
                )
            return {"model_id": outcome.version.id, "promoted": outcome.promoted, "seconds": outcome.seconds}

        await self._as_job(job_id, work, time_limit_ms=TRAIN_TIME_LIMIT_MS)

    async def score(self, job_id: str | None = None) -> None:
        async def work() -> JobResult:
            async with self._get()() as request:
                use_case: ScoreCustomers = await request.get(ScoreCustomers)
                report = await use_case.execute()
            return {"run_id": report.run_id, "customers": report.customers, "written": report.written}

        await self._as_job(job_id, work, time_limit_ms=SCORE_TIME_LIMIT_MS)

    async def resolve(self, full: bool, job_id: str | None = None) -> None:
        async def work() -> JobResult:
            async with self._get()() as request:
                use_case: ResolveCustomers = await request.get(ResolveCustomers)
                report = await use_case.execute(full=full)
            return {
                "accounts": report.accounts,
                "customers": report.customers,
                "multi_org_customers": report.multi_org_customers,
                "review_pairs": report.review_pairs,
                "customers_changed": report.customers_changed,
            }

        await self._as_job(job_id, work, time_limit_ms=RESOLVE_TIME_LIMIT_MS)


def metrics_dir(settings: Settings, group: str) -> Path:
    """Where one worker process group counts in prometheus-client multiprocess mode (one per pid).

    Folders of groups whose process is gone are removed: their counts ended with them.
    """
    root = Path(settings.data_dir).resolve() / "metrics"
    if root.is_dir():
        for folder in root.glob(f"{group}-*"):
            pid = folder.name.rpartition("-")[2]
            if pid.isdigit() and not psutil.pid_exists(int(pid)):
                shutil.rmtree(folder, ignore_errors=True)
    return root / f"{group}-{os.getpid()}"


def queue_depth(settings: Settings, broker: dramatiq.Broker) -> QueueDepthCollector:
    assert settings.redis_url is not None
    return QueueDepthCollector(Redis.from_url(settings.redis_url), broker.get_declared_queues)


def _wait_for_signal() -> None:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()


def build_actors(
    settings: Settings, *, runner: bool, heartbeat_s: float = 60.0, maintenance_chance: int | None = None
) -> SyncActors:
    assert settings.redis_url is not None
    broker = create_broker(
        settings.redis_url,
        max_attempts=settings.worker_max_attempts,
        heartbeat_timeout_ms=int(heartbeat_s * 1000),
        **({} if maintenance_chance is None else {"maintenance_chance": maintenance_chance}),
    )
    dramatiq.set_broker(broker)
    declare_model_actors(broker, ContainerModelRunner(settings) if runner else None)
    return declare_sync_actors(broker, ContainerSyncRunner(settings) if runner else None)


@cli.command()
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True, help="Jobs at once.")
@click.option("--heartbeat-s", type=click.FloatRange(1, 3600), default=60.0, show_default=True,
              help="How soon the jobs of a worker that died are handed to another.")  # fmt: skip
@click.option("--maintenance-chance", type=click.IntRange(1, 1_000_000), default=None, hidden=True,
              help="Commands per million that also requeue jobs of dead workers.")  # fmt: skip
@click.option("--quarantined", "show_quarantined", is_flag=True, help="List quarantined jobs and exit.")
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=WORKER_METRICS_PORT, show_default=True,
              help="Port of /metrics (on XSELL_API_HOST) for all its processes; 0: none.")  # fmt: skip
def worker(
    threads: int,
    heartbeat_s: float,
    maintenance_chance: int | None,
    show_quarantined: bool,
    metrics_port: int,
) -> None:
    """Run background jobs from the Redis queues until stopped (Ctrl-C or SIGTERM).

    Start as many workers as you like; a job syncs one org, resolves customers, trains a model or scores
    every customer. Jobs requested through the API wait in the database's outbox until a worker or the
    scheduler hands them to Redis, so a Redis outage loses none.
    A job that keeps crashing its worker is quarantined after XSELL_WORKER_MAX_ATTEMPTS deliveries
    (list them with --quarantined).
    """
    settings = load_settings()
    with services(settings) as resolved:
        if show_quarantined:
            assert resolved.redis_url is not None
            for message_id, record in quarantined(Redis.from_url(resolved.redis_url)).items():
                message = record["message"]
                click.echo(
                    f"{message_id}  {message['actor_name']}  args={message['args']}  x{record['attempts']}"
                )
            return
        # Before anything is counted: training and scoring may run in child processes, whose counts the
        # exporter merges from this folder.
        use_multiprocess_dir(metrics_dir(resolved, "worker"))
        migrated(resolved)
        actors = build_actors(
            resolved, runner=True, heartbeat_s=heartbeat_s, maintenance_chance=maintenance_chance
        )
        serve_metrics(resolved.api_host, metrics_port, queue_depth(resolved, actors.sync_org.broker))
        consumer = dramatiq.Worker(actors.sync_org.broker, worker_threads=threads)
        consumer.start()
        assert resolved.database_url is not None
        relay = OutboxRelayThread(resolved.database_url, actors.sync_org.broker, RELAY_INTERVAL_S)
        relay.start()
        click.echo(f"xsell worker running ({threads} threads); Ctrl-C to stop", err=True)
        try:
            _wait_for_signal()
        finally:
            relay.stop()
            consumer.stop()


async def _schedule(settings: Settings, actors: SyncActors, tick_s: float) -> None:
    """Every tick: read every org's schedule again (so `xsell orgs schedule` needs no restart) and queue
    the orgs that are due; sleep until the next one is due or the next tick, whichever comes first."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with app_container(settings) as container:
        try:
            timetable = SyncTimetable(await container.get(CronCalendar), settings.sync_schedule)
        except InvalidRequestError as error:
            raise click.ClickException(f"XSELL_SYNC_SCHEDULE: {error}") from None
        reported: dict[str, str] = {}
        while not stop.is_set():
            try:
                async with container() as request:
                    due = await (await request.get(DueSyncs)).execute(timetable)
            except Exception:  # the database restarting must not end the scheduler: try on the next tick
                _log.exception("scheduler.tick_failed")
                due = []
            for org_id in due:
                actors.sync_org.send(org_id)
                _log.info("scheduler.queued", org=org_id)
            for org_id, reason in timetable.invalid.items():
                if reported.get(org_id) != reason:
                    _log.warning("scheduler.bad_schedule", org=org_id, reason=reason)
            reported = dict(timetable.invalid)
            wait_s = tick_s
            following = timetable.next_due()
            if following is not None:
                wait_s = min(tick_s, max(0.0, (following - datetime.now(UTC)).total_seconds()) + 0.01)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait_s)


@cli.command()
@click.option("--now", "run_now", is_flag=True, help="Also queue a sync of every org at start.")
@click.option("--tick-s", type=click.FloatRange(0.05, 300), default=30.0, show_default=True,
              help="How often schedules are read again.")  # fmt: skip
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=SCHEDULER_METRICS_PORT,
              show_default=True, help="Port of /metrics (on XSELL_API_HOST); 0: none.")  # fmt: skip
def scheduler(run_now: bool, tick_s: float, metrics_port: int) -> None:
    """Queue each org's sync on its own cron schedule (UTC) until stopped. Run exactly one.

    An org's schedule is set with `xsell orgs add --schedule` or `xsell orgs schedule`; orgs without one
    follow XSELL_SYNC_SCHEDULE. A schedule missed while the scheduler was down runs once when it is back.
    """
    settings = load_settings()
    with services(settings) as resolved:
        migrated(resolved)
        actors = build_actors(resolved, runner=False)
        serve_metrics(resolved.api_host, metrics_port, queue_depth(resolved, actors.sync_org.broker))
        if run_now:
            actors.sync_all.send()
        click.echo(
            f"xsell scheduler: each org on its own schedule, by default '{settings.sync_schedule}' (UTC)",
            err=True,
        )
        assert resolved.database_url is not None
        relay = OutboxRelayThread(resolved.database_url, actors.sync_org.broker, RELAY_INTERVAL_S)
        relay.start()
        try:
            asyncio.run(_schedule(resolved, actors, tick_s))
        finally:
            relay.stop()
