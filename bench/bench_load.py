"""Load: 60 s of sustained, mixed API traffic from a separate process against the real API on a real
PostgreSQL and Redis; every answer that is not 200 counts as an unexpected error, and latency is reported
by endpoint (p50, p95, p99).

The server, its seeded data (10,000 offers in 3 orgs) and the keep-alive client are those of
bench_api.py. Each connection walks the endpoint list from its own starting point, one request in flight,
as fast as the server answers; the list mixes cached and uncached recommendation pages, an offer's
detail, the customer search, accounts, models, features, orgs, sync runs, jobs and readiness.

    python -m bench.bench_load             # the rows `make bench` prints
    python -m bench.bench_load load ...    # (internal) the load process
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from typing import Any

import httpx
import numpy as np

from bench.bench_api import keep_alive_connection, serving_api

SECONDS = 60.0
CONNECTIONS = 8


def _endpoints(offer_id: str) -> list[tuple[str, str]]:
    """(label, path) pairs; `{n}` in a path becomes a number unique to the request (a cache miss)."""
    return [
        ("recommendations (cached)", "/api/v1/recommendations"),
        ("recommendations filtered (cached)", "/api/v1/recommendations?family=crm&min_probability=0.5"),
        ("recommendations (uncached)", "/api/v1/recommendations?min_value=1.{n:06d}"),
        ("recommendation detail", f"/api/v1/recommendations/{offer_id}"),
        ("customers search", "/api/v1/customers?q=c&limit=20"),
        ("accounts", "/api/v1/accounts?limit=50"),
        ("models", "/api/v1/models"),
        ("features", "/api/v1/features"),
        ("orgs", "/api/v1/orgs"),
        ("sync runs", "/api/v1/orgs/emea/sync-runs"),
        ("jobs", "/api/v1/jobs"),
        ("ready", "/ready"),
    ]


async def _load(port: int, token: str, offer_id: str, seconds: float) -> dict[str, Any]:
    endpoints = _endpoints(offer_id)
    connections = [await keep_alive_connection(port, token) for _ in range(CONNECTIONS)]
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    counter = iter(range(10**9))
    until = time.perf_counter() + seconds

    async def worker(index: int) -> None:
        connection, step = connections[index], index
        while time.perf_counter() < until:
            label, path = endpoints[step % len(endpoints)]
            step += 1
            started = time.perf_counter()
            status = await connection.get(path.format(n=next(counter)))
            latencies[label].append(time.perf_counter() - started)
            if status != 200:
                errors[label][status] += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(CONNECTIONS)))
    elapsed = time.perf_counter() - started
    for connection in connections:
        connection.close()
    report: dict[str, Any] = {"seconds": elapsed, "endpoints": {}}
    for label, _ in endpoints:
        ordered = np.sort(np.array(latencies[label])) * 1000
        report["endpoints"][label] = {
            "requests": len(ordered),
            "p50_ms": float(np.percentile(ordered, 50)),
            "p95_ms": float(np.percentile(ordered, 95)),
            "p99_ms": float(np.percentile(ordered, 99)),
            "errors": dict(errors[label]),
        }
    return report


def run() -> list[dict[str, object]]:
    with serving_api() as (port, token):
        first = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/recommendations?limit=1",
            headers={"Authorization": f"Bearer {token}"},
        )
        offer_id = first.json()["items"][0]["id"]
        command = [sys.executable, "-m", "bench.bench_load", "load", str(port), token, offer_id]
        done = subprocess.run(command, check=True, capture_output=True, text=True, env=os.environ)
        report = json.loads(done.stdout)
    endpoints = report["endpoints"]
    total = sum(e["requests"] for e in endpoints.values())
    unexpected = sum(sum(e["errors"].values()) for e in endpoints.values())
    for label, e in endpoints.items():
        print(
            f"  {label}: {e['requests']:,} requests, p50 {e['p50_ms']:.1f} ms, p95 {e['p95_ms']:.1f} ms,"
            f" p99 {e['p99_ms']:.1f} ms, errors {e['errors'] or 0}",
            file=sys.stderr,
        )
    rows: list[dict[str, object]] = [
        {
            "stage": f"load: {report['seconds']:.0f} s mixed API traffic, {CONNECTIONS} connections,"
            f" {len(endpoints)} endpoints, {total:,} requests",
            "figure": f"{unexpected} unexpected errors ({total / report['seconds']:,.0f} req/s)",
            "baseline": "target 0 errors",
            "ratio": 1.0 - unexpected / max(total, 1),
        }
    ]
    for label, e in endpoints.items():
        rows.append(
            {
                "stage": f"load: {label}",
                "figure": f"p50 {e['p50_ms']:.1f} / p95 {e['p95_ms']:.1f} / p99 {e['p99_ms']:.1f} ms",
                "baseline": f"{e['requests']:,} requests, {sum(e['errors'].values())} errors",
                "ratio": e["p99_ms"] / max(e["p50_ms"], 1e-9),
            }
        )
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["load"]:
        port_, token_, offer_ = int(sys.argv[2]), sys.argv[3], sys.argv[4]
        print(json.dumps(asyncio.run(_load(port_, token_, offer_, SECONDS))))
    else:
        for row in run():
            print(row)
