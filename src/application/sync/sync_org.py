"""SyncOrg: bring one org's records up to date, page by page, within its API budget, and record the run."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from application.ports.clock import Clock
from application.ports.crm import (
    CrmAuthError,
    CrmGateway,
    CrmGatewayFactory,
    CrmInvalidFieldError,
    CrmLimitExceededError,
    CrmQueryExpiredError,
    CrmRecordPage,
    CrmRequestError,
    CrmTransientError,
    ObjectSchema,
    OrgCredentials,
)
from application.ports.metrics import NoMetrics, SyncMetrics
from application.ports.secret_box import SecretBox
from application.ports.sync import OrgStatus, PageSummary, SyncRun, SyncUnitOfWork
from application.sync.credentials import open_credentials
from domain.errors import NotFoundError
from domain.org import Org
from domain.sync import SYNC_OBJECTS, OrgSyncState, SyncRunStatus

__all__ = ["SyncOptions", "SyncOrg", "SyncProgress", "SyncReport"]

# Called with (object, records upserted so far, deleted so far) after every committed page.
SyncProgress = Callable[[str, int, int], None]
# Called at each crash point of a page: before_fetch, after_fetch, mid_upsert, after_upsert, after_cursor.
SyncCheckpoint = Callable[[str], None]
# Restarts of one object's query after its server-side cursor expired, before the run gives up (transient).
_QUERY_RESTARTS = 3


@dataclass(frozen=True)
class SyncOptions:
    budget_share: float = 0.8
    lookback: timedelta = timedelta(minutes=15)
    bulk_threshold: int = 10_000
    objects: Sequence[str] = SYNC_OBJECTS
    reconcile: bool = True


@dataclass
class SyncReport:
    run_id: uuid.UUID
    org_id: str
    status: SyncRunStatus
    reason: str | None
    counts: dict[str, dict[str, int]]
    errors: list[dict[str, str]]
    mismatches: dict[str, tuple[int, int]] = field(default_factory=dict)  # object -> (xsell, crm)


class _BudgetReachedError(Exception):
    """Internal: the org used its share of today's API budget."""


class SyncOrg:
    """One run for one org: every object in order, each page's upserts and cursor in one transaction.

    Ends `completed`, `paused` (API budget share reached; the next run resumes from the cursors),
    `parked` (REQUEST_LIMIT_EXCEEDED), or `failed` (transient errors that outlasted the retries, or a
    permanent error, which also marks the org as needing attention).
    """

    def __init__(
        self,
        uow: SyncUnitOfWork,
        gateways: CrmGatewayFactory,
        secret_box: SecretBox,
        clock: Clock,
        options: SyncOptions | None = None,
        checkpoint: SyncCheckpoint | None = None,
        metrics: SyncMetrics | None = None,
    ) -> None:
        self._uow = uow
        self._metrics: SyncMetrics = metrics or NoMetrics()
        self._gateways = gateways
        self._box = secret_box
        self._clock = clock
        self._options = options or SyncOptions()
        self._checkpoint = checkpoint

    async def execute(
        self, org_id: str, *, full: bool = False, trigger: str = "cli", progress: SyncProgress | None = None
    ) -> SyncReport:
        """Raises NotFoundError for an unknown org; every CRM failure ends in the returned report."""
        async with self._uow as uow:
            org = await uow.orgs.get(org_id)
            if org is None:
                raise NotFoundError(f"no org {org_id!r}")
            credentials = await self._credentials(org)
            run = SyncRun(uuid.uuid4(), org.id, trigger, full, self._clock.now())
            await uow.runs.add(run)
            await uow.org_status.set(org.id, OrgStatus(OrgSyncState.RUNNING))
            if full:
                await uow.cursors.reset(org.id)
            await uow.commit()
            gateway = self._gateways.open(org.kind.value, org.instance_url, credentials)
            state = OrgSyncState.IDLE
            report = SyncReport(run.id, org.id, SyncRunStatus.COMPLETED, None, run.counts, run.errors)
            try:
                try:
                    await self._sync_objects(org, gateway, run, progress)
                    if self._options.reconcile:
                        report.mismatches = await self._reconcile(org, gateway, run)
                except _BudgetReachedError:
                    run.status, run.status_reason = SyncRunStatus.PAUSED, "api budget"
                    state = OrgSyncState.PAUSED
                except CrmLimitExceededError as error:
                    run.status, run.status_reason = SyncRunStatus.PARKED, f"api limit exceeded: {error}"
                    state = OrgSyncState.PARKED
                except (CrmAuthError, CrmRequestError) as error:
                    run.status, run.status_reason = SyncRunStatus.FAILED, str(error)
                    state = OrgSyncState.ATTENTION
                except CrmTransientError as error:
                    run.status, run.status_reason = SyncRunStatus.FAILED, f"transient: {error}"
                usage = gateway.api_usage()
            finally:
                await gateway.close()
                await uow.rollback()  # whatever a failed page left uncommitted
            if run.status is SyncRunStatus.RUNNING:
                run.status = SyncRunStatus.COMPLETED
            if run.status is not SyncRunStatus.COMPLETED:
                run.errors.append({"code": run.status.value, "message": run.status_reason or ""})
            run.finished_at = self._clock.now()
            run.usage = usage
            await uow.runs.update(run)
            await uow.org_status.set(org.id, OrgStatus(state, run.status_reason, usage))
            await uow.commit()
            report.status, report.reason = run.status, run.status_reason
            self._metrics.run_finished(org.id, run.status.value)
            if usage is not None:
                self._metrics.api_budget_used(org.id, min(1.0, usage.share()))
            return report

    async def _credentials(self, org: Org) -> OrgCredentials:
        sealed = await self._uow.credentials.get(org.id)
        if sealed is None:
            return OrgCredentials(flow=org.kind.value)
        return open_credentials(self._box, sealed)

    def _check(self, point: str) -> None:
        if self._checkpoint is not None:
            self._checkpoint(point)

    def _over_budget(self, gateway: CrmGateway, org_id: str) -> bool:
        usage = gateway.api_usage()
        if usage is not None:
            self._metrics.api_budget_used(org_id, min(1.0, usage.share()))
        return usage is not None and usage.reached(self._options.budget_share)

    async def _sync_objects(
        self, org: Org, gateway: CrmGateway, run: SyncRun, progress: SyncProgress | None
    ) -> None:
        # No upper bound: the cursor is the newest stamp actually read, and a record committed during the
        # run with an earlier stamp is caught by the lookback (a stamp can never lie in the future in
        # Salesforce, but a replayed export can, and bounding by our clock would hide those rows).
        until = None
        for sobject in self._options.objects:
            if self._over_budget(gateway, org.id):
                raise _BudgetReachedError
            counts = run.counts.setdefault(sobject, {"upserted": 0, "deleted": 0})
            schema = await gateway.describe(sobject)
            described_again, restarts = False, 0
            while True:
                try:
                    await self._sync_object(org, gateway, schema, until, counts, progress)
                    break
                except CrmInvalidFieldError:
                    if described_again:
                        raise
                    # A field was hidden mid-run: describe again and carry on from the committed cursor.
                    run.errors.append({"object": sobject, "code": "INVALID_FIELD", "message": "re-described"})
                    await self._uow.rollback()
                    schema, described_again = await gateway.describe(sobject), True
                except CrmQueryExpiredError:
                    # The query's cursor expired between pages (idle too long, or evicted): the pages
                    # committed so far stand, so ask again from the committed cursor.
                    restarts += 1
                    if restarts > _QUERY_RESTARTS:
                        raise
                    run.errors.append(
                        {"object": sobject, "code": "INVALID_QUERY_LOCATOR", "message": "query restarted"}
                    )
                    await self._uow.rollback()

    async def _sync_object(
        self,
        org: Org,
        gateway: CrmGateway,
        schema: ObjectSchema,
        until: datetime | None,
        counts: dict[str, int],
        progress: SyncProgress | None,
    ) -> None:
        uow = self._uow
        stored = await uow.cursors.get(org.id, schema.name)
        since = None
        if stored is not None and not set(schema.fields) - set(stored.fields):
            since = stored.cursor.query_from(self._options.lookback)
        # A field that became visible since the last run needs every record read again.
        bulk = since is None and await gateway.count(schema.name) >= self._options.bulk_threshold
        pages = gateway.changes(schema, since, until, bulk=bulk).__aiter__()
        fields = sorted(schema.fields)
        while True:
            self._check("before_fetch")
            try:
                page = await anext(pages)
            except StopAsyncIteration:
                break
            self._check("after_fetch")
            written = await self._upsert(org, schema.name, page)
            if written.last is None:
                continue  # an empty page
            await uow.cursors.advance(org.id, schema.name, written.last, fields)
            self._check("after_upsert")
            await uow.commit()
            self._check("after_cursor")
            counts["deleted"] += written.deleted
            counts["upserted"] += written.count - written.deleted
            self._metrics.records_synced(org.id, schema.name, written.count)
            if progress is not None:
                progress(schema.name, counts["upserted"], counts["deleted"])
            if self._over_budget(gateway, org.id):
                raise _BudgetReachedError

    async def _upsert(self, org: Org, sobject: str, page: CrmRecordPage) -> PageSummary:
        if self._checkpoint is None:
            return await self._uow.records.upsert(org.id, sobject, page, org.currency)
        # Observed runs write a page in two statements, so a crash test can stop between them.
        records = page.columns
        half = len(records) // 2
        first = CrmRecordPage(columns=records.slice(0, half))
        written = await self._uow.records.upsert(org.id, sobject, first, org.currency)
        self._check("mid_upsert")
        rest = CrmRecordPage(columns=records.slice(half, len(records)))
        return written + await self._uow.records.upsert(org.id, sobject, rest, org.currency)

    async def _reconcile(self, org: Org, gateway: CrmGateway, run: SyncRun) -> dict[str, tuple[int, int]]:
        """Compare xsell's live counts with SELECT COUNT() in the org; mismatches are reported."""
        mismatches: dict[str, tuple[int, int]] = {}
        for sobject in self._options.objects:
            if self._over_budget(gateway, org.id):
                break
            crm_count = await gateway.count(sobject)
            xsell_count = await self._uow.records.count_live(org.id, sobject)
            await self._uow.runs.add_reconciliation(
                run.id, sobject, xsell_count, crm_count, self._clock.now()
            )
            if crm_count != xsell_count:
                mismatches[sobject] = (xsell_count, crm_count)
        await self._uow.commit()
        return mismatches
