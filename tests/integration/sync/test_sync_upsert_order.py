"""Upserts are order-independent, as a property on real PostgreSQL: whatever order the versions of some
records arrive in (split into pages, replayed, as Bulk CSV or as REST records), the table ends holding each
record's version with the newest SystemModstamp."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from tests.integration.sync.test_sync_csv_pages import HEADER, SCHEMA

from adapters.crm.canonical import RecordReader
from adapters.persistence.crm_records import SqlaCrmRecordRepository
from adapters.persistence.engine import create_engine, create_session_factory
from application.ports.crm import CrmCsv, CrmRecordPage

IDS = ("001A00000000001IAA", "001A00000000002IAA", "001A00000000003IAA")
START = datetime(2024, 1, 1, tzinfo=UTC)


def _row(record_id: str, second: int, deleted: bool) -> str:
    stamp = (START + timedelta(seconds=second)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    name = f"{record_id[-6:]} v{second}"
    return f'"{record_id}","{stamp}","{str(deleted).lower()}","{name}","","",,,"","","",""'


def _page(rows: list[str], csv: bool) -> CrmRecordPage:
    # Within one page, records come in (SystemModstamp, Id) order, as Salesforce sends them.
    ordered = sorted(rows, key=lambda row: (row.split(",")[1], row.split(",")[0]))
    data = (HEADER + "".join(row + "\n" for row in ordered)).encode()
    reader = RecordReader(SCHEMA)
    if csv:
        return CrmRecordPage.from_csv(CrmCsv(data, SCHEMA.fields), lambda: reader.read_csv(data.decode()))
    return CrmRecordPage(columns=reader.read_csv(data.decode()))


# Versions: (record, second, deleted); one record never has two versions with the same stamp.
_VERSIONS = st.lists(
    st.tuples(st.sampled_from(IDS), st.integers(0, 50), st.booleans()),
    min_size=1,
    max_size=12,
    unique_by=lambda version: (version[0], version[1]),
)


async def _apply(database_url: str, pages: list[CrmRecordPage]) -> dict[str, tuple[str, bool]]:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with create_session_factory(engine)() as session:
            await session.execute(text("DELETE FROM accounts"))
            await session.execute(
                text(
                    "INSERT INTO orgs (id, name, kind, business_unit, currency, created_at)"
                    " VALUES ('bu1', 'BU1', 'salesforce', 'BU1', 'USD', now()) ON CONFLICT DO NOTHING"
                )
            )
            repository = SqlaCrmRecordRepository(session)
            for page in pages:
                await repository.upsert("bu1", "Account", page, "USD")
            await session.commit()
            rows = await session.execute(text("SELECT external_id, name, is_deleted FROM accounts"))
            return {row[0]: (row[1], row[2]) for row in rows}
    finally:
        await engine.dispose()


def test_any_arrival_order_ends_with_the_newest_version(database_url: str) -> None:
    @settings(
        max_examples=40,
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(_VERSIONS, st.data())
    def check(versions: list[tuple[str, int, bool]], data: st.DataObject) -> None:
        arrival = data.draw(st.permutations(versions))
        replayed = arrival + data.draw(st.lists(st.sampled_from(versions), max_size=4))
        cuts = sorted(data.draw(st.sets(st.integers(1, len(replayed)), max_size=4)) | {len(replayed)})
        pages, start = [], 0
        for cut in cuts:
            rows = [_row(*version) for version in replayed[start:cut]]
            pages.append(_page(rows, csv=data.draw(st.booleans())))
            start = cut
        stored = asyncio.run(_apply(database_url, pages))
        newest = {}
        for record_id, second, deleted in sorted(versions, key=lambda version: version[1]):
            newest[record_id] = (f"{record_id[-6:]} v{second}", deleted)
        assert stored == newest

    check()
