"""Feature builds on real PostgreSQL and Redis: stores agree, the future leaks nowhere, backfills wait."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from redis.asyncio import Redis
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncEngine
from tests.fakes import FakeClock

from adapters.cache.redis_cache import create_redis
from adapters.embedded.services import ServiceUrls
from adapters.features.postgres_offline import PostgresOfflineFeatureStore
from adapters.features.postgres_source import SqlaFeatureSource
from adapters.features.redis_online import FeatureKeys, RedisOnlineFeatureStore
from adapters.features.registry import PandasFeatureRegistry
from adapters.persistence.customer_tables import (
    customer_members,
    customers,
    product_families,
    product_family_mappings,
)
from adapters.persistence.engine import create_engine
from adapters.persistence.tables import (
    accounts,
    activities,
    opportunities,
    opportunity_line_items,
    orgs,
    products,
)
from application.features import BuildFeatures, GetOnlineFeatures

AS_OF = date(2025, 6, 30)
NOW = datetime(2026, 1, 15, tzinfo=UTC)
FAMILIES = ("analytics", "crm-suite", "data-platform")
ORGS = ("bu1", "bu2")


def _sf(prefix: str, n: int) -> str:
    return f"{prefix}{n:015d}"


def _when(rng: np.random.Generator, start: date, days: int) -> datetime:
    return datetime.combine(start, datetime.min.time(), tzinfo=UTC) + timedelta(
        seconds=int(rng.integers(0, days * 86_400))
    )


async def _seed(engine: AsyncEngine, seed: int = 5) -> None:
    """40 customers in two orgs; deals and activities spread over two years around the cutoff."""
    rng = np.random.default_rng(seed)
    start = AS_OF - timedelta(days=500)
    rows: dict[Any, list[dict[str, Any]]] = {t: [] for t in (orgs, accounts, customers, customer_members)}
    for org in ORGS:
        rows[orgs].append(
            {"id": org, "name": org, "kind": "memory", "business_unit": org, "currency": "USD"}
            | {"created_at": NOW}
        )
    n_account = 0
    for c in range(40):
        rows[customers].append({"id": f"cust-{c:03d}", "name": f"Customer {c}", "created_at": NOW})
        for org in ORGS[: 1 + c % 2]:
            created = _when(rng, start - timedelta(days=400), 400)
            rows[accounts].append(
                {
                    "org_id": org,
                    "external_id": _sf("001", n_account),
                    "name": f"Customer {c}",
                    "currency": "USD",
                    "industry": ("Banking", "Retail")[c % 2],
                    "employees": int(rng.integers(10, 5000)),
                    "annual_revenue": float(rng.integers(10**6, 10**9)),
                    "billing_country": "DE",
                    "created_at": created,
                    "modified_at": created,
                }
            )
            rows[customer_members].append(
                {
                    "org_id": org,
                    "external_id": _sf("001", n_account),
                    "customer_id": f"cust-{c:03d}",
                    "confidence": 0.9,
                    "method": "rule",
                    "decided_by": "test",
                    "joined_at": NOW,
                }
            )
            n_account += 1
    families = [{"id": f, "name": f, "created_at": NOW} for f in FAMILIES]
    product_rows, mappings = [], []
    for o, org in enumerate(ORGS):
        for i, family in enumerate(FAMILIES):
            pid = _sf("01t", o * 10 + i)
            product_rows.append({"org_id": org, "external_id": pid, "name": family, "modified_at": NOW})
            mappings.append(
                {
                    "org_id": org,
                    "external_id": pid,
                    "family_id": family,
                    "source": "name",
                    "confidence": 1.0,
                    "confirmed": True,
                    "decided_by": "test",
                    "decided_at": NOW,
                }
            )
    opportunity_rows, item_rows, activity_rows = [], [], []
    for n in range(240):
        account = rows[accounts][int(rng.integers(0, len(rows[accounts])))]
        created = _when(rng, start, 700)
        closed = bool(rng.random() < 0.75)
        close = (created + timedelta(days=int(rng.integers(5, 150)))).date()
        opportunity_rows.append(
            {
                "org_id": account["org_id"],
                "external_id": _sf("006", n),
                "account_external_id": account["external_id"],
                "amount": float(rng.integers(1_000, 90_000)),
                "currency": "USD",
                "is_closed": closed,
                "is_won": closed and bool(rng.random() < 0.5),
                "close_date": close,
                "created_at": created,
                "modified_at": created,
            }
        )
        o = ORGS.index(account["org_id"])
        item_rows.append(
            {
                "org_id": account["org_id"],
                "external_id": _sf("00k", n),
                "opportunity_external_id": _sf("006", n),
                "product_external_id": _sf("01t", o * 10 + int(rng.integers(0, 3))),
                "total_price": float(rng.integers(1_000, 50_000)),
                "created_at": created,
                "modified_at": created,
            }
        )
    for n in range(600):
        account = rows[accounts][int(rng.integers(0, len(rows[accounts])))]
        at = _when(rng, start, 700)
        activity_rows.append(
            {
                "org_id": account["org_id"],
                "external_id": _sf("00T", n),
                "kind": ("task", "event")[n % 2],
                "account_external_id": account["external_id"],
                "activity_type": ("Call", "Email", "Other")[n % 3],
                "activity_at": at,
                "created_at": at + timedelta(hours=int(rng.integers(0, 72))),
                "modified_at": at,
            }
        )
    async with engine.begin() as connection:
        for table in (orgs, accounts, customers, customer_members):
            await connection.execute(insert(table), rows[table])
        await connection.execute(insert(product_families), families)
        await connection.execute(insert(products), product_rows)
        await connection.execute(insert(product_family_mappings), mappings)
        await connection.execute(insert(opportunities), opportunity_rows)
        await connection.execute(insert(opportunity_line_items), item_rows)
        await connection.execute(insert(activities), activity_rows)


async def _add_the_future(engine: AsyncEngine) -> None:
    """New records after the cutoff, and old records modified after it (as a later sync would bring)."""
    cutoff = datetime.combine(AS_OF + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    later = cutoff + timedelta(days=20)
    async with engine.begin() as connection:
        # Deals open at the cutoff are won afterwards.
        await connection.execute(
            update(opportunities)
            .where(opportunities.c.created_at < cutoff, ~opportunities.c.is_closed)
            .values(is_closed=True, is_won=True, close_date=later.date(), modified_at=NOW)
        )
        await connection.execute(
            insert(opportunities),
            [
                {
                    "org_id": "bu1",
                    "external_id": _sf("006", 900 + n),
                    "account_external_id": _sf("001", n),
                    "amount": 1e6,
                    "is_closed": True,
                    "is_won": True,
                    "close_date": later.date(),
                    "created_at": later,
                    "modified_at": later,
                }
                for n in (0, 2, 4)
            ],
        )
        await connection.execute(
            insert(opportunity_line_items),
            [
                {
                    "org_id": "bu1",
                    "external_id": _sf("00k", 900 + n),
                    "opportunity_external_id": _sf("006", 900 + n),
                    "product_external_id": _sf("01t", 2),
                    "total_price": 1e6,
                    "created_at": later,
                    "modified_at": later,
                }
                for n in (0, 2, 4)
            ],
        )
        await connection.execute(
            insert(activities),
            [
                {
                    "org_id": "bu1",
                    "external_id": _sf("00T", 900 + n),
                    "kind": "event",
                    "account_external_id": _sf("001", n),
                    # One dated after the cutoff, one dated before it but logged after it.
                    "activity_at": later if n % 2 else cutoff - timedelta(days=2),
                    "created_at": later,
                    "modified_at": later,
                }
                for n in range(6)
            ],
        )
        await connection.execute(
            insert(accounts),
            {
                "org_id": "bu2",
                "external_id": _sf("001", 999),
                "name": "Newcomer",
                "currency": "USD",
                "employees": 10,
                "created_at": later,
                "modified_at": later,
            },
        )
        await connection.execute(insert(customers), {"id": "cust-new", "created_at": NOW})
        await connection.execute(
            insert(customer_members),
            {
                "org_id": "bu2",
                "external_id": _sf("001", 999),
                "customer_id": "cust-new",
                "confidence": 1.0,
                "method": "rule",
                "decided_by": "test",
                "joined_at": NOW,
            },
        )


class Stores:
    def __init__(self, engine: AsyncEngine, client: Redis) -> None:
        self.registry = PandasFeatureRegistry()
        self.offline = PostgresOfflineFeatureStore(engine, chunk_rows=7)  # several COPY chunks
        self.online = RedisOnlineFeatureStore(client, FeatureKeys(f"test-{uuid.uuid4().hex[:8]}"), chunk=7)
        self.build = BuildFeatures(
            SqlaFeatureSource(engine), self.registry, self.offline, self.online, FakeClock(NOW)
        )
        self.version = self.registry.layout().feature_set_version


@pytest.fixture
async def stores(database_url: str, services: ServiceUrls) -> AsyncIterator[Stores]:
    engine = create_engine(database_url, pool_size=2)
    client = create_redis(services.redis_url)
    await _seed(engine)
    try:
        yield Stores(engine, client)
    finally:
        await client.aclose()
        await engine.dispose()


def _customer_ids() -> list[str]:
    return [f"cust-{c:03d}" for c in range(40)]


async def test_one_build_fills_both_stores_with_identical_vectors(stores: Stores) -> None:
    report = await stores.build.execute(AS_OF)
    assert (report.customers, report.families, report.served_online) == (40, 3, True)
    ids = _customer_ids()
    offline = await stores.offline.read(stores.version, AS_OF, ids)
    online = await stores.online.read(stores.version, ids)
    assert all(vector is not None for vector in offline)
    assert online == offline
    loaded = await stores.offline.load(stores.version, AS_OF)  # what training reads
    assert loaded is not None
    assert [loaded.vector(i) for i in range(len(loaded.customer_ids))] == offline
    assert loaded.layout == stores.registry.layout()
    assert await stores.offline.load(stores.version, AS_OF - timedelta(days=1)) is None
    assert await stores.offline.read(stores.version, AS_OF, ["nobody"]) == [None]

    named = await GetOnlineFeatures(stores.registry, stores.online).execute(["cust-001", "nobody"])
    assert set(named) == {"cust-001"}
    features = named["cust-001"]
    assert features.as_of == AS_OF
    assert features.values["orgs_present"] == 2.0
    assert set(features.families) == set(FAMILIES)
    assert set(features.families["crm-suite"]) == set(stores.registry.layout().pair_numbers)


async def test_records_dated_or_modified_after_the_cutoff_change_nothing(
    stores: Stores, database_url: str
) -> None:
    await stores.build.execute(AS_OF)
    ids = [*_customer_ids(), "cust-new"]
    before = await stores.offline.read(stores.version, AS_OF, ids)
    assert before[-1] is None  # the newcomer does not exist yet

    engine = create_engine(database_url, pool_size=1)
    try:
        await _add_the_future(engine)
    finally:
        await engine.dispose()
    report = await stores.build.execute(AS_OF)
    assert report.customers == 40
    assert await stores.offline.read(stores.version, AS_OF, ids) == before
    assert await stores.online.read(stores.version, ids) == before

    # ... while a later cutoff does see them.
    later = await stores.build.execute(AS_OF + timedelta(days=60))
    assert later.customers == 41


async def test_a_backfill_fills_the_offline_store_but_keeps_serving_the_latest(stores: Stores) -> None:
    latest, older = AS_OF, AS_OF - timedelta(days=90)
    assert (await stores.build.execute(latest)).served_online
    report = await stores.build.execute(older)
    assert not report.served_online
    assert await stores.online.served_as_of(stores.version) == latest
    assert await stores.offline.as_of_dates(stores.version) == [older, latest]
    online = await stores.online.read(stores.version, ["cust-000"])
    assert online == await stores.offline.read(stores.version, latest, ["cust-000"])
    assert online != await stores.offline.read(stores.version, older, ["cust-000"])


async def test_a_rebuild_of_the_served_date_replaces_the_served_generation(stores: Stores) -> None:
    await stores.build.execute(AS_OF)
    first = await stores.online.read(stores.version, ["cust-000"])
    await stores.build.execute(AS_OF)
    assert await stores.online.read(stores.version, ["cust-000"]) == first
    assert await stores.offline.as_of_dates(stores.version) == [AS_OF]
