"""PostgreSQL connections killed under the API (`pg_terminate_backend`): a transaction cut in the middle
rolls back and answers 503 (retry), the pool replaces the dead connections, and the next request succeeds."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest
from tests.integration.api_support import add_user, api_settings, bearer, login, seed, serving
from tests.integration.conftest import _asyncpg_dsn
from tests.integration.fault_report import FaultRecord

from adapters.embedded.services import ServiceUrls
from domain.access import Role
from entrypoints.settings import Settings

API = "/api/v1"
ROUNDS = 5


@pytest.fixture
def settings(services: ServiceUrls, database_url: str, tmp_path: Path) -> Settings:
    return api_settings(services, database_url, tmp_path)


async def _terminate_all(admin: asyncpg.Connection, database: str) -> int:
    killed = await admin.fetch(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = $1 AND pid <> pg_backend_pid()",
        database,
    )
    return len(killed)


async def _blocked_backend(admin: asyncpg.Connection, database: str) -> int:
    """The pid of the API's connection once it waits on the lock the test holds (mid-transaction)."""
    for _ in range(200):
        pid = await admin.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' LIMIT 1",
            database,
        )
        if pid is not None:
            return int(pid)
        await asyncio.sleep(0.05)
    raise AssertionError("the request never reached the locked table")


async def test_pooled_connections_killed_between_requests(
    settings: Settings, database_url: str, fault_report: FaultRecord
) -> None:
    await seed(database_url)
    await add_user(settings, "admin@example.com", Role.ADMIN)
    dsn = _asyncpg_dsn(database_url)
    admin = await asyncpg.connect(**dsn)
    try:
        async with serving(settings) as http:
            headers = bearer((await login(http, "admin@example.com"))["access_token"])
            for _ in range(ROUNDS):
                assert (await http.get(f"{API}/accounts", headers=headers)).status_code == 200
                fault_report.injected += await _terminate_all(admin, str(dsn["database"]))
                response = await http.get(f"{API}/accounts", params={"limit": 100}, headers=headers)
                assert response.status_code == 200, response.text
                assert len(response.json()["items"]) == 75
                fault_report.survived += 1
    finally:
        await admin.close()


async def test_a_transaction_killed_in_the_middle_rolls_back(
    settings: Settings, database_url: str, fault_report: FaultRecord
) -> None:
    await seed(database_url)
    await add_user(settings, "admin@example.com", Role.ADMIN)
    dsn = _asyncpg_dsn(database_url)
    database = str(dsn["database"])
    admin = await asyncpg.connect(**dsn)
    created: list[str] = []
    try:
        async with serving(settings) as http:
            headers = bearer((await login(http, "admin@example.com"))["access_token"])
            for n in range(ROUNDS):
                body = {
                    "email": f"new{n}@example.com",
                    "display_name": f"New {n}",
                    "role": "sales",
                    "password": "a long enough password",
                }
                # Hold a lock the insert needs, so the request's transaction is open and waiting when
                # its connection is killed.
                lock = admin.transaction()
                await lock.start()
                await admin.execute("LOCK TABLE users IN EXCLUSIVE MODE")
                request = asyncio.create_task(http.post(f"{API}/users", json=body, headers=headers))
                pid = await _blocked_backend(admin, database)
                assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
                fault_report.injected += 1
                await lock.rollback()
                cut = await request
                assert cut.status_code == 503, cut.text
                assert cut.headers["content-type"].startswith("application/problem+json")
                assert "Retry-After" in cut.headers
                count = "SELECT count(*) FROM users WHERE email = $1"
                assert await admin.fetchval(count, body["email"]) == 0, "the cut transaction left a row"
                retried = await http.post(f"{API}/users", json=body, headers=headers)
                assert retried.status_code == 201, retried.text
                created.append(body["email"])
                fault_report.survived += 1
        present = await admin.fetchval("SELECT count(*) FROM users WHERE email = ANY($1::text[])", created)
        fault_report.records_lost = len(created) - int(present)
        assert fault_report.records_lost == 0
    finally:
        await admin.close()
