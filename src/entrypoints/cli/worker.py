"""`xsell worker` (Dramatiq sync worker) and `xsell scheduler` (queues a sync of every org on a cron)."""

from __future__ import annotations

import signal
import threading
from typing import Any

import click
import dramatiq
from redis import Redis

from adapters.tasks.actors import SyncActors, TransientSyncError, create_broker, declare_sync_actors
from adapters.tasks.model_actors import declare_model_actors
from adapters.tasks.quarantine import quarantined
from application.models.ports import TRAINING_PROFILES
from application.models.scoring import ScoreCustomers
from application.models.train import TrainModel
from application.orgs import ListOrgs
from application.sync import SyncOrg
from domain.sync import OrgSyncState, SyncRunStatus
from entrypoints.cli.app import cli
from entrypoints.cli.runtime import load_settings, migrated, services
from entrypoints.container import make_container
from entrypoints.settings import Settings

__all__ = ["ContainerSyncRunner", "scheduler", "worker"]


class ContainerSyncRunner:
    """Runs the sync use case from a worker; the container is built on the worker's event-loop thread."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._container: Any = None

    def _get(self) -> Any:
        if self._container is None:
            self._container = make_container(self._settings)
        return self._container

    async def sync_org(self, org_id: str, full: bool) -> None:
        async with self._get()() as request:
            use_case: SyncOrg = await request.get(SyncOrg)
            report = await use_case.execute(org_id, full=full, trigger="schedule")
        if report.status is SyncRunStatus.FAILED and (report.reason or "").startswith("transient"):
            raise TransientSyncError(report.reason)

    async def org_ids(self) -> list[str]:
        async with self._get()() as request:
            summaries = await (await request.get(ListOrgs)).execute()
        return [s.org.id for s in summaries if s.status.state is not OrgSyncState.ATTENTION]


class ContainerModelRunner:
    """Trains and scores from a worker, on the worker's event-loop thread like the sync runner."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._container: Any = None

    def _get(self) -> Any:
        if self._container is None:
            self._container = make_container(self._settings)
        return self._container

    async def train(self, profile: str, requested_by: str) -> None:
        async with self._get()() as request:
            use_case: TrainModel = await request.get(TrainModel)
            await use_case.execute(
                by=requested_by,
                horizon_days=self._settings.model_horizon_days,
                budget=TRAINING_PROFILES.get(profile, TRAINING_PROFILES["standard"]),
            )

    async def score(self) -> None:
        async with self._get()() as request:
            use_case: ScoreCustomers = await request.get(ScoreCustomers)
            await use_case.execute()


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
def worker(threads: int, heartbeat_s: float, maintenance_chance: int | None, show_quarantined: bool) -> None:
    """Run background jobs from the Redis queues until stopped (Ctrl-C or SIGTERM).

    Start as many workers as you like; a job syncs one org, trains a model or scores every customer.
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
        migrated(resolved)
        actors = build_actors(
            resolved, runner=True, heartbeat_s=heartbeat_s, maintenance_chance=maintenance_chance
        )
        consumer = dramatiq.Worker(actors.sync_org.broker, worker_threads=threads)
        consumer.start()
        click.echo(f"xsell worker running ({threads} threads); Ctrl-C to stop", err=True)
        try:
            _wait_for_signal()
        finally:
            consumer.stop()


@cli.command()
@click.option("--now", "run_now", is_flag=True, help="Also queue a sync of every org at start.")
def scheduler(run_now: bool) -> None:
    """Queue a sync of every org on XSELL_SYNC_SCHEDULE (cron) until stopped. Run exactly one."""
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger

    settings = load_settings()
    try:
        trigger = CronTrigger.from_crontab(settings.sync_schedule, timezone="UTC")
    except ValueError as error:
        raise click.ClickException(f"XSELL_SYNC_SCHEDULE: {error}") from None
    with services(settings) as resolved:
        actors = build_actors(resolved, runner=False)
        if run_now:
            actors.sync_all.send()
        timer = BlockingScheduler(timezone="UTC")
        # coalesce + one instance: after downtime, one catch-up run instead of a burst.
        timer.add_job(actors.sync_all.send, trigger, coalesce=True, max_instances=1, misfire_grace_time=300)
        click.echo(f"xsell scheduler: syncing every org on '{settings.sync_schedule}' (UTC)", err=True)
        try:
            timer.start()
        except (KeyboardInterrupt, SystemExit):
            timer.shutdown(wait=False)
