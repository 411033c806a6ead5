"""SyncOrg on fakes: pages commit with their cursor, replays change nothing, errors end in the right state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.fakes import FakeClock, FakeCrmGateway, FakeCrmGatewayFactory, FakeSecretBox, FakeSyncUnitOfWork

from application.orgs import AddOrg, RotateOrgSecrets
from application.ports.crm import CrmAuthError, CrmLimitExceededError, CrmTransientError, OrgCredentials
from application.sync import SyncOptions, SyncOrg
from domain.errors import NotFoundError
from domain.org import Org, OrgKind
from domain.sync import OrgSyncState, SyncRunStatus

T0 = datetime(2026, 1, 1, tzinfo=UTC)
OPTIONS = SyncOptions(objects=("Account", "Contact"), lookback=timedelta(seconds=30))


def _org() -> Org:
    return Org("emea", "EMEA", OrgKind.MEMORY, "EMEA", "EUR", instance_url="memory://emea")


def _gateway(accounts: int = 5, api_max: int | None = None) -> FakeCrmGateway:
    gateway = FakeCrmGateway(page_size=2, api_max=api_max)
    for n in range(accounts):
        gateway.put("Account", {"Id": f"001A0000000000{n}", "Name": f"Acme {n}"}, T0 + timedelta(minutes=n))
    gateway.put("Contact", {"Id": "003A00000000001", "LastName": "Ng", "AccountId": "001A00000000000"}, T0)
    return gateway


def _sync(uow: FakeSyncUnitOfWork, gateway: FakeCrmGateway, options: SyncOptions = OPTIONS) -> SyncOrg:
    return SyncOrg(uow, FakeCrmGatewayFactory(gateway), FakeSecretBox(), FakeClock(), options)


def _live(uow: FakeSyncUnitOfWork, sobject: str) -> dict[str, str | None]:
    return {
        key[2]: str(record.values.get("Name"))
        for key, record in uow.committed["records"].items()
        if key[1] == sobject and not record.is_deleted
    }


async def test_a_full_sync_copies_every_record_and_moves_the_cursor_to_the_last() -> None:
    uow, gateway = FakeSyncUnitOfWork([_org()]), _gateway()
    report = await _sync(uow, gateway).execute("emea")
    assert report.status is SyncRunStatus.COMPLETED
    assert len(_live(uow, "Account")) == 5
    cursor = uow.committed["cursors"][("emea", "Account")].cursor
    assert cursor.modstamp == T0 + timedelta(minutes=4)
    assert report.counts["Account"] == {"upserted": 5, "deleted": 0}
    assert uow.committed["status"]["emea"].state is OrgSyncState.IDLE


async def test_an_incremental_sync_reads_only_changes_and_deletes_propagate() -> None:
    uow, gateway = FakeSyncUnitOfWork([_org()]), _gateway()
    await _sync(uow, gateway).execute("emea")
    gateway.put("Account", {"Id": "001A00000000001", "Name": "Renamed"}, T0 + timedelta(hours=1))
    gateway.delete("Account", "001A00000000002", T0 + timedelta(hours=1))
    report = await _sync(uow, gateway).execute("emea")
    # The record at the cursor is read again (>= with a lookback), idempotently.
    assert report.counts["Account"] == {"upserted": 2, "deleted": 1}
    live = _live(uow, "Account")
    assert live["001A00000000001IAA"] == "Renamed" and "001A00000000002IAA" not in live


async def test_a_failed_page_commits_nothing_of_itself_and_the_rerun_completes() -> None:
    uow, gateway = FakeSyncUnitOfWork([_org()]), _gateway()
    sync = _sync(uow, gateway)
    gateway.failures.append(CrmTransientError("503 SERVER_UNAVAILABLE"))
    report = await sync.execute("emea")
    assert report.status is SyncRunStatus.FAILED and report.reason and report.reason.startswith("transient")
    assert _live(uow, "Account") == {}
    report = await _sync(uow, gateway).execute("emea")
    assert report.status is SyncRunStatus.COMPLETED and len(_live(uow, "Account")) == 5


async def test_limit_exceeded_parks_and_auth_errors_need_attention() -> None:
    uow, gateway = FakeSyncUnitOfWork([_org()]), _gateway()
    gateway.failures.append(CrmLimitExceededError("REQUEST_LIMIT_EXCEEDED"))
    assert (await _sync(uow, gateway).execute("emea")).status is SyncRunStatus.PARKED
    assert uow.committed["status"]["emea"].state is OrgSyncState.PARKED
    gateway.failures.append(CrmAuthError("invalid_grant"))
    assert (await _sync(uow, gateway).execute("emea")).status is SyncRunStatus.FAILED
    assert uow.committed["status"]["emea"].state is OrgSyncState.ATTENTION


async def test_the_budget_share_pauses_the_sync_and_the_next_run_resumes() -> None:
    uow, gateway = FakeSyncUnitOfWork([_org()]), _gateway(accounts=9, api_max=10)
    report = await _sync(uow, gateway, SyncOptions(objects=("Account",), budget_share=0.5)).execute("emea")
    assert report.status is SyncRunStatus.PAUSED and report.reason == "api budget"
    assert 0 < len(_live(uow, "Account")) < 9
    gateway.api_max = 1000
    report = await _sync(uow, gateway, SyncOptions(objects=("Account",))).execute("emea")
    assert report.status is SyncRunStatus.COMPLETED and len(_live(uow, "Account")) == 9


async def test_an_unknown_org_is_not_found() -> None:
    with pytest.raises(NotFoundError):
        await _sync(FakeSyncUnitOfWork(), _gateway()).execute("nope")


async def test_credentials_are_sealed_bound_to_the_org_and_opened_for_the_gateway() -> None:
    uow, gateway = FakeSyncUnitOfWork(), _gateway()
    secret = OrgCredentials("password", None, "u@x", "cid", {"password": "hunter22", "client_secret": "s3"})
    await AddOrg(uow, FakeSecretBox(), FakeClock()).execute(_org(), secret)
    sealed = uow.committed["credentials"]["emea"]
    assert b"emea" in sealed.sealed and sealed.username == "u@x"
    factory = FakeCrmGatewayFactory(gateway)
    await SyncOrg(uow, factory, FakeSecretBox(), FakeClock(), OPTIONS).execute("emea")
    assert factory.opened[0].secrets == {"password": "hunter22", "client_secret": "s3"}
    assert await RotateOrgSecrets(uow, FakeSecretBox(), FakeClock()).execute() == 1


class RecordingSyncMetrics:
    def __init__(self) -> None:
        self.records: dict[tuple[str, str], int] = {}
        self.runs: list[tuple[str, str]] = []
        self.budget: dict[str, float] = {}

    def records_synced(self, org_id: str, sobject: str, count: int) -> None:
        self.records[(org_id, sobject)] = self.records.get((org_id, sobject), 0) + count

    def run_finished(self, org_id: str, status: str) -> None:
        self.runs.append((org_id, status))

    def api_budget_used(self, org_id: str, share: float) -> None:
        self.budget[org_id] = share


async def test_a_sync_reports_records_runs_and_budget_to_its_metrics() -> None:
    uow, gateway = FakeSyncUnitOfWork([_org()]), _gateway(accounts=9, api_max=10)
    metrics = RecordingSyncMetrics()
    options = SyncOptions(objects=("Account",), budget_share=0.5)
    sync = SyncOrg(
        uow, FakeCrmGatewayFactory(gateway), FakeSecretBox(), FakeClock(), options, metrics=metrics
    )
    report = await sync.execute("emea")
    assert report.status is SyncRunStatus.PAUSED
    assert metrics.runs == [("emea", "paused")]
    assert metrics.records[("emea", "Account")] == report.counts["Account"]["upserted"]
    assert 0.5 <= metrics.budget["emea"] <= 1.0
