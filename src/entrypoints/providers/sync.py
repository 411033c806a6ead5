"""Wiring of the sync and org administration: secret box, thread pool, CRM gateways, use cases."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from dishka import Provider, Scope, provide
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.crm.factory import ConfiguredCrmGatewayFactory
from adapters.persistence.sync_unit_of_work import SqlaSyncUnitOfWork
from adapters.scheduling.cron import ApschedulerCronCalendar
from adapters.security.secret_box import AesGcmSecretBox, generate_key
from application.orgs import AddOrg, ListOrgs, RemoveOrg, RotateOrgSecrets, ScheduleOrg, ShowOrg, TestOrg
from application.ports import Clock, CrmGatewayFactory, SecretBox
from application.ports.metrics import SyncMetrics
from application.ports.schedule import CronCalendar
from application.ports.sync import SyncUnitOfWork
from application.sync import DueSyncs, SyncOptions, SyncOrg
from entrypoints.providers.keys import kept_keys
from entrypoints.settings import Settings
from simulators.salesforce import FakeSalesforceAdapter

__all__ = ["SyncProvider", "resolve_secret_keys"]

KEY_FILE = "secret.keys"


def resolve_secret_keys(settings: Settings) -> list[str]:
    """XSELL_SECRET_KEYS, or the key kept in XSELL_DATA_DIR/secret.keys (created 0600 on first use)."""
    if settings.secret_keys:
        return list(settings.secret_keys)
    return kept_keys(Path(settings.data_dir) / KEY_FILE, generate_key)


def sync_options(settings: Settings) -> SyncOptions:
    return SyncOptions(
        budget_share=settings.sync_budget_share,
        lookback=timedelta(seconds=settings.sync_lookback_s),
        bulk_threshold=settings.sync_bulk_threshold,
    )


class SyncProvider(Provider):
    @provide(scope=Scope.APP)
    def secret_box(self, settings: Settings) -> SecretBox:
        return AesGcmSecretBox(resolve_secret_keys(settings))

    @provide(scope=Scope.APP)
    def pool(self, settings: Settings) -> Iterator[ThreadPoolExecutor]:
        pool = ThreadPoolExecutor(max_workers=settings.sync_threads, thread_name_prefix="salesforce")
        yield pool
        pool.shutdown(wait=False, cancel_futures=True)

    @provide(scope=Scope.APP)
    def gateways(self, settings: Settings, pool: ThreadPoolExecutor) -> CrmGatewayFactory:
        host_map = dict(settings.salesforce_host_map or ())
        return ConfiguredCrmGatewayFactory(
            pool,
            concurrency=settings.sync_org_concurrency,
            timeout_s=settings.sync_timeout_s,
            transport=(lambda: FakeSalesforceAdapter(host_map)) if host_map else None,
        )

    @provide(scope=Scope.APP)
    def options(self, settings: Settings) -> SyncOptions:
        return sync_options(settings)

    @provide(scope=Scope.REQUEST)
    def sync_unit_of_work(self, session: AsyncSession) -> SyncUnitOfWork:
        return SqlaSyncUnitOfWork(session)

    @provide(scope=Scope.REQUEST)
    def sync_org(
        self,
        uow: SyncUnitOfWork,
        gateways: CrmGatewayFactory,
        box: SecretBox,
        clock: Clock,
        options: SyncOptions,
        metrics: SyncMetrics,
    ) -> SyncOrg:
        return SyncOrg(uow, gateways, box, clock, options, metrics=metrics)

    @provide(scope=Scope.REQUEST)
    def add_org(self, uow: SyncUnitOfWork, box: SecretBox, clock: Clock) -> AddOrg:
        return AddOrg(uow, box, clock)

    @provide(scope=Scope.APP)
    def calendar(self) -> CronCalendar:
        return ApschedulerCronCalendar()

    @provide(scope=Scope.REQUEST)
    def schedule_org(self, uow: SyncUnitOfWork, calendar: CronCalendar) -> ScheduleOrg:
        return ScheduleOrg(uow, calendar)

    @provide(scope=Scope.REQUEST)
    def due_syncs(self, uow: SyncUnitOfWork, clock: Clock) -> DueSyncs:
        return DueSyncs(uow, clock)

    @provide(scope=Scope.REQUEST)
    def list_orgs(self, uow: SyncUnitOfWork) -> ListOrgs:
        return ListOrgs(uow)

    @provide(scope=Scope.REQUEST)
    def show_org(self, uow: SyncUnitOfWork) -> ShowOrg:
        return ShowOrg(uow)

    @provide(scope=Scope.REQUEST)
    def remove_org(self, uow: SyncUnitOfWork) -> RemoveOrg:
        return RemoveOrg(uow)

    @provide(scope=Scope.REQUEST)
    def test_org(self, uow: SyncUnitOfWork, gateways: CrmGatewayFactory, box: SecretBox) -> TestOrg:
        return TestOrg(uow, gateways, box)

    @provide(scope=Scope.REQUEST)
    def rotate_secrets(self, uow: SyncUnitOfWork, box: SecretBox, clock: Clock) -> RotateOrgSecrets:
        return RotateOrgSecrets(uow, box, clock)
