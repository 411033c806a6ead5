"""Wiring of jobs: their unit of work, the outbox relay on a sending-only broker, and the use cases."""

from __future__ import annotations

from collections.abc import Iterator

import dramatiq
from dishka import Provider, Scope, provide
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.persistence.job_unit_of_work import SqlaJobUnitOfWork
from adapters.tasks.actors import create_broker, declare_sync_actors
from adapters.tasks.model_actors import declare_model_actors
from adapters.tasks.outbox_relay import DramatiqOutboxRelay
from application.jobs import JobUnitOfWork, ListJobs, RequestJob, RunJob, ShowJob
from application.ports import Clock, CrmGatewayFactory, SecretBox, TaskQueue
from application.ports.sync import SyncUnitOfWork
from application.sync.runs import ListSyncRuns, ReconcileOrg
from entrypoints.settings import Settings

__all__ = ["JobProvider", "sending_broker"]

# An API request tries to send its job right after the commit; a Redis that does not answer within this
# only delays the job (the relays send it), never the answer for long.
_SEND_TIMEOUT_S = 2.0


def sending_broker(settings: Settings) -> dramatiq.Broker:
    """A broker with every actor declared but none run here: what a process that only sends needs."""
    if settings.redis_url is None:
        raise RuntimeError("the container needs a resolved REDIS_URL (embedded services start first)")
    broker = create_broker(
        settings.redis_url, max_attempts=settings.worker_max_attempts, timeout_s=_SEND_TIMEOUT_S
    )
    declare_sync_actors(broker, None)
    declare_model_actors(broker, None)
    return broker


class JobProvider(Provider):
    @provide(scope=Scope.APP)
    def broker(self, settings: Settings) -> Iterator[dramatiq.Broker]:
        broker = sending_broker(settings)
        yield broker
        broker.close()

    @provide(scope=Scope.APP)
    def task_queue(self, sessions: async_sessionmaker[AsyncSession], broker: dramatiq.Broker) -> TaskQueue:
        return DramatiqOutboxRelay(sessions, broker)

    @provide(scope=Scope.REQUEST)
    def job_unit_of_work(self, session: AsyncSession) -> JobUnitOfWork:
        return SqlaJobUnitOfWork(session)

    @provide(scope=Scope.REQUEST)
    def request_job(self, uow: JobUnitOfWork, queue: TaskQueue, clock: Clock) -> RequestJob:
        return RequestJob(uow, queue, clock)

    @provide(scope=Scope.REQUEST)
    def run_job(self, uow: JobUnitOfWork, clock: Clock) -> RunJob:
        return RunJob(uow, clock)

    show_job = provide(ShowJob, scope=Scope.REQUEST)
    list_jobs = provide(ListJobs, scope=Scope.REQUEST)

    @provide(scope=Scope.REQUEST)
    def list_sync_runs(self, uow: SyncUnitOfWork) -> ListSyncRuns:
        return ListSyncRuns(uow)

    @provide(scope=Scope.REQUEST)
    def reconcile_org(
        self, uow: SyncUnitOfWork, gateways: CrmGatewayFactory, box: SecretBox, clock: Clock
    ) -> ReconcileOrg:
        return ReconcileOrg(uow, gateways, box, clock)
