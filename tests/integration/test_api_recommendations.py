"""Recommendations, customers, models and features through the real app: filters, keyset pages, CSV,
feedback, and a route x role x grant x method matrix that finds 0 cross-org reads or writes."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import redis
from sqlalchemy import func, insert, select, update
from tests.integration.api_support import (
    ORGS,
    add_user,
    api_settings,
    bearer,
    login,
    problem_body,
    seed,
    serving,
    signed_in,
)

from adapters.embedded.services import ServiceUrls
from adapters.persistence.customer_tables import (
    customer_members,
    customers,
    product_families,
    product_family_mappings,
)
from adapters.persistence.engine import create_engine
from adapters.persistence.model_registry import SqlaModelRegistry
from adapters.persistence.model_tables import recommendations
from adapters.persistence.recommendation_store import SqlaRecommendationStore
from adapters.persistence.tables import accounts, opportunities, opportunity_line_items
from adapters.persistence.write_back_tables import write_backs
from application.models.scoring import RecommendationBatch
from domain.access import Role
from domain.ids import SalesforceId
from domain.model_version import ModelVersion, TrainingWindow, promote_to_champion
from domain.recommendation import Reason, ReasonKind
from entrypoints.settings import Settings, cache_redis_url

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
FAMILIES = ("analytics", "crm", "hr_payroll", "marketing")
API = "/api/v1"

# email -> (role, granted orgs)
USERS: dict[str, tuple[Role, tuple[str, ...]]] = {
    "admin@example.com": (Role.ADMIN, ()),
    "sales-amer@example.com": (Role.SALES, ("amer",)),
    "analyst-emea@example.com": (Role.ANALYST, ("emea",)),
    "analyst-multi@example.com": (Role.ANALYST, ("emea", "apac")),
    "nobody@example.com": (Role.SALES, ()),
}


def _account(n: int) -> str:
    return SalesforceId.parse(f"001000000{n:06d}").value


@dataclass
class World:
    """What was seeded: each customer's member orgs, each offer's customer and target org."""

    members: dict[str, set[str]] = field(default_factory=dict)
    offers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def readable(self, email: str) -> frozenset[str] | None:
        role, orgs = USERS[email]
        return None if role is Role.ADMIN else frozenset(orgs)

    def sees_customer(self, email: str, customer_id: str) -> bool:
        scope = self.readable(email)
        return scope is None or bool(self.members[customer_id] & scope)

    def sees_offer(self, email: str, offer_id: str) -> bool:
        scope, offer = self.readable(email), self.offers[offer_id]
        if scope is None:
            return True
        return offer["target_org_id"] in scope and bool(self.members[offer["customer_id"]] & scope)


# customer -> member accounts (org, account number, industry)
_CUSTOMERS: dict[str, list[tuple[str, int, str | None]]] = {
    "c-amer": [("amer", 0, "Transportation"), ("amer", 1, None)],
    "c-multi": [("emea", 0, "Retail"), ("apac", 0, "Transportation")],
    "c-apac": [("apac", 1, "Retail")],
    **{f"c-emea-{i:02d}": [("emea", 2 + i, "Banking" if i % 2 else "Retail")] for i in range(10)},
}


async def _seed(database_url: str) -> World:
    await seed(database_url, per_org=12)
    world = World()
    engine = create_engine(database_url, 2)
    try:
        async with engine.begin() as connection:
            for customer_id, members in _CUSTOMERS.items():
                name = "Zeta Multi" if customer_id == "c-multi" else f"Company {customer_id}"
                await connection.execute(insert(customers).values(id=customer_id, name=name, created_at=NOW))
                world.members[customer_id] = {org for org, _, _ in members}
                for org, n, industry in members:
                    await connection.execute(
                        insert(customer_members).values(
                            org_id=org,
                            external_id=_account(n),
                            customer_id=customer_id,
                            confidence=0.9,
                            method="model",
                            decided_by="resolver",
                            joined_at=NOW,
                        )
                    )
                    await connection.execute(
                        update(accounts)
                        .where(accounts.c.org_id == org, accounts.c.external_id == _account(n))
                        .values(industry=industry)
                    )
            # c-multi owns analytics through apac (a won opportunity's line item mapped to the family).
            await connection.execute(
                insert(product_families).values(id="analytics", name="Analytics", created_at=NOW)
            )
            await connection.execute(
                insert(opportunities).values(
                    org_id="apac",
                    external_id=SalesforceId.parse("006000000000001").value,
                    account_external_id=_account(0),
                    is_won=True,
                    is_closed=True,
                    modified_at=NOW,
                )
            )
            await connection.execute(
                insert(opportunity_line_items).values(
                    org_id="apac",
                    external_id=SalesforceId.parse("00k000000000001").value,
                    opportunity_external_id=SalesforceId.parse("006000000000001").value,
                    product_external_id=SalesforceId.parse("01t000000000001").value,
                    modified_at=NOW,
                )
            )
            await connection.execute(
                insert(product_family_mappings).values(
                    org_id="apac",
                    external_id=SalesforceId.parse("01t000000000001").value,
                    family_id="analytics",
                    source="crm_family",
                    confidence=1.0,
                    confirmed=True,
                    decided_by="ana",
                    decided_at=NOW,
                )
            )
        rows = [
            (customer_id, family, ORGS[(i + j) % len(ORGS)])
            for i, customer_id in enumerate(_CUSTOMERS)
            for j, family in enumerate(FAMILIES)
        ]
        rng = np.random.default_rng(7)
        n = len(rows)
        values = np.round(rng.uniform(100, 5000, n), 2)
        values[::5] = 1000.0  # ties: the id must break them
        batch = RecommendationBatch(
            run_id="run-api-000000001",
            as_of=date(2026, 3, 1),
            created_at=NOW,
            group_currency="USD",
            customer_ids=[r[0] for r in rows],
            family_ids=[r[1] for r in rows],
            target_org_ids=[r[2] for r in rows],
            probabilities=np.round(rng.uniform(0.01, 0.9, n), 3),
            expected_values=values,
            currencies=["USD"] * n,
            group_values=values,
            ranks=np.ones(n, dtype=np.int32),
            model_version_ids=["m-1"] * n,
            arms=["challenger" if i % 4 == 0 else "champion" for i in range(n)],
            reasons=[
                (
                    Reason(ReasonKind.ACTIVITY, "Activity in the last 30 days is 3.1 times its usual", 0.4),
                    Reason(ReasonKind.PEER, "7 similar accounts in APAC bought it", 0.2, org_id="apac"),
                )
            ]
            * n,
        )
        await SqlaRecommendationStore(engine).replace_open(batch)
        async with engine.connect() as connection:
            for row in await connection.execute(select(recommendations)):
                world.offers[row.id] = {
                    "customer_id": row.customer_id,
                    "target_org_id": row.target_org_id,
                    "family_id": row.family_id,
                    "probability": row.probability,
                    "expected_value": row.expected_value,
                    "arm": row.arm,
                }
        registry = SqlaModelRegistry(engine)
        files = {"ensemble.json": b"{}"}
        for name, at in (("m-1", NOW), ("m-2", NOW + timedelta(hours=1))):
            version = ModelVersion(
                id=name,
                algorithms=frozenset({"xgboost"}),
                feature_set_version="fs-1",
                training_window=TrainingWindow(at - timedelta(days=400), at - timedelta(days=10)),
                created_by="ana",
                metrics={"validation_auc": 0.81},
                artifacts={k: hashlib.sha256(v).hexdigest() for k, v in files.items()},
                created_at=at,
            )
            if name == "m-1":
                promote_to_champion(version, None, by="ana", at=at, reason="first")
            await registry.add(version, files, {"horizon_days": 180})
    finally:
        await engine.dispose()
    return world


@pytest.fixture
async def world_settings(services: ServiceUrls, database_url: str, tmp_path: Path) -> tuple[World, Settings]:
    world = await _seed(database_url)
    settings = api_settings(services, database_url, tmp_path)
    for email, (role, orgs) in USERS.items():
        await add_user(settings, email, role, orgs)
    return world, settings


async def clients(settings: Settings) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """One app; per user a client signed in as that user (they share the app and its loop)."""
    async with serving(settings) as http:
        signed: dict[str, httpx.AsyncClient] = {}
        for email in USERS:
            tokens = await login(http, email)
            client = httpx.AsyncClient(
                transport=http._transport, base_url=http.base_url, headers=bearer(tokens["access_token"])
            )
            signed[email] = client
        try:
            yield signed
        finally:
            for client in signed.values():
                await client.aclose()


async def _walk(client: httpx.AsyncClient, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        response = await client.get(path, params=params | ({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def _csv_ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:3] == ["id", "customer_id", "family_id"]
    return [row[0] for row in rows[1:]]


async def test_filters_sort_pages_and_csv(world_settings: tuple[World, Settings]) -> None:
    world, settings = world_settings
    async with signed_in(settings, USERS) as by:
        admin = by["admin@example.com"]
        every = await _walk(admin, f"{API}/recommendations", {"limit": "7"})
        ids = [item["id"] for item in every]
        assert len(ids) == len(set(ids)) == len(world.offers)
        keys = [(-float(item["expected_value"]), item["id"]) for item in every]
        assert keys == sorted(keys)
        by_probability = await _walk(admin, f"{API}/recommendations", {"limit": "9", "sort": "probability"})
        keys_p = [(-item["probability"], item["id"]) for item in by_probability]
        assert keys_p == sorted(keys_p) and len(keys_p) == len(world.offers)

        filters: list[tuple[dict[str, Any], Any]] = [
            ({"org": "emea"}, lambda o: o["target_org_id"] == "emea"),
            ({"org": ["emea", "apac"]}, lambda o: o["target_org_id"] in {"emea", "apac"}),
            ({"family": "crm"}, lambda o: o["family_id"] == "crm"),
            ({"min_probability": "0.5"}, lambda o: o["probability"] >= 0.5),
            ({"min_value": "2500"}, lambda o: o["expected_value"] >= 2500),
            ({"arm": "challenger"}, lambda o: o["arm"] == "challenger"),
            ({"status": "accepted"}, lambda o: False),
            (
                {"industry": "transportation"},
                lambda o: o["customer_id"] in {"c-amer", "c-multi"},
            ),
            (
                {"industry": "Banking", "min_value": "1000", "sort": "probability"},
                lambda o: (
                    o["customer_id"] in {f"c-emea-{i:02d}" for i in range(1, 10, 2)}
                    and o["expected_value"] >= 1000
                ),
            ),
        ]
        for params, predicate in filters:
            listed = [
                item["id"] for item in await _walk(admin, f"{API}/recommendations", params | {"limit": "5"})
            ]
            expected = {i for i, o in world.offers.items() if predicate(o)}
            assert set(listed) == expected and len(listed) == len(expected), params
            exported = _csv_ids(await admin.get(f"{API}/recommendations/export.csv", params=params))
            assert exported == listed, params

        detail = (await admin.get(f"{API}/recommendations/{ids[0]}")).json()
        assert [r["kind"] for r in detail["reasons"]] == ["activity", "peer"]
        assert detail["currency"] == "USD" and detail["status"] == "new"

        for bad in (
            {"cursor": "not-a-cursor"},
            {"cursor": "eyJ2IjoxLCJrIjoiYWNjb3VudHMiLCJhZnRlciI6WyJhIiwiYiJdfQ"},  # an accounts cursor
            {"min_probability": "1.5"},
            {"status": "maybe"},
            {"sort": "name"},
            {"limit": "0"},
            {"colour": "red"},
        ):
            problem_body(await admin.get(f"{API}/recommendations", params=bad), 400)
        first = (await admin.get(f"{API}/recommendations", params={"limit": "2"})).json()["next_cursor"]
        problem = problem_body(
            await admin.get(f"{API}/recommendations", params={"cursor": first, "sort": "probability"}), 400
        )
        assert "cursor" in problem["detail"]
        problem_body(await admin.get(f"{API}/recommendations/export.csv", params={"limit": "5"}), 400)


async def test_feedback_transitions(world_settings: tuple[World, Settings]) -> None:
    world, settings = world_settings
    async with signed_in(settings, USERS) as by:
        sales = by["analyst-emea@example.com"]
        mine = sorted(i for i in world.offers if world.sees_offer("analyst-emea@example.com", i))
        first, second, third = mine[:3]
        accepted = await sales.post(f"{API}/recommendations/{first}/accept")
        assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
        assert accepted.json()["accepted_at"] is not None
        # Peer evidence from apac (not granted) is left out.
        assert [r["kind"] for r in accepted.json()["reasons"]] == ["activity"]
        assert problem_body(await sales.post(f"{API}/recommendations/{first}/accept"), 409)["status"] == 409
        problem_body(await sales.post(f"{API}/recommendations/{first}/dismiss"), 409)
        problem_body(await sales.post(f"{API}/recommendations/{second}/convert", json={"amount": "10"}), 409)
        for amount in ("0", "-5", "1.001", "NaN", "1e30"):
            problem_body(
                await sales.post(f"{API}/recommendations/{first}/convert", json={"amount": amount}), 400
            )
        problem_body(await sales.post(f"{API}/recommendations/{first}/convert", json={}), 400)
        converted = await sales.post(f"{API}/recommendations/{first}/convert", json={"amount": "15000.50"})
        assert converted.status_code == 200
        assert (
            converted.json()["status"] == "converted" and converted.json()["converted_amount"] == "15000.50"
        )
        dismissed = await sales.post(f"{API}/recommendations/{second}/dismiss", json={"reason": "No budget"})
        assert dismissed.json()["status"] == "dismissed" and dismissed.json()["dismiss_reason"] == "No budget"
        assert (await sales.post(f"{API}/recommendations/{third}/dismiss")).json()["status"] == "dismissed"
        problem_body(await sales.post(f"{API}/recommendations/nope/accept"), 404)
        listed = await _walk(sales, f"{API}/recommendations", {"status": ["converted", "dismissed"]})
        assert {item["id"] for item in listed} == {first, second, third}


@pytest.mark.parametrize("cache_redis", ["one Redis", "a Redis of its own"])
async def test_lists_are_cached_per_scope_and_dropped_when_an_offer_changes(
    world_settings: tuple[World, Settings], services: ServiceUrls, cache_redis: str
) -> None:
    _, settings = world_settings
    if cache_redis == "a Redis of its own":
        settings = dataclasses.replace(settings, cache_redis_url=services.cache_redis_url)
    async with signed_in(settings, USERS) as by:
        analyst, admin = by["analyst-emea@example.com"], by["admin@example.com"]
        query = {"status": "new", "limit": 500}
        before = (await analyst.get(f"{API}/recommendations", params=query)).json()["items"]
        cache, queue = (redis.Redis.from_url(url) for url in (cache_redis_url(settings), services.redis_url))
        try:
            assert list(cache.scan_iter("xsell:cache:recommendations:*")), "the list was not cached"
            if cache_redis == "a Redis of its own":
                assert not list(queue.scan_iter("xsell:cache:*")), "a cache entry went to the jobs' Redis"
        finally:
            cache.close()
            queue.close()
        # The same query from a caller with another scope is not answered from the analyst's entry.
        everything = (await admin.get(f"{API}/recommendations", params=query)).json()["items"]
        assert len(everything) > len(before)
        again = (await analyst.get(f"{API}/recommendations", params=query)).json()["items"]
        assert again == before
        accepted = before[0]["id"]
        assert (await analyst.post(f"{API}/recommendations/{accepted}/accept")).status_code == 200
        after = (await analyst.get(f"{API}/recommendations", params=query)).json()["items"]
        assert accepted not in {item["id"] for item in after} and len(after) == len(before) - 1


async def test_customers_search_detail_and_offers(world_settings: tuple[World, Settings]) -> None:
    world, settings = world_settings
    async with signed_in(settings, USERS) as by:
        analyst = by["analyst-multi@example.com"]
        found = await _walk(analyst, f"{API}/customers", {"limit": "3"})
        assert [c["id"] for c in found] == sorted(
            (c for c in world.members if world.sees_customer("analyst-multi@example.com", c)),
            key=lambda c: ("Zeta Multi" if c == "c-multi" else f"Company {c}", c),
        )
        assert [
            c["id"] for c in (await analyst.get(f"{API}/customers", params={"q": "zeta"})).json()["items"]
        ] == ["c-multi"]
        assert (await analyst.get(f"{API}/customers", params={"q": "%"})).json()["items"] == []
        detail = (await analyst.get(f"{API}/customers/c-multi")).json()
        assert {(a["org_id"], a["industry"]) for a in detail["accounts"]} == {
            ("emea", "Retail"),
            ("apac", "Transportation"),
        }
        assert detail["accounts"][0]["match_confidence"] == 0.9
        assert detail["families_by_org"] == {"apac": ["analytics"]}
        expected_open = {
            i
            for i, o in world.offers.items()
            if o["customer_id"] == "c-multi" and world.sees_offer("analyst-multi@example.com", i)
        }
        assert {r["id"] for r in detail["open_recommendations"]} == expected_open
        emea_only = (await by["analyst-emea@example.com"].get(f"{API}/customers/c-multi")).json()
        assert [a["org_id"] for a in emea_only["accounts"]] == ["emea"] and emea_only["families_by_org"] == {}
        unknown = problem_body(await analyst.get(f"{API}/customers/c-nope"), 404)
        hidden = problem_body(await analyst.get(f"{API}/customers/c-amer"), 404)
        assert unknown["title"] == hidden["title"] and "no customer" in hidden["detail"]
        problem_body(await analyst.get(f"{API}/customers/c-amer/offers"), 404)
        # Readable, but nothing served for it yet: a 404 of its own kind.
        offers = problem_body(await analyst.get(f"{API}/customers/c-multi/offers"), 404)
        assert "features" in offers["detail"]
        problem_body(await analyst.get(f"{API}/customers", params={"cursor": "x"}), 400)


async def test_models_and_features(world_settings: tuple[World, Settings]) -> None:
    _, settings = world_settings
    async with signed_in(settings, USERS) as by:
        admin, analyst, sales = (
            by["admin@example.com"],
            by["analyst-emea@example.com"],
            by["sales-amer@example.com"],
        )
        listed = (await analyst.get(f"{API}/models")).json()
        assert [v["id"] for v in listed["versions"]] == ["m-2", "m-1"] and listed["outcomes"] == []
        assert listed["serving_policy"]["challenger_share"] == 0.0
        assert (await admin.get(f"{API}/models")).json()["outcomes"]
        shown = (await analyst.get(f"{API}/models/m-1")).json()
        assert shown["model"]["stage"] == "champion" and shown["details"] == {"horizon_days": 180}
        assert [h["to_stage"] for h in shown["history"]] == ["candidate", "champion"]
        problem_body(await analyst.get(f"{API}/models/m-9"), 404)
        problem_body(await admin.post(f"{API}/models/rollback"), 400)  # m-1 is the first that served
        promoted = await admin.post(f"{API}/models/m-2/promote", json={"reason": "better"})
        assert promoted.status_code == 200 and promoted.json()["stage"] == "champion"
        problem_body(await admin.post(f"{API}/models/m-9/promote", json={}), 404)
        rolled = (await admin.post(f"{API}/models/rollback", json={"reason": "oops"})).json()
        assert (rolled["archived"]["id"], rolled["restored"]["id"]) == ("m-2", "m-1")
        problem_body(await admin.post(f"{API}/models/m-1/promote", json={}), 422)  # already the champion
        policy = await admin.put(f"{API}/models/ab", json={"challenger_share": 0.2, "salt": "ab-2"})
        assert policy.json() == {"challenger_share": 0.2, "salt": "ab-2"}
        problem_body(await admin.put(f"{API}/models/ab", json={"challenger_share": 0.8}), 400)
        features = (await sales.get(f"{API}/features")).json()
        assert features["feature_set_version"] and {"family_owned"} <= {
            f["name"] for f in features["features"]
        }


async def test_every_route_role_grant_and_method_stays_in_its_orgs(
    world_settings: tuple[World, Settings],
) -> None:
    world, settings = world_settings
    engine = create_engine(settings.database_url or "", 1)

    async def statuses() -> dict[str, str]:
        async with engine.connect() as connection:
            return {
                r.id: r.status
                for r in await connection.execute(select(recommendations.c.id, recommendations.c.status))
            }

    try:
        async with signed_in(settings, USERS) as by:
            for email, client in by.items():
                role = USERS[email][0]
                scope = world.readable(email)
                visible = {i for i in world.offers if world.sees_offer(email, i)}
                listed = await _walk(client, f"{API}/recommendations", {"limit": "11"})
                assert {item["id"] for item in listed} == visible, email
                for item in listed:
                    assert scope is None or all(r["org_id"] in (None, *scope) for r in item["reasons"])
                exported = _csv_ids(await client.get(f"{API}/recommendations/export.csv"))
                assert set(exported) == visible, email
                for org in ORGS:
                    response = await client.get(f"{API}/recommendations", params={"org": org})
                    if scope is None or org in scope:
                        assert response.status_code == 200
                    else:
                        problem_body(response, 404)
                        problem_body(
                            await client.get(f"{API}/recommendations/export.csv", params={"org": org}), 404
                        )
                before = await statuses()
                for offer_id in world.offers:
                    response = await client.get(f"{API}/recommendations/{offer_id}")
                    if offer_id in visible:
                        assert response.status_code == 200
                        continue
                    assert problem_body(response, 404)["detail"] == f"no recommendation {offer_id!r}"
                    for action, body in (
                        ("accept", None),
                        ("dismiss", {"reason": "x"}),
                        ("convert", {"amount": "5"}),
                    ):
                        problem_body(
                            await client.post(f"{API}/recommendations/{offer_id}/{action}", json=body), 404
                        )
                    written = await client.post(
                        f"{API}/recommendations/{offer_id}/write-back",
                        json={"kind": "task"},
                        headers={"Idempotency-Key": f"{email}:{offer_id}"},
                    )
                    assert problem_body(written, 404)["detail"] == f"no recommendation {offer_id!r}"
                    problem_body(await client.get(f"{API}/recommendations/{offer_id}/write-backs"), 404)
                assert await statuses() == before, f"{email} changed an offer it may not read"
                async with engine.connect() as connection:
                    assert (
                        await connection.execute(select(func.count()).select_from(write_backs))
                    ).scalar() == 0

                customers_seen = await _walk(client, f"{API}/customers", {"limit": "50"})
                assert {c["id"] for c in customers_seen} == {
                    c for c in world.members if world.sees_customer(email, c)
                }
                for customer in customers_seen:
                    assert scope is None or set(customer["org_ids"]) <= scope
                for customer_id in world.members:
                    response = await client.get(f"{API}/customers/{customer_id}")
                    offers = await client.get(f"{API}/customers/{customer_id}/offers")
                    timeline = await client.get(f"{API}/customers/{customer_id}/timeline")
                    if not world.sees_customer(email, customer_id):
                        assert problem_body(response, 404)["detail"] == f"no customer {customer_id!r}"
                        assert problem_body(offers, 404)["detail"] == f"no customer {customer_id!r}"
                        assert problem_body(timeline, 404)["detail"] == f"no customer {customer_id!r}"
                        continue
                    assert timeline.status_code == 200, timeline.text
                    assert scope is None or {e["org_id"] for e in timeline.json()["items"]} <= scope
                    body = response.json()
                    assert scope is None or {a["org_id"] for a in body["accounts"]} <= scope
                    assert scope is None or set(body["families_by_org"]) <= scope
                    assert {r["id"] for r in body["open_recommendations"]} <= visible
                    assert problem_body(offers, 404)["detail"].startswith("no served features")

                model_reads = (f"{API}/models", f"{API}/models/m-1")
                model_writes = (
                    ("post", f"{API}/models/m-2/promote", {"challenger": True}),
                    ("post", f"{API}/models/rollback", {}),
                    ("put", f"{API}/models/ab", {"challenger_share": 0.1}),
                )
                for path in model_reads:
                    status = (await client.get(path)).status_code
                    assert status == (403 if role is Role.SALES else 200), (email, path)
                if role is not Role.ADMIN:
                    for method, path, body in model_writes:
                        problem_body(await client.request(method, path, json=body), 403)
                assert (await client.get(f"{API}/features")).status_code == 200

            # Without a token nothing answers but 401.
            anonymous = httpx.AsyncClient(
                transport=by["admin@example.com"]._transport, base_url="http://xsell.test"
            )
            for path in (
                f"{API}/recommendations",
                f"{API}/recommendations/export.csv",
                f"{API}/recommendations/x",
                f"{API}/recommendations/x/write-backs",
                f"{API}/customers",
                f"{API}/customers/c-amer",
                f"{API}/customers/c-amer/offers",
                f"{API}/customers/c-amer/timeline",
                f"{API}/whitespace",
                f"{API}/models",
                f"{API}/features",
            ):
                problem_body(await anonymous.get(path), 401)
            for path in (
                f"{API}/recommendations/x/accept",
                f"{API}/recommendations/x/write-back",
                f"{API}/models/rollback",
                f"{API}/models/m-1/promote",
            ):
                problem_body(await anonymous.post(path, json={}), 401)
            await anonymous.aclose()
    finally:
        await engine.dispose()
