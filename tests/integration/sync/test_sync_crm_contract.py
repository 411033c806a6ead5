"""One contract for every CrmGateway adapter: Salesforce (fake server, real simple-salesforce), CSV exports
and in memory, all given the same generated org, must answer alike."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.integration.sync.sync_support import FAST_BACKOFF, credentials_for

from adapters.crm.csv_export import CsvCrmGateway
from adapters.crm.memory import InMemoryCrmGateway, MemoryTable
from adapters.crm.salesforce import SalesforceCrmGateway
from application.ports.crm import CrmGateway, CrmInvalidFieldError, CrmReadOnlyError, CrmRecord
from domain.ids import SalesforceId
from simulators.salesforce import FakeSalesforceAdapter, FakeSalesforceServer, ServerSettings
from simulators.salesforce.generator import CsvSink, GroupSpec, MemorySink, generate_company_group

SPEC = GroupSpec(orgs=1, accounts=60, seed=5)
OBJECTS = ("Account", "Contact", "Opportunity", "OpportunityLineItem", "Task", "Event", "Product2")


@pytest.fixture(scope="module")
def server() -> Iterator[FakeSalesforceServer]:
    sink = MemorySink()
    generate_company_group(SPEC, sink)
    with FakeSalesforceServer(sink.orgs(), ServerSettings(page_size=40)) as running:
        yield running


@pytest.fixture(scope="module")
def csv_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("csv-org")
    generate_company_group(SPEC, CsvSink(root))
    return root / "bu1"


def _memory(server: FakeSalesforceServer) -> InMemoryCrmGateway:
    org = server.org("bu1")
    tables = {}
    for name, table in org.data.tables.items():
        fields = {f.name: f.type for f in table.definition.fields}
        tables[name] = MemoryTable(fields, {row[0]: table.as_dict(row) for row in table.rows})
    return InMemoryCrmGateway(tables, page_size=40)


@pytest.fixture(params=["salesforce", "csv", "memory"])
async def gateway(
    request: pytest.FixtureRequest, server: FakeSalesforceServer, csv_folder: Path
) -> AsyncIterator[CrmGateway]:
    pool = ThreadPoolExecutor(max_workers=2)
    adapters: dict[str, CrmGateway] = {
        "salesforce": SalesforceCrmGateway(
            credentials_for(server.org("bu1")),
            pool,
            timeout_s=10,
            backoff=FAST_BACKOFF,
            mount=FakeSalesforceAdapter(server.host_map()),
            bulk_poll_s=0.05,
            bulk_page_size=70,
        ),
        "csv": CsvCrmGateway(csv_folder, page_size=40),
        "memory": _memory(server),
    }
    yield adapters[request.param]
    await adapters[request.param].close()
    pool.shutdown(wait=False)


async def _all(gateway: CrmGateway, sobject: str, **kwargs: object) -> list[CrmRecord]:
    schema = await gateway.describe(sobject)
    records: list[CrmRecord] = []
    async for page in gateway.changes(schema, **kwargs):  # type: ignore[arg-type]
        records += page.records
    return records


@pytest.fixture(scope="module")
def reference(server: FakeSalesforceServer) -> dict[str, dict[str, CrmRecord]]:
    """What the in-memory adapter reads: the other adapters must read the same."""
    import asyncio

    async def read() -> dict[str, dict[str, CrmRecord]]:
        memory = _memory(server)
        return {name: {r.id: r for r in await _all(memory, name, since=None)} for name in OBJECTS}

    return asyncio.run(read())


async def test_describe_lists_readable_fields_with_types(gateway: CrmGateway) -> None:
    schema = await gateway.describe("Account")
    assert schema.fields["Id"] == "id"
    assert schema.fields["SystemModstamp"] == "datetime"
    assert {"Name", "BillingCity", "IsDeleted"} <= set(schema.fields)


@pytest.mark.parametrize("sobject", OBJECTS)
async def test_changes_return_every_record_in_cursor_order_with_canonical_values(
    gateway: CrmGateway, sobject: str, reference: dict[str, dict[str, CrmRecord]]
) -> None:
    records = await _all(gateway, sobject, since=None)
    keys = [(r.modstamp, r.id) for r in records]
    assert keys == sorted(keys)
    assert all(len(r.id) == 18 for r in records)
    assert {r.id: r for r in records} == reference[sobject]


async def test_since_is_inclusive_and_bulk_reads_the_same(
    gateway: CrmGateway, reference: dict[str, dict[str, CrmRecord]]
) -> None:
    everything = sorted(reference["Contact"].values(), key=lambda r: (r.modstamp, r.id))
    middle = everything[len(everything) // 2].modstamp
    later = await _all(gateway, "Contact", since=middle)
    assert {r.id for r in later} == {r.id for r in everything if r.modstamp >= middle}
    bulk = await _all(gateway, "Contact", since=middle - timedelta(days=1), bulk=True)
    assert {r.id for r in later} <= {r.id for r in bulk}


async def test_count_is_live_records(gateway: CrmGateway, reference: dict[str, dict[str, CrmRecord]]) -> None:
    live = [r for r in reference["Account"].values() if not r.is_deleted]
    assert await gateway.count("Account") == len(live)


async def test_an_unknown_field_is_invalid_field(gateway: CrmGateway) -> None:
    schema = await gateway.describe("Account")
    broken = type(schema)(schema.name, {**schema.fields, "NoSuchField__c": "string"})
    with pytest.raises(CrmInvalidFieldError):
        [page async for page in gateway.changes(broken, None)]


@pytest.mark.parametrize("adapter", ["salesforce", "memory"])
async def test_a_created_record_is_found_again_by_its_marker(adapter: str, tmp_path: Path) -> None:
    sink = MemorySink()
    generate_company_group(GroupSpec(orgs=1, accounts=3, seed=9), sink)
    with FakeSalesforceServer(sink.orgs(), ServerSettings(page_size=40)) as own:  # written to: its own org
        with own.lock:
            account = own.org("bu1").data.tables["Account"].rows[0][0]
        pool = ThreadPoolExecutor(max_workers=2)
        gateway: CrmGateway = (
            SalesforceCrmGateway(
                credentials_for(own.org("bu1")), pool, timeout_s=10, backoff=FAST_BACKOFF,
                mount=FakeSalesforceAdapter(own.host_map()),
            )
            if adapter == "salesforce"
            else _memory(own)
        )  # fmt: skip
        try:
            before = datetime.now(UTC) - timedelta(minutes=5)
            marker = "[xsell write-back 0b6f2c58]"
            values = {"Subject": "Call about Analytics", "WhatId": account, "Status": "Not Started",
                      "Priority": "Normal", "Description": f"Why: peers bought it.\n{marker}"}  # fmt: skip
            created = await gateway.create("Task", values)
            found = await gateway.find_marked(
                "Task", marker, parent_field="WhatId", parent_id=account, since=before
            )
            assert found == created
            assert await gateway.find_marked(
                "Task", "[xsell write-back other]", parent_field="WhatId", parent_id=account, since=before
            ) is None  # fmt: skip
            later = datetime.now(UTC) + timedelta(hours=1)
            assert await gateway.find_marked(
                "Task", marker, parent_field="WhatId", parent_id=account, since=later
            ) is None  # fmt: skip
        finally:
            await gateway.close()
            pool.shutdown(wait=False)


async def test_a_csv_org_is_read_only(csv_folder: Path) -> None:
    gateway = CsvCrmGateway(csv_folder)
    with pytest.raises(CrmReadOnlyError, match="read-only"):
        await gateway.create("Task", {"Subject": "Call"})
    since = datetime.now(UTC) - timedelta(days=1)
    account = SalesforceId.parse("001000000000001").value
    assert (
        await gateway.find_marked("Task", "m", parent_field="WhatId", parent_id=account, since=since) is None
    )
