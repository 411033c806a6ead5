"""/api/v1/whitespace and /api/v1/customers/{id}/timeline through the real app, on the recommendations
test's seeded world: counts and values match the seed, grants narrow both, bad input is a 400."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert
from tests.integration.api_support import problem_body, signed_in
from tests.integration.test_api_recommendations import (
    _CUSTOMERS,
    API,
    USERS,
    World,
    _account,
    world_settings,
)

from adapters.persistence.engine import create_engine
from adapters.persistence.tables import activities, opportunities
from domain.ids import SalesforceId
from entrypoints.settings import Settings

__all__ = ["world_settings"]  # the fixture, imported to be found


def _industry(customer_id: str, scope: frozenset[str] | None) -> str | None:
    """The first industry by name of the customer's readable accounts; None when it has none readable."""
    members = [
        (org, industry) for org, _n, industry in _CUSTOMERS[customer_id] if scope is None or org in scope
    ]
    if not members:
        return None
    return min((industry for _org, industry in members if industry), default="Unknown")


def _expected(world: World, email: str) -> dict[tuple[str, str], tuple[int, Decimal]]:
    """(industry, family) -> (customers offered it, summed value) as the seed says the caller sees it."""
    scope = world.readable(email)
    customers: dict[tuple[str, str], set[str]] = defaultdict(set)
    values: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for offer_id, offer in world.offers.items():
        industry = _industry(offer["customer_id"], scope)
        if industry is None or not world.sees_offer(email, offer_id):
            continue
        key = (industry, offer["family_id"])
        customers[key].add(offer["customer_id"])
        values[key] += Decimal(str(offer["expected_value"]))
    return {key: (len(customers[key]), values[key]) for key in customers}


def _offered(body: dict[str, Any]) -> dict[tuple[str, str], tuple[int, Decimal]]:
    return {
        (c["row"], c["family_id"]): (c["recommended"], Decimal(str(c["expected_value"])))
        for c in body["cells"]
        if c["recommended"]
    }


async def test_whitespace_by_industry_matches_the_seed_within_each_callers_grants(
    world_settings: tuple[World, Settings],
) -> None:
    world, settings = world_settings
    async with signed_in(settings, USERS) as by:
        for email in USERS:
            response = await by[email].get(f"{API}/whitespace")
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["by"] == "industry"
            assert _offered(body) == _expected(world, email), email
            scope = world.readable(email)
            industries = defaultdict(int)
            for customer_id in _CUSTOMERS:
                industry = _industry(customer_id, scope)
                if industry is not None:
                    industries[industry] += 1
            assert {r["key"]: r["customers"] for r in body["rows"]} == dict(industries), email
            # Totals add up, per row, per family and overall.
            assert Decimal(str(body["total"])) == sum(
                (Decimal(str(c["expected_value"])) for c in body["cells"]), Decimal(0)
            )
            for row in body["rows"]:
                cells = [c for c in body["cells"] if c["row"] == row["key"]]
                assert Decimal(str(row["expected_value"])) == sum(
                    (Decimal(str(c["expected_value"])) for c in cells), Decimal(0)
                )
                for cell in cells:
                    assert cell["empty"] == max(row["customers"] - cell["owned"] - cell["recommended"], 0)

        # c-multi owns analytics through apac; its first industry is Retail (emea) for the admin.
        admin = (await by["admin@example.com"].get(f"{API}/whitespace")).json()
        owned = {(c["row"], c["family_id"]): c["owned"] for c in admin["cells"] if c["owned"]}
        assert owned == {("Retail", "analytics"): 1}
        # An emea analyst does not see apac's won deal.
        emea = (await by["analyst-emea@example.com"].get(f"{API}/whitespace")).json()
        assert not [c for c in emea["cells"] if c["owned"]]
        nobody = (await by["nobody@example.com"].get(f"{API}/whitespace")).json()
        assert nobody["rows"] == [] and nobody["cells"] == [] and nobody["total"] == 0


async def test_whitespace_by_customer_lists_the_most_valuable_customers_first(
    world_settings: tuple[World, Settings],
) -> None:
    world, settings = world_settings
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for offer in world.offers.values():
        totals[offer["customer_id"]] += Decimal(str(offer["expected_value"]))
    best = sorted(totals, key=lambda c: (-totals[c], c))[:3]
    async with signed_in(settings, USERS) as by:
        response = await by["admin@example.com"].get(
            f"{API}/whitespace", params={"by": "customer", "limit": 3}
        )
        assert response.status_code == 200, response.text
        body = response.json()
    assert [r["key"] for r in body["rows"]] == best
    assert [Decimal(str(r["expected_value"])) for r in body["rows"]] == [totals[c] for c in best]
    assert {r["customers"] for r in body["rows"]} == {1}


async def test_whitespace_refuses_bad_input_and_is_described(world_settings: tuple[World, Settings]) -> None:
    _world, settings = world_settings
    async with signed_in(settings, USERS) as by:
        admin = by["admin@example.com"]
        spec = (await admin.get("/schema/openapi.json")).json()
        for path, names in (
            ("/api/v1/whitespace", {"by", "limit"}),
            ("/api/v1/customers/{customer_id}/timeline", {"customer_id", "limit"}),
        ):
            operation = spec["paths"][path]["get"]
            assert operation["description"] and operation["summary"], path
            assert {p["name"] for p in operation["parameters"]} == names, path
        assert spec["components"]["schemas"]["WhitespaceCellOut"]["properties"]["owned"]["examples"]
        for params in ({"by": "planet"}, {"by": "customer", "limit": 0}, {"limit": 101}, {"rows": "x"}):
            problem_body(await admin.get(f"{API}/whitespace", params=params), 400)


async def _add_history(settings: Settings) -> None:
    """c-multi: an emea task and an apac lost deal beside the seed's apac won deal (undated)."""
    engine = create_engine(settings.database_url, 1)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                insert(activities).values(
                    org_id="emea",
                    external_id=SalesforceId.parse("00T000000000001").value,
                    kind="task",
                    account_external_id=_account(0),
                    subject="Call about analytics",
                    activity_type="Call",
                    status="Completed",
                    activity_at=datetime(2026, 2, 1, 9, tzinfo=UTC),
                    modified_at=datetime(2026, 2, 1, 9, tzinfo=UTC),
                )
            )
            await connection.execute(
                insert(opportunities).values(
                    org_id="apac",
                    external_id=SalesforceId.parse("006000000000002").value,
                    account_external_id=_account(0),
                    name="HR rollout",
                    stage="Closed Lost",
                    amount=Decimal("1200.50"),
                    currency="USD",
                    is_closed=True,
                    close_date=datetime(2026, 1, 15, tzinfo=UTC).date(),
                    modified_at=datetime(2026, 1, 15, tzinfo=UTC),
                )
            )
    finally:
        await engine.dispose()


async def test_timeline_lists_deals_and_activities_newest_first_within_grants(
    world_settings: tuple[World, Settings],
) -> None:
    _world, settings = world_settings
    await _add_history(settings)
    async with signed_in(settings, USERS) as by:
        response = await by["admin@example.com"].get(f"{API}/customers/c-multi/timeline")
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        assert [(e["kind"], e["org_id"], e["title"], e["detail"]) for e in items] == [
            ("task", "emea", "Call about analytics", "Call · Completed"),
            ("opportunity", "apac", "HR rollout", "Closed Lost · 1,200.50 USD"),
            ("opportunity", "apac", None, None),  # undated: last
        ]
        emea = (await by["analyst-emea@example.com"].get(f"{API}/customers/c-multi/timeline")).json()
        assert [e["kind"] for e in emea["items"]] == ["task"]
        limited = await by["admin@example.com"].get(f"{API}/customers/c-multi/timeline", params={"limit": 1})
        assert [e["kind"] for e in limited.json()["items"]] == ["task"]
        problem_body(await by["sales-amer@example.com"].get(f"{API}/customers/c-multi/timeline"), 404)
        problem_body(await by["admin@example.com"].get(f"{API}/customers/nope/timeline"), 404)
        problem_body(
            await by["admin@example.com"].get(f"{API}/customers/c-multi/timeline", params={"limit": 0}), 400
        )
