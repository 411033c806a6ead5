"""Bulk CSV pages loaded by COPY and converted in SQL land exactly as the same page read in Python does,
and the merge rules hold on that road too: a first load, an id seen again, an id twice in one page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from adapters.crm.canonical import RecordReader
from adapters.persistence.crm_records import SqlaCrmRecordRepository
from adapters.persistence.engine import create_engine, create_session_factory
from application.ports.crm import CrmCsv, CrmRecordPage, ObjectSchema
from domain.sync import SyncCursor

SCHEMA = ObjectSchema(
    "Account",
    {
        "Id": "id",
        "SystemModstamp": "datetime",
        "IsDeleted": "boolean",
        "Name": "string",
        "NumberOfEmployees": "int",
        "AnnualRevenue": "currency",
        "OwnerId": "reference",
        "Owner.Name": "string",
        "CreatedDate": "datetime",
        "CurrencyIsoCode": "picklist",
        "Active__c": "boolean",
        "Founded__c": "date",
    },
)
HEADER = (
    '"Id","SystemModstamp","IsDeleted","Name","NumberOfEmployees","AnnualRevenue","OwnerId","Owner.Name",'
)
HEADER += '"CreatedDate","CurrencyIsoCode","Active__c","Founded__c"\n'


def _page(*rows: str, csv: bool) -> CrmRecordPage:
    data = (HEADER + "".join(row + "\n" for row in rows)).encode()
    reader = RecordReader(SCHEMA)
    if csv:
        return CrmRecordPage.from_csv(CrmCsv(data, SCHEMA.fields), lambda: reader.read_csv(data.decode()))
    return CrmRecordPage(columns=reader.read_csv(data.decode()))


ROWS = (
    '"001A00000000001","2024-01-31T12:00:00.000Z","false","Acme ""One"", Inc","12","1500.5",'
    '"005A00000000001IAA","Ann","2023-01-01T00:00:00.000Z","EUR","true","2001-02-03"',
    '"001A00000000002IAA","2024-01-31T12:00:01.000+0000","true","Beta","","",,,"","","false",""',
    '"001A00000000003IAA","2024-01-31T12:00:01.000Z","false","Gamma","7","0","","","","","",""',
)


async def _load(database_url: str, *pages: CrmRecordPage) -> tuple[list[Any], list[SyncCursor | None]]:
    engine = create_engine(database_url, pool_size=1)
    try:
        factory = create_session_factory(engine)
        async with factory() as session:
            await session.execute(
                text(
                    "INSERT INTO orgs (id, name, kind, business_unit, currency, created_at)"
                    " VALUES ('bu1', 'BU1', 'salesforce', 'BU1', 'USD', now()) ON CONFLICT DO NOTHING"
                )
            )
            repository = SqlaCrmRecordRepository(session)
            lasts = []
            for page in pages:
                lasts.append((await repository.upsert("bu1", "Account", page, "USD")).last)
            await session.commit()
            rows = (
                await session.execute(
                    text(
                        "SELECT external_id, name, employees, annual_revenue, owner_id, owner_name, currency,"
                        " created_at, modified_at, is_deleted, fields FROM accounts ORDER BY external_id"
                    )
                )
            ).all()
        return [tuple(row) for row in rows], lasts
    finally:
        await engine.dispose()


async def test_a_csv_page_lands_as_the_same_page_read_in_python(database_url: str) -> None:
    by_sql, (last,) = await _load(database_url, _page(*ROWS, csv=True))
    await _clear(database_url)
    by_python, (python_last,) = await _load(database_url, _page(*ROWS, csv=False))
    assert len(by_sql) == 3
    assert [row[:-1] for row in by_sql] == [row[:-1] for row in by_python]
    for sql_row, python_row in zip(by_sql, by_python, strict=True):  # JSON numbers: 1500.5 either way
        assert sql_row[-1] == python_row[-1]
    assert by_sql[0][0] == "001A00000000001IAA"  # 15 characters made 18 in SQL
    assert by_sql[0][-1]["Active__c"] is True and by_sql[0][-1]["NumberOfEmployees"] == 12
    assert (
        last == python_last == SyncCursor(datetime(2024, 1, 31, 12, 0, 1, tzinfo=UTC), "001A00000000003IAA")
    )


async def test_a_csv_page_seen_again_merges_and_the_newer_stamp_wins(database_url: str) -> None:
    newer = ROWS[0].replace("2024-01-31T12:00:00.000Z", "2024-02-01T00:00:00.000Z").replace("One", "Uno")
    older = ROWS[2].replace("2024-01-31T12:00:01.000Z", "2024-01-01T00:00:00.000Z").replace("Gamma", "Old")
    twice = ROWS[1].replace('"Beta"', '"Beta 2"').replace("12:00:01", "12:00:09")
    rows, _ = await _load(
        database_url,
        _page(*ROWS, csv=True),  # a first load: plain INSERT
        _page(newer, older, csv=True),  # ids already there: the INSERT fails, the merge runs
        _page(ROWS[1], twice, csv=True),  # one id twice in a page: its newest version
    )
    names = {row[0]: row[1] for row in rows}
    assert names == {
        "001A00000000001IAA": 'Acme "Uno", Inc',
        "001A00000000002IAA": "Beta 2",
        "001A00000000003IAA": "Gamma",
    }


async def _clear(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM accounts"))
    finally:
        await engine.dispose()
