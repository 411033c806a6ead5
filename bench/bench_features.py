"""Feature build for 300k customers x 20 families as of one cutoff, against a per-row Python loop baseline.

Synthetic frames of the target size are built directly (generating them through the fake Salesforce would
take far longer than the computation). The baseline computes just two of the features (won_count,
activities_30d) the naive way, one record at a time in Python, in the same run.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import msgspec
import numpy as np
import pandas as pd

from adapters.cache.redis_cache import create_redis
from adapters.embedded.services import running_services
from adapters.features.postgres_offline import PostgresOfflineFeatureStore
from adapters.features.redis_online import FeatureKeys, RedisOnlineFeatureStore
from adapters.features.registry import PandasFeatureRegistry
from adapters.features.vector_codec import pack
from adapters.persistence.engine import create_engine
from adapters.persistence.feature_tables import customer_feature_vectors
from adapters.persistence.migrations import upgrade
from application.features.model import FeatureBatch, FeatureInputs, cutoff_instant

CUSTOMERS = 300_000
FAMILIES = 20
AS_OF = date(2026, 6, 30)
WRITTEN = 50_000  # customers written to each store (the whole batch needs ~0.6 GB of Redis)
SAMPLE = 2_000  # rows written one at a time for the baselines


def synthetic_inputs(customers: int, families: int, as_of: date, seed: int = 7) -> FeatureInputs:
    """Frames shaped like a synced group: per customer ~1.4 accounts, 5 opportunities, 12 activities."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp(as_of, tz="UTC") - pd.Timedelta(days=5 * 365)
    span_ns = int(pd.Timedelta(days=5 * 365 + 120).value)
    family_ids = tuple(f"family-{i:02d}" for i in range(families))
    orgs = np.array(["org-a", "org-b", "org-c"])

    n_accounts = int(customers * 1.4)
    account_customer = np.concatenate(
        [np.arange(customers), rng.integers(0, customers, n_accounts - customers)]
    )
    account_ids = np.char.add("001", np.arange(n_accounts).astype(str))
    account_org = orgs[rng.integers(0, len(orgs), n_accounts)]
    industries = np.array(
        ["Banking", "Retail", "Energy", "Healthcare", "Manufacturing", "Technology", "Media", "Education"]
    )
    members = pd.DataFrame(
        {
            "customer_id": np.char.add("cust-", account_customer.astype(str)),
            "org_id": account_org,
            "account_id": account_ids,
            "confidence": rng.uniform(0.8, 1.0, n_accounts),
        }
    )
    accounts = pd.DataFrame(
        {
            "org_id": account_org,
            "account_id": account_ids,
            "industry": industries[rng.integers(0, len(industries), n_accounts)],
            "employees": rng.lognormal(5, 1.5, n_accounts).astype(int),
            "annual_revenue": rng.lognormal(15, 1.5, n_accounts),
            "country": np.array(["US", "DE", "FR", "GB", "JP"])[rng.integers(0, 5, n_accounts)],
            "created_at": start + pd.to_timedelta(rng.integers(0, span_ns // 2, n_accounts), unit="ns"),
        }
    )
    products = pd.DataFrame(
        {
            "org_id": np.repeat(orgs, families * 2),
            "product_id": [f"01t{o}{i:03d}" for o in range(len(orgs)) for i in range(families * 2)],
            "family_id": [family_ids[i % families] for _ in orgs for i in range(families * 2)],
        }
    )
    n_opps = customers * 5
    opp_account = rng.integers(0, n_accounts, n_opps)
    created = start + pd.to_timedelta(rng.integers(0, span_ns, n_opps), unit="ns")
    closed = rng.random(n_opps) < 0.8
    close = (created + pd.to_timedelta(rng.integers(5, 200, n_opps), unit="D")).normalize()
    opportunities = pd.DataFrame(
        {
            "org_id": account_org[opp_account],
            "opportunity_id": np.char.add("006", np.arange(n_opps).astype(str)),
            "account_id": account_ids[opp_account],
            "amount": rng.lognormal(10, 1, n_opps).round(2),
            "is_closed": closed,
            "is_won": closed & (rng.random(n_opps) < 0.4),
            "close_date": close.date,
            "created_at": created,
        }
    )
    n_items = int(n_opps * 1.5)
    item_opp = rng.integers(0, n_opps, n_items)
    item_org = opportunities["org_id"].to_numpy()[item_opp]
    org_index = pd.Index(orgs).get_indexer(item_org)
    product_pick = rng.integers(0, families * 2, n_items)
    items = pd.DataFrame(
        {
            "org_id": item_org,
            "line_item_id": np.char.add("00k", np.arange(n_items).astype(str)),
            "opportunity_id": opportunities["opportunity_id"].to_numpy()[item_opp],
            "product_id": products["product_id"].to_numpy()[org_index * families * 2 + product_pick],
            "total_price": rng.lognormal(9, 1, n_items).round(2),
            "created_at": opportunities["created_at"].to_numpy()[item_opp],
        }
    )
    n_acts = customers * 12
    act_account = rng.integers(0, n_accounts, n_acts)
    act_at = start + pd.to_timedelta(rng.integers(0, span_ns, n_acts), unit="ns")
    activities = pd.DataFrame(
        {
            "org_id": account_org[act_account],
            "account_id": account_ids[act_account],
            "kind": np.where(rng.random(n_acts) < 0.3, "event", "task"),
            "activity_type": np.array(["Call", "Email", "Other"])[rng.integers(0, 3, n_acts)],
            "activity_at": act_at,
            "created_at": act_at + pd.to_timedelta(rng.integers(0, 3 * 86_400, n_acts), unit="s"),
        }
    )
    return FeatureInputs(as_of, family_ids, members, accounts, products, opportunities, items, activities)


def _loop_baseline(inputs: FeatureInputs) -> float:
    """Seconds for won_count and activities_30d of every customer, one record at a time in Python dicts."""
    cutoff = cutoff_instant(inputs.as_of)
    recent = cutoff - timedelta(days=30)
    started = time.perf_counter()
    customer_of = {
        (row.org_id, row.account_id): row.customer_id for row in inputs.members.itertuples(index=False)
    }
    created = {
        (row.org_id, row.account_id): row.created_at for row in inputs.accounts.itertuples(index=False)
    }
    won: dict[str, int] = {}
    for o in inputs.opportunities.itertuples(index=False):
        customer = customer_of.get((o.org_id, o.account_id))
        if (
            customer is not None
            and created[(o.org_id, o.account_id)] < cutoff
            and o.created_at < cutoff
            and o.is_closed
            and o.is_won
            and o.close_date <= inputs.as_of
        ):
            won[customer] = won.get(customer, 0) + 1
    active: dict[str, int] = {}
    for a in inputs.activities.itertuples(index=False):
        customer = customer_of.get((a.org_id, a.account_id))
        if customer is not None and a.created_at < cutoff and recent <= a.activity_at < cutoff:
            active[customer] = active.get(customer, 0) + 1
    return time.perf_counter() - started


def _head(batch: FeatureBatch, rows: int) -> FeatureBatch:
    return dataclasses.replace(
        batch,
        customer_ids=batch.customer_ids[:rows],
        numbers=batch.numbers[:rows],
        labels=batch.labels[:rows],
        pair_numbers=batch.pair_numbers[:rows],
    )


async def _writes(batch: FeatureBatch, database_url: str, redis_url: str) -> dict[str, float]:
    """Seconds: COPY vs row-by-row INSERT into PostgreSQL, pipelined vs one-by-one SET into Redis."""
    engine = create_engine(database_url, pool_size=2)
    client = create_redis(redis_url)
    timings: dict[str, float] = {}
    try:
        registry = PandasFeatureRegistry()
        offline = PostgresOfflineFeatureStore(engine)
        started = time.perf_counter()
        await offline.write(_head(batch, WRITTEN), registry.definitions())
        timings["copy"] = time.perf_counter() - started
        sample = _head(batch, SAMPLE)
        rows = [
            {
                "feature_set_version": "baseline",
                "as_of": sample.as_of,
                "customer_id": sample.customer_ids[i],
                "numbers": pack(sample.numbers[i]),
                "labels": sample.labels[i].tolist(),
                "pair_numbers": pack(sample.pair_numbers[i]),
            }
            for i in range(SAMPLE)
        ]
        async with engine.begin() as connection:
            await connection.exec_driver_sql("SET session_replication_role = replica")  # no FK to a build
            started = time.perf_counter()
            for row in rows:
                await connection.execute(customer_feature_vectors.insert().values(**row))
            timings["insert"] = (time.perf_counter() - started) * WRITTEN / SAMPLE
        online = RedisOnlineFeatureStore(client, FeatureKeys("bench"))
        started = time.perf_counter()
        await online.publish(_head(batch, WRITTEN))
        timings["pipeline"] = time.perf_counter() - started
        started = time.perf_counter()
        for i in range(SAMPLE):
            value = (pack(sample.numbers[i]), sample.labels[i].tolist(), pack(sample.pair_numbers[i]))
            await client.set(f"bench:one:{i}", msgspec.msgpack.encode(value))
        timings["sequential"] = (time.perf_counter() - started) * WRITTEN / SAMPLE
    finally:
        await client.aclose()
        await engine.dispose()
    return timings


def run() -> list[dict[str, object]]:
    started = time.perf_counter()
    inputs = synthetic_inputs(CUSTOMERS, FAMILIES, AS_OF)
    print(f"  synthetic frames in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    registry = PandasFeatureRegistry()
    started = time.perf_counter()
    batch = registry.compute(inputs)
    seconds = time.perf_counter() - started
    values = batch.numbers.size + batch.pair_numbers.size + batch.labels.size
    baseline = _loop_baseline(inputs)
    with tempfile.TemporaryDirectory() as data, running_services(None, None, Path(data)) as urls:
        upgrade(urls.database_url)
        writes = asyncio.run(_writes(batch, urls.database_url, urls.redis_url))
    return [
        {
            "stage": f"features: {CUSTOMERS:,} customers x {FAMILIES} families, "
            f"{len(registry.definitions())} features",
            "figure": f"{seconds:.1f} s ({values / seconds / 1e6:.1f}M values/s; target <= 60 s)",
            "baseline": f"{baseline:.1f} s (Python loop over the records, 2 of the features)",
            "ratio": baseline / seconds,
        },
        {
            "stage": f"offline store: write {WRITTEN:,} customer vectors (PostgreSQL)",
            "figure": f"{writes['copy']:.1f} s (COPY, {WRITTEN / writes['copy']:,.0f} /s)",
            "baseline": f"{writes['insert']:.1f} s (one INSERT per vector, from {SAMPLE:,})",
            "ratio": writes["insert"] / writes["copy"],
        },
        {
            "stage": f"online store: publish {WRITTEN:,} customer vectors (Redis)",
            "figure": f"{writes['pipeline']:.1f} s (pipelines, {WRITTEN / writes['pipeline']:,.0f} /s)",
            "baseline": f"{writes['sequential']:.1f} s (one SET per round trip, from {SAMPLE:,})",
            "ratio": writes["sequential"] / writes["pipeline"],
        },
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
