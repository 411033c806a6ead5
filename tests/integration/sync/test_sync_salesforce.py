"""The sync against the fake Salesforce over real HTTP through simple-salesforce, into real PostgreSQL:
full and incremental syncs equal the org's data; faults end complete or in a clean, reported pause."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from tests.integration.fault_report import FaultRecord
from tests.integration.sync.sync_support import assert_in_step, harness

from application.sync import SyncOptions
from domain.sync import SyncRunStatus
from simulators.salesforce import FakeSalesforceServer, ServerSettings
from simulators.salesforce.generator import GroupSpec, MemorySink, generate_company_group


@pytest.fixture
def server() -> Iterator[FakeSalesforceServer]:
    sink = MemorySink()
    generate_company_group(GroupSpec(orgs=2, accounts=160, seed=11), sink)
    with FakeSalesforceServer(sink.orgs(), ServerSettings(page_size=50, admin=True)) as running:
        yield running


async def test_full_then_incremental_sync_equal_the_org(
    server: FakeSalesforceServer, database_url: str
) -> None:
    async with harness(server, database_url) as h:
        await h.add("bu1")
        report = await h.sync_org().execute("bu1")
        assert report.status is SyncRunStatus.COMPLETED, report.reason
        assert report.mismatches == {}
        assert report.counts["Account"]["upserted"] > 50  # more than one page
        await assert_in_step(h, "bu1")

        org = server.org("bu1")
        admin = org.users[0].id
        with server.lock:
            accounts = org.data.tables["Account"]
            first, second = accounts.rows[0][0], accounts.rows[1][0]
            new_id = org.data.insert("Account", {"Name": "Brand New Ltd"}, user_id=admin)
            org.data.update("Account", first, {"Name": "Renamed Inc"}, user_id=admin)
            org.data.delete("Account", second, user_id=admin)
            contact = org.data.tables["Contact"].rows[0][0]
            org.data.delete("Contact", contact, user_id=admin)
        report = await h.sync_org().execute("bu1")
        assert report.status is SyncRunStatus.COMPLETED
        assert report.counts["Account"]["deleted"] >= 1
        await assert_in_step(h, "bu1")
        assert await h.scalar("SELECT name FROM accounts WHERE external_id = :i", i=new_id) == "Brand New Ltd"
        assert await h.scalar("SELECT is_deleted FROM accounts WHERE external_id = :i", i=second) is True
        runs = await h.scalar("SELECT count(*) FROM sync_runs WHERE org_id = 'bu1' AND status = 'completed'")
        assert runs == 2
        reconciled = await h.scalar("SELECT count(*) FROM sync_reconciliations WHERE xsell_count = crm_count")
        assert reconciled == 16


async def test_bulk_first_load_then_rest_increments(server: FakeSalesforceServer, database_url: str) -> None:
    async with harness(server, database_url) as h:
        await h.add("bu2", flow="jwt")
        report = await h.sync_org(SyncOptions(bulk_threshold=20)).execute("bu2")
        assert report.status is SyncRunStatus.COMPLETED, report.reason
        await assert_in_step(h, "bu2")


async def test_shared_modstamps_and_late_records_lose_nothing(
    server: FakeSalesforceServer, database_url: str
) -> None:
    async with harness(server, database_url) as h:
        await h.add("bu1", flow="client_credentials")
        options = SyncOptions(lookback=timedelta(hours=2))
        assert (await h.sync_org(options).execute("bu1")).status is SyncRunStatus.COMPLETED
        with server.lock:
            server.org("bu1").apply_faults({"shared_modstamp": "Contact:120", "late_records": "Account:7"})
        assert (await h.sync_org(options).execute("bu1")).status is SyncRunStatus.COMPLETED
        assert (await h.sync_org(options).execute("bu1")).status is SyncRunStatus.COMPLETED
        await assert_in_step(h, "bu1")


async def test_token_expiry_errors_and_resets_end_complete(
    server: FakeSalesforceServer, database_url: str, fault_report: FaultRecord
) -> None:
    async with harness(server, database_url) as h:
        await h.add("bu1")
        with server.lock:
            server.org("bu1").apply_faults(
                {"expire_tokens_once": True, "error_rate": 0.1, "reset_rate": 0.05}
            )
        report = await h.sync_org().execute("bu1")
        with server.lock:
            server.org("bu1").clear_faults()
            fault_report.injected = server.org("bu1").faults_injected
        assert report.status is SyncRunStatus.COMPLETED, report.reason
        assert fault_report.injected >= 3, "the fake server injected expiry, errors and resets"
        await assert_in_step(h, "bu1")
        fault_report.survived = fault_report.injected


async def test_a_field_hidden_mid_sync_is_dropped_and_the_sync_completes(
    server: FakeSalesforceServer, database_url: str
) -> None:
    async with harness(server, database_url) as h:
        await h.add("bu1")
        with server.lock:
            server.org("bu1").apply_faults({"hide_field": "Contact.Title@12"})
        report = await h.sync_org().execute("bu1")
        assert report.status is SyncRunStatus.COMPLETED, report.reason
        assert any(error.get("code") == "INVALID_FIELD" for error in report.errors)
        await assert_in_step(h, "bu1")


async def test_budget_share_pauses_then_resumes(server: FakeSalesforceServer, database_url: str) -> None:
    async with harness(server, database_url) as h:
        await h.add("bu1")
        with server.lock:
            org = server.org("bu1")
            org.api_used, org.api_max = 0, 30
        report = await h.sync_org(SyncOptions(budget_share=0.5)).execute("bu1")
        assert report.status is SyncRunStatus.PAUSED and report.reason == "api budget"
        assert await h.scalar("SELECT sync_state FROM orgs WHERE id = 'bu1'") == "paused"
        with server.lock:
            org.api_used, org.api_max = 0, 100_000
        report = await h.sync_org().execute("bu1")
        assert report.status is SyncRunStatus.COMPLETED
        await assert_in_step(h, "bu1")


async def test_exhausted_limit_parks_the_org(server: FakeSalesforceServer, database_url: str) -> None:
    async with harness(server, database_url) as h:
        await h.add("bu2")
        with server.lock:
            server.org("bu2").apply_faults({"exhaust_daily_limit": True})
        report = await h.sync_org().execute("bu2")
        assert report.status is SyncRunStatus.PARKED
        assert await h.scalar("SELECT sync_state FROM orgs WHERE id = 'bu2'") == "parked"


async def test_query_timeouts_halve_the_window_until_the_queries_pass(
    server: FakeSalesforceServer, database_url: str
) -> None:
    async with harness(server, database_url) as h:
        await h.add("bu1")
        with server.lock:
            # Every query over more than 400 days of SystemModstamp (and every open-ended one) times out.
            server.org("bu1").apply_faults({"query_timeout_days": 400})
        report = await h.sync_org(SyncOptions(bulk_threshold=10**9)).execute("bu1")
        assert report.status is SyncRunStatus.COMPLETED, report.reason
        await assert_in_step(h, "bu1")


async def test_an_expired_query_locator_restarts_the_query_from_the_cursor(
    server: FakeSalesforceServer, database_url: str
) -> None:
    async with harness(server, database_url) as h:
        await h.add("bu1")
        with server.lock:
            # The next two queryMore calls find their cursor gone, as after 15 idle minutes.
            server.org("bu1").apply_faults({"expire_locators": 2})
        report = await h.sync_org(SyncOptions(bulk_threshold=10**9)).execute("bu1")
        assert report.status is SyncRunStatus.COMPLETED, report.reason
        restarted = [error for error in report.errors if error.get("code") == "INVALID_QUERY_LOCATOR"]
        assert len(restarted) == 2
        await assert_in_step(h, "bu1")


async def test_a_query_locator_that_keeps_expiring_fails_the_run_as_transient(
    server: FakeSalesforceServer, database_url: str
) -> None:
    async with harness(server, database_url) as h:
        await h.add("bu1")
        with server.lock:
            server.org("bu1").apply_faults({"expire_locators": 1000})
        report = await h.sync_org(SyncOptions(bulk_threshold=10**9)).execute("bu1")
        assert report.status is SyncRunStatus.FAILED
        assert (report.reason or "").startswith("transient: INVALID_QUERY_LOCATOR")
        assert await h.scalar("SELECT sync_state FROM orgs WHERE id = 'bu1'") != "attention"
