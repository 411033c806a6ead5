"""Orgs through the real app: reads scoped by grants (0 cross-org reads), admin-only writes, credentials
encrypted and never returned or logged, a connection test against the fake Salesforce, schedules."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, text
from tests.integration.api_support import (
    CANARY_CRM_SECRET,
    ORGS,
    add_user,
    api_settings,
    problem_body,
    seed,
    serving,
    signed_client,
)

from adapters.embedded.services import ServiceUrls
from adapters.persistence.engine import create_engine
from adapters.persistence.tables import sync_reconciliations, sync_runs
from domain.access import Role
from entrypoints.settings import Settings
from simulators.salesforce import FakeSalesforceServer, ServerSettings
from simulators.salesforce.generator import GroupSpec, MemorySink, generate_company_group

API = "/api/v1"
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
CANARY = CANARY_CRM_SECRET

USERS: dict[str, tuple[Role, tuple[str, ...]]] = {
    "admin@example.com": (Role.ADMIN, ()),
    "sales-amer@example.com": (Role.SALES, ("amer",)),
    "analyst-multi@example.com": (Role.ANALYST, ("emea", "apac")),
    "nobody@example.com": (Role.SALES, ()),
}


@pytest.fixture(scope="module")
def salesforce() -> Iterator[FakeSalesforceServer]:
    sink = MemorySink()
    generate_company_group(GroupSpec(orgs=1, accounts=5, seed=5), sink)
    with FakeSalesforceServer(sink.orgs(), ServerSettings(page_size=50, admin=True)) as running:
        yield running


@pytest.fixture
async def settings(
    services: ServiceUrls, database_url: str, tmp_path: Path, salesforce: FakeSalesforceServer
) -> Settings:
    await seed(database_url, per_org=2)
    engine = create_engine(database_url, 1)
    try:
        async with engine.begin() as connection:
            for n in range(25):  # more than the 20 runs the detail shows
                run_id = uuid.uuid4()
                await connection.execute(
                    insert(sync_runs).values(
                        id=run_id,
                        org_id="amer",
                        trigger="schedule",
                        full=n == 0,
                        status="completed",
                        started_at=NOW + timedelta(hours=n),
                        finished_at=NOW + timedelta(hours=n, minutes=5),
                        counts={"Account": {"upserted": n, "deleted": 0}},
                        errors=[],
                        api_used=100 + n,
                        api_max=15000,
                    )
                )
                await connection.execute(
                    insert(sync_reconciliations).values(
                        run_id=run_id, sobject="Account", xsell_count=n, crm_count=n + (n % 2), checked_at=NOW
                    )
                )
    finally:
        await engine.dispose()
    base = api_settings(services, database_url, tmp_path)
    resolved = dataclasses.replace(base, salesforce_host_map=tuple(salesforce.host_map().items()))
    for email, (role, orgs) in USERS.items():
        await add_user(resolved, email, role, orgs)
    return resolved


def _readable(email: str) -> set[str]:
    role, orgs = USERS[email]
    return set(ORGS) if role is Role.ADMIN else set(orgs)


async def test_reads_are_scoped_and_writes_are_admin_only(settings: Settings) -> None:
    async with serving(settings) as http:
        by = {email: await signed_client(http, email) for email in USERS}
        try:
            for email, client in by.items():
                listed = (await client.get(f"{API}/orgs")).json()
                assert {org["id"] for org in listed} == _readable(email), email
                for org_id in (*ORGS, "nowhere"):
                    response = await client.get(f"{API}/orgs/{org_id}")
                    if org_id in _readable(email):
                        assert response.status_code == 200, response.text
                        assert response.json()["org"]["id"] == org_id
                    else:
                        problem_body(response, 404)  # unknown and not granted answer alike
                for method, path, body in (
                    ("POST", "/orgs", {}),
                    ("DELETE", "/orgs/amer", None),
                    ("POST", "/orgs/amer/test", None),
                    ("PUT", "/orgs/amer/schedule", {"schedule": None}),
                ):
                    if email == "admin@example.com":
                        continue
                    response = await client.request(method, f"{API}{path}", json=body)
                    problem_body(response, 403)

            sales = by["sales-amer@example.com"]
            [amer] = (await sales.get(f"{API}/orgs")).json()
            assert amer["login"] is None and amer["last_run_status"] == "completed"
            assert amer["last_run_started_at"].startswith("2026-03-02T12:00:00")  # the newest of 25
            detail = (await sales.get(f"{API}/orgs/amer")).json()
            runs = detail["runs"]
            assert len(runs) == 20
            assert [run["counts"]["Account"]["upserted"] for run in runs] == list(range(24, 4, -1))
            for run in runs:
                upserted = run["counts"]["Account"]["upserted"]
                expected = [] if upserted % 2 == 0 else [upserted]
                assert [m["xsell_count"] for m in run["reconciliation_mismatches"]] == expected
                assert run["api_max"] == 15000

            admin = by["admin@example.com"]
            for bad in ("not cron", "61 * * * *", "* * * *"):
                problem_body(await admin.put(f"{API}/orgs/amer/schedule", json={"schedule": bad}), 400)
            response = await admin.put(f"{API}/orgs/amer/schedule", json={"schedule": "0  3 * * *"})
            assert response.json() == {"org_id": "amer", "schedule": "0 3 * * *"}
            assert (await sales.get(f"{API}/orgs/amer")).json()["org"]["schedule"] == "0 3 * * *"
            response = await admin.put(f"{API}/orgs/amer/schedule", json={"schedule": None})
            assert response.json() == {"org_id": "amer", "schedule": None}
            problem_body(await admin.put(f"{API}/orgs/nowhere/schedule", json={"schedule": None}), 404)

            assert (await admin.delete(f"{API}/orgs/apac")).status_code == 204
            problem_body(await admin.delete(f"{API}/orgs/apac"), 404)
            problem_body(await by["analyst-multi@example.com"].get(f"{API}/orgs/apac"), 404)
        finally:
            for client in by.values():
                await client.aclose()


async def test_created_org_keeps_its_secrets_sealed_and_tests_against_salesforce(
    settings: Settings, salesforce: FakeSalesforceServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = salesforce.orgs[0]
    user, app = fake.users[0], fake.apps[0]
    good: dict[str, Any] = {
        "id": "bu1",
        "name": "Business unit 1",
        "currency": "EUR",
        "login": {
            "flow": "password",
            "username": user.username,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "password": user.password,
        },
    }
    bad: dict[str, Any] = {
        "id": "bu2",
        "name": "Wrong login",
        "schedule": "*/15 * * * *",
        "login": {
            "flow": "password",
            "username": user.username,
            "client_id": app.client_id,
            "client_secret": CANARY,
            "password": CANARY,
            "security_token": CANARY,
        },
    }
    jwt: dict[str, Any] = {
        "id": "bu3",
        "name": "JWT login",
        "login": {
            "flow": "jwt",
            "username": user.username,
            "client_id": app.client_id,
            "private_key": CANARY,
        },
    }
    secrets = (CANARY, user.password, app.client_secret)
    seen: list[str] = []
    async with serving(settings) as http:
        by = {email: await signed_client(http, email) for email in USERS}
        admin = by["admin@example.com"]
        try:
            for body in (good, bad, jwt):
                response = await admin.post(f"{API}/orgs", json=body)
                assert response.status_code == 201, response.text
                seen.append(response.text)
                assert response.json()["login"] == {"flow": body["login"]["flow"], "username": user.username}
            seen.append(problem_body(await admin.post(f"{API}/orgs", json=good), 400)["detail"])
            for invalid in (
                {**good, "id": "Bad Id"},
                {**good, "login": {**good["login"], "flow": "magic"}},
                {**good, "login": {**good["login"], "login_url": "https://evil.example"}},
                {**bad, "id": "bu4", "schedule": "every minute"},
            ):
                seen.append(problem_body(await admin.post(f"{API}/orgs", json=invalid), 400).__repr__())
            problem_body(await admin.get(f"{API}/orgs/bu4"), 404)  # a bad schedule stores nothing

            listed = await admin.get(f"{API}/orgs")
            seen.append(listed.text)
            assert {"bu1", "bu2", "bu3"} <= {org["id"] for org in listed.json()}
            detail = await admin.get(f"{API}/orgs/bu2")
            seen.append(detail.text)
            assert detail.json()["org"]["schedule"] == "*/15 * * * *"
            assert {
                org["id"] for org in (await by["analyst-multi@example.com"].get(f"{API}/orgs")).json()
            } == {
                "emea",
                "apac",
            }

            tested = await admin.post(f"{API}/orgs/bu1/test")
            seen.append(tested.text)
            assert tested.status_code == 200, tested.text
            assert tested.json()["org_id"] == "bu1" and tested.json()["api_max"] == fake.api_max

            refused = problem_body(await admin.post(f"{API}/orgs/bu2/test"), 502)
            seen.append(repr(refused))
            assert refused["detail"]
            after = (await admin.get(f"{API}/orgs/bu2")).json()["org"]
            seen.append(repr(after))
            assert after["sync_state"] == "attention"
            seen.append(repr(problem_body(await admin.post(f"{API}/orgs/nowhere/test"), 404)))
        finally:
            for client in by.values():
                await client.aclose()

    engine = create_engine(str(settings.database_url), 1)
    try:
        async with engine.connect() as connection:
            stored = [
                str(row[0])
                for table in ("orgs", "org_credentials")
                for row in await connection.execute(text(f"SELECT t::text FROM {table} t"))  # noqa: S608
            ]
    finally:
        await engine.dispose()
    assert any("bu2" in row for row in stored)
    logged = caplog.text + "".join(repr(record.__dict__) for record in caplog.records)
    for secret in secrets:
        assert not any(secret in row for row in stored), "a secret is stored in clear"
        assert not any(secret in body for body in seen), "a secret came back in a response"
        assert logged.count(secret) == 0, "a secret was logged"
