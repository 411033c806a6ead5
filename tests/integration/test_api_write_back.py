"""Write-back through the real app, real PostgreSQL and the fake Salesforce over real HTTP
(simple-salesforce): exactly one record per offer and kind through replays, CRM outages, crashes and
concurrent requests."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from dishka import Provider, Scope, provide
from sqlalchemy import insert, select, text
from tests.integration.api_support import (
    add_user,
    api_settings,
    bearer,
    login,
    problem_body,
    serving,
    signed_in,
)
from tests.integration.sync.sync_support import credentials_for

from adapters.crm.factory import ConfiguredCrmGatewayFactory
from adapters.embedded.services import ServiceUrls
from adapters.persistence.customer_tables import customer_members, customers, product_families
from adapters.persistence.engine import create_engine, create_session_factory
from adapters.persistence.model_tables import recommendations
from adapters.persistence.recommendation_store import SqlaRecommendationStore
from adapters.persistence.unit_of_work import SqlaUnitOfWork
from application.models.scoring import RecommendationBatch
from application.orgs import AddOrg
from application.ports.crm import CrmGateway, CrmGatewayFactory, CrmValue, OrgCredentials
from application.write_back import WriteBackRecommendation
from domain.access import Principal, PrincipalKind, Role
from domain.account import Account
from domain.ids import SalesforceId
from domain.org import Org, OrgKind
from domain.recommendation import Reason, ReasonKind
from domain.write_back import WriteBackKind
from entrypoints.cli.runtime import run_use_case
from entrypoints.container import make_container
from entrypoints.settings import Settings
from simulators.salesforce import FakeSalesforceAdapter, FakeSalesforceServer, ServerSettings
from simulators.salesforce.generator import GroupSpec, MemorySink, generate_company_group

API = "/api/v1"
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
MARKER = "[xsell write-back "
OTHER_ACCOUNT = SalesforceId.parse("001000000000077").value

USERS: dict[str, tuple[Role, tuple[str, ...]]] = {
    "admin@example.com": (Role.ADMIN, ()),
    "sales-bu1@example.com": (Role.SALES, ("bu1",)),
    "analyst-other@example.com": (Role.ANALYST, ("other",)),
}


@dataclasses.dataclass
class World:
    settings: Settings
    server: FakeSalesforceServer
    account_id: str
    offers: dict[tuple[str, str], str]  # (customer, family) -> recommendation id


@pytest.fixture
def salesforce() -> Iterator[FakeSalesforceServer]:
    sink = MemorySink()
    generate_company_group(GroupSpec(orgs=1, accounts=6, seed=3), sink)
    with FakeSalesforceServer(sink.orgs(), ServerSettings(page_size=50, admin=True)) as running:
        yield running


async def _seed(settings: Settings, server: FakeSalesforceServer) -> World:
    fake = server.org("bu1")
    with server.lock:
        table = fake.data.tables["Account"]
        first = table.as_dict(table.rows[0])
    account_id, account_name = str(first["Id"]), str(first["Name"])
    await run_use_case(
        settings,
        AddOrg,
        lambda use_case: use_case.execute(
            Org("bu1", "BU1", OrgKind.SALESFORCE, "bu1", "USD"), credentials_for(fake)
        ),
    )
    await run_use_case(
        settings,
        AddOrg,
        lambda use_case: use_case.execute(
            Org("other", "Other", OrgKind.MEMORY, "other", "EUR", instance_url="memory://other"),
            OrgCredentials("memory"),
        ),
    )
    assert settings.database_url is not None
    engine = create_engine(settings.database_url, 1)
    try:
        async with SqlaUnitOfWork(create_session_factory(engine)()) as uow:
            await uow.accounts.upsert(
                [
                    Account(org_id="bu1", external_id=account_id, name=account_name, currency="USD"),
                    Account(org_id="other", external_id=OTHER_ACCOUNT, name="Other Ltd", currency="EUR"),
                ]
            )
            await uow.commit()
        async with engine.begin() as connection:
            await connection.execute(
                insert(product_families).values(id="analytics", name="Analytics", created_at=NOW)
            )
            for customer_id, org_id, external_id in (
                ("c1", "bu1", account_id),
                ("c2", "other", OTHER_ACCOUNT),
            ):
                await connection.execute(
                    insert(customers).values(id=customer_id, name=f"Customer {customer_id}", created_at=NOW)
                )
                await connection.execute(
                    insert(customer_members).values(
                        org_id=org_id,
                        external_id=external_id,
                        customer_id=customer_id,
                        confidence=0.9,
                        method="model",
                        decided_by="resolver",
                        joined_at=NOW,
                    )
                )
        rows = [
            ("c1", "analytics", "bu1"),
            ("c1", "crm", "bu1"),
            ("c1", "hr", "bu1"),
            ("c2", "analytics", "other"),
        ]
        values = np.array([12450.0, 800.0, 950.0, 300.0])
        await SqlaRecommendationStore(engine).replace_open(
            RecommendationBatch(
                run_id="run-write-back-0001",
                as_of=date(2026, 3, 1),
                created_at=NOW,
                group_currency="USD",
                customer_ids=[r[0] for r in rows],
                family_ids=[r[1] for r in rows],
                target_org_ids=[r[2] for r in rows],
                probabilities=np.array([0.31, 0.2, 0.2, 0.1]),
                expected_values=values,
                currencies=["USD", "USD", "USD", "EUR"],
                group_values=values,
                ranks=np.ones(len(rows), dtype=np.int32),
                model_version_ids=["m-1"] * len(rows),
                arms=["champion"] * len(rows),
                reasons=[
                    (Reason(ReasonKind.ACTIVITY, "Activity in the last 30 days is 3.1 times its usual", 0.4),)
                ]
                * len(rows),
            )
        )
        async with engine.connect() as connection:
            offers = {
                (row.customer_id, row.family_id): row.id
                for row in await connection.execute(select(recommendations))
            }
    finally:
        await engine.dispose()
    return World(settings, server, account_id, offers)


@pytest.fixture
async def world(
    services: ServiceUrls, database_url: str, tmp_path: Path, salesforce: FakeSalesforceServer
) -> World:
    base = api_settings(services, database_url, tmp_path)
    settings = dataclasses.replace(base, salesforce_host_map=tuple(salesforce.host_map().items()))
    seeded = await _seed(settings, salesforce)
    for email, (role, orgs) in USERS.items():
        await add_user(settings, email, role, orgs)
    return seeded


async def clients(settings: Settings) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    async with serving(settings) as http:
        signed: dict[str, httpx.AsyncClient] = {}
        for email in USERS:
            tokens = await login(http, email)
            signed[email] = httpx.AsyncClient(
                transport=http._transport, base_url=http.base_url, headers=bearer(tokens["access_token"])
            )
        try:
            yield signed
        finally:
            for client in signed.values():
                await client.aclose()


def _written(world: World, sobject: str = "Task") -> dict[str, dict[str, Any]]:
    """The records xsell wrote into the fake org, by id (the org's own activities are left out)."""
    with world.server.lock:
        table = world.server.org("bu1").data.tables[sobject]
        rows = [table.as_dict(row) for row in table.rows]
    return {
        str(r["Id"]): r for r in rows if MARKER in str(r.get("Description") or "") and not r.get("IsDeleted")
    }


async def _write_back(
    client: httpx.AsyncClient, offer: str, key: str | None, body: Mapping[str, Any] | None = None
) -> httpx.Response:
    headers = {} if key is None else {"Idempotency-Key": key}
    return await client.post(
        f"{API}/recommendations/{offer}/write-back", json=body or {"kind": "task"}, headers=headers
    )


async def test_one_task_replays_and_who_may_write(world: World) -> None:
    offer, other = world.offers[("c1", "analytics")], world.offers[("c1", "crm")]
    async with signed_in(world.settings, USERS) as by:
        sales = by["sales-bu1@example.com"]
        problem_body(await _write_back(sales, offer, "k-1"), 409)  # not accepted yet
        assert (await sales.post(f"{API}/recommendations/{offer}/accept")).status_code == 200

        created = await _write_back(sales, offer, "k-1")
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["status"] == "done" and body["org_id"] == "bu1" and body["account_id"] == world.account_id
        tasks = _written(world)
        assert list(tasks) == [body["salesforce_id"]]
        task = tasks[body["salesforce_id"]]
        assert task["WhatId"] == world.account_id and task["Subject"].startswith("Call about Analytics: ")
        assert f"[xsell write-back {body['id']}]" in task["Description"]

        replay = await _write_back(sales, offer, "k-1")
        assert replay.status_code == 200 and replay.json() == body
        assert len(_written(world)) == 1
        again = problem_body(await _write_back(sales, offer, "k-2"), 409)
        assert again["salesforce_id"] == body["salesforce_id"] and again["write_back_id"] == body["id"]
        reused = problem_body(await _write_back(sales, offer, "k-1", {"kind": "opportunity"}), 422)
        assert "Idempotency-Key" in reused["detail"]
        assert len(_written(world)) == 1 and _written(world, "Opportunity") == {}

        listed = await sales.get(f"{API}/recommendations/{offer}/write-backs")
        assert listed.status_code == 200 and listed.json() == [body]

        for bad_key in (None, "", "k" * 201):
            problem_body(await _write_back(sales, other, bad_key), 400)
        for bad_body in ({"kind": "email"}, {"kind": "task", "extra": 1}, {"kind": "task", "org_id": ""}):
            problem_body(await _write_back(sales, other, "k-3", bad_body), 400)
        assert (await sales.post(f"{API}/recommendations/{other}/accept")).status_code == 200
        problem_body(await _write_back(sales, other, "k-3", {"kind": "task", "org_id": "other"}), 404)

        # Outside the caller's grants: 404, exactly as for an unknown offer.
        outsider = by["analyst-other@example.com"]
        assert problem_body(await _write_back(outsider, offer, "k-9"), 404)["title"] == "Not found"
        problem_body(await outsider.get(f"{API}/recommendations/{offer}/write-backs"), 404)
        problem_body(await _write_back(sales, "nope", "k-9"), 404)
        problem_body(
            await sales.get(f"{API}/recommendations/{world.offers[('c2', 'analytics')]}/write-backs"), 404
        )

        # The offer is won afterwards: feedback records the amount.
        converted = await sales.post(f"{API}/recommendations/{offer}/convert", json={"amount": "15000.00"})
        assert converted.status_code == 200 and converted.json()["converted_amount"] == "15000.00"
        assert (await _write_back(sales, offer, "k-1")).json() == body  # a replay still answers
    assert len(_written(world)) == 1


async def test_an_opportunity_for_the_admin_and_the_routes_in_openapi(world: World) -> None:
    offer = world.offers[("c1", "analytics")]
    async with signed_in(world.settings, USERS) as by:
        admin = by["admin@example.com"]
        spec = (await admin.get("/schema/openapi.json")).json()
        post = spec["paths"][f"{API}/recommendations/{{recommendation_id}}/write-back"]["post"]
        assert {"200", "201", "400", "404", "409", "422", "502"} <= set(post["responses"])
        (header,) = [p for p in post["parameters"] if p["in"] == "header"]
        assert header["name"] == "Idempotency-Key" and header["required"] is True
        assert post["responses"]["409"]["content"]["application/problem+json"]["examples"]
        listing = spec["paths"][f"{API}/recommendations/{{recommendation_id}}/write-backs"]["get"]
        assert post["description"] and listing["description"]
        assert (await admin.post(f"{API}/recommendations/{offer}/accept")).status_code == 200
        created = await _write_back(admin, offer, "opp-1", {"kind": "opportunity", "org_id": "bu1"})
        assert created.status_code == 201, created.text
    (record,) = _written(world, "Opportunity").values()
    assert record["Id"] == created.json()["salesforce_id"]
    assert record["AccountId"] == world.account_id and record["StageName"] == "Prospecting"
    assert record["Amount"] == 12450.0 and record["Name"].startswith("Analytics for ")


async def test_a_crm_outage_answers_502_and_the_pending_write_back_is_finished_later(world: World) -> None:
    offer = world.offers[("c1", "analytics")]
    async with signed_in(world.settings, USERS) as by:
        sales = by["sales-bu1@example.com"]
        assert (await sales.post(f"{API}/recommendations/{offer}/accept")).status_code == 200
        with world.server.lock:
            world.server.org("bu1").apply_faults({"error_rate": 1.0})
        failed = problem_body(await _write_back(sales, offer, "k-1"), 502)
        password = credentials_for(world.server.org("bu1")).secrets["password"]
        assert failed["type"].endswith("/crm-error") and password not in str(failed)
        listed = (await sales.get(f"{API}/recommendations/{offer}/write-backs")).json()
        assert [(w["status"], w["salesforce_id"]) for w in listed] == [("pending", None)]
        assert _written(world) == {}

        with world.server.lock:
            world.server.org("bu1").clear_faults()
        finished = await _write_back(sales, offer, "k-1")
        assert finished.status_code == 201, finished.text
        assert finished.json()["status"] == "done" and finished.json()["id"] == listed[0]["id"]
        assert list(_written(world)) == [finished.json()["salesforce_id"]]


async def test_concurrent_requests_with_one_key_make_one_task(world: World) -> None:
    offer = world.offers[("c1", "analytics")]
    async with signed_in(world.settings, USERS) as by:
        sales = by["sales-bu1@example.com"]
        assert (await sales.post(f"{API}/recommendations/{offer}/accept")).status_code == 200
        answers = await asyncio.gather(*(_write_back(sales, offer, "same-key") for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201], [a.text for a in answers]
    assert len({a.json()["salesforce_id"] for a in answers}) == 1
    assert list(_written(world)) == [answers[0].json()["salesforce_id"]]


class _CrashAfterCreate:
    """The real gateway, whose first create succeeds in Salesforce and then dies before answering."""

    crashed = False

    def __init__(self, inner: CrmGateway) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def create(self, sobject: str, values: Mapping[str, CrmValue]) -> str:
        record_id = await self._inner.create(sobject, values)
        if not _CrashAfterCreate.crashed:
            _CrashAfterCreate.crashed = True
            raise SystemExit("the API process died between the create and the store")
        return record_id


class _CrashingGateways(Provider):
    @provide(scope=Scope.APP, override=True)
    def gateways(self, real: ConfiguredCrmGatewayFactory) -> CrmGatewayFactory:
        class Factory:
            def open(self, kind: str, instance_url: str | None, credentials: OrgCredentials) -> CrmGateway:
                return _CrashAfterCreate(real.open(kind, instance_url, credentials))  # type: ignore[return-value]

        return Factory()

    @provide(scope=Scope.APP)
    def real(self, settings: Settings) -> ConfiguredCrmGatewayFactory:
        host_map = dict(settings.salesforce_host_map or ())
        return ConfiguredCrmGatewayFactory(
            ThreadPoolExecutor(max_workers=2), timeout_s=10, transport=lambda: FakeSalesforceAdapter(host_map)
        )


async def test_a_crash_between_create_and_store_is_finished_by_the_retry_with_one_task(world: World) -> None:
    offer = world.offers[("c1", "analytics")]
    _CrashAfterCreate.crashed = False
    sales = Principal(subject="sales", kind=PrincipalKind.USER, role=Role.SALES, org_ids=frozenset({"bu1"}))
    async with signed_in(world.settings, USERS) as by:
        assert (
            await by["sales-bu1@example.com"].post(f"{API}/recommendations/{offer}/accept")
        ).status_code == 200
    container = make_container(world.settings, _CrashingGateways())
    try:
        async with container() as request:
            use_case = await request.get(WriteBackRecommendation)
            with pytest.raises(SystemExit):
                await use_case.execute(offer, WriteBackKind.TASK, "k-crash", sales)
    finally:
        await container.close()
    (created,) = _written(world).values()  # the CRM has it; xsell never stored its id
    assert world.settings.database_url is not None
    engine = create_engine(world.settings.database_url, 1)
    try:
        async with engine.begin() as connection:
            row = (await connection.execute(text("SELECT status, salesforce_id FROM write_backs"))).one()
            assert tuple(row) == ("pending", None)
            # The dead process's lease runs out.
            await connection.execute(
                text("UPDATE write_backs SET attempted_at = attempted_at - interval '1 day'")
            )
    finally:
        await engine.dispose()

    async with signed_in(world.settings, USERS) as by:
        finished = await _write_back(by["sales-bu1@example.com"], offer, "k-crash")
    assert finished.status_code == 201, finished.text
    assert finished.json()["salesforce_id"] == created["Id"]
    assert list(_written(world)) == [created["Id"]]
