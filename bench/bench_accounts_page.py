"""Deep pages of GET /api/v1/accounts: the keyset query against OFFSET paging, on real PostgreSQL."""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from adapters.embedded.services import running_services
from adapters.persistence.engine import create_engine, create_session_factory
from adapters.persistence.migrations import upgrade
from adapters.persistence.repositories import SqlaAccountRepository
from domain.account import AccountKey
from domain.ids import SalesforceId

ROWS = 200_000
DEPTH = 190_000
PAGE = 50
REPEATS = 20


async def _load(database_url: str) -> None:
    url = make_url(database_url)
    connection = await asyncpg.connect(
        user=url.username, host=url.host or url.query.get("host"), port=url.port, database=url.database
    )
    try:
        now = datetime.now(UTC)
        await connection.execute(
            "INSERT INTO orgs (id, name, kind, business_unit, currency, created_at)"
            " VALUES ('bench', 'Bench', 'memory', 'bench', 'USD', now())"
        )
        records = [
            ("bench", SalesforceId.parse(f"001{n:012d}").value, f"Company {n}", "USD", now, now, False)
            for n in range(ROWS)
        ]
        await connection.copy_records_to_table(
            "accounts",
            records=records,
            columns=["org_id", "external_id", "name", "currency", "created_at", "modified_at", "is_deleted"],
        )
        await connection.execute("ANALYZE accounts")
    finally:
        await connection.close()


async def _measure(database_url: str) -> tuple[float, float]:
    engine = create_engine(database_url, pool_size=2)
    factory = create_session_factory(engine)
    after = AccountKey("bench", SalesforceId.parse(f"001{DEPTH:012d}").value)
    try:
        async with factory() as session:
            repository = SqlaAccountRepository(session)
            await repository.list_after(["bench"], after, PAGE)  # warm up
            started = time.perf_counter()
            for _ in range(REPEATS):
                await repository.list_after(["bench"], after, PAGE)
            keyset = (time.perf_counter() - started) / REPEATS
            offset_sql = text(
                "SELECT * FROM accounts WHERE org_id = 'bench'"
                " ORDER BY org_id, external_id OFFSET :o LIMIT :l"
            )
            await session.execute(offset_sql, {"o": DEPTH, "l": PAGE})
            started = time.perf_counter()
            for _ in range(REPEATS):
                await session.execute(offset_sql, {"o": DEPTH, "l": PAGE})
            offset = (time.perf_counter() - started) / REPEATS
    finally:
        await engine.dispose()
    return keyset, offset


def run() -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory() as data, running_services(None, None, Path(data)) as urls:
        upgrade(urls.database_url)
        asyncio.run(_load(urls.database_url))
        keyset, offset = asyncio.run(_measure(urls.database_url))
    return [
        {
            "stage": f"accounts page {PAGE} at row {DEPTH:,} of {ROWS:,}",
            "figure": f"{keyset * 1000:.2f} ms (keyset)",
            "baseline": f"{offset * 1000:.2f} ms (OFFSET)",
            "ratio": offset / keyset,
        }
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
