"""Benchmark (not a test): records per second the fake Salesforce serves to one client.

Stages, each measured in the same run as its baseline:
- Bulk 2.0 CSV: one query job over all accounts, results fetched with httpx in pages of 50,000 records,
  against re-reading the same CSV bytes from memory (what a client could do with no server at all).
- REST paging: `queryAll` followed through `nextRecordsUrl` (2,000 per page) with httpx, against the same
  Bulk 2.0 download (how much slower the JSON path is).

Run: `python -m bench.bench_fake_salesforce` (prints the rows).
"""

from __future__ import annotations

import csv
import io
import time

import httpx

from simulators.salesforce import FakeSalesforceServer, ServerSettings, new_org
from simulators.salesforce.timefmt import format_datetime

__all__ = ["run"]

_RECORDS = 200_000
_SOQL = (
    "SELECT Id, Name, Industry, NumberOfEmployees, Website, OwnerId, IsDeleted, SystemModstamp FROM Account"
)


def _build_org() -> object:
    from datetime import UTC, datetime, timedelta

    org = new_org("bench", 0)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    owner = org.users[0].id
    industries = ("Retail", "Banking", "Energy", None)
    for number in range(_RECORDS):
        stamp = format_datetime(start + timedelta(seconds=number * 7))
        org.data.load(
            "Account",
            {
                "Name": f"Company {number}",
                "Industry": industries[number % 4],
                "NumberOfEmployees": number % 5000,
                "Website": f"company{number}.example.com",
                "OwnerId": owner,
                "CreatedDate": stamp,
                "LastModifiedDate": stamp,
                "SystemModstamp": stamp,
            },
        )
    return org


def _token(server: FakeSalesforceServer) -> httpx.Client:
    org = server.orgs[0]
    body = httpx.post(
        f"{org.instance_url}/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": org.apps[0].client_id,
            "client_secret": org.apps[0].client_secret,
        },
    ).json()
    return httpx.Client(
        base_url=body["instance_url"],
        headers={"Authorization": f"Bearer {body['access_token']}"},
        timeout=120,
    )


def _bulk(client: httpx.Client) -> tuple[float, list[bytes]]:
    started = time.perf_counter()
    job = client.post(
        "/services/data/v59.0/jobs/query", json={"operation": "queryAll", "query": _SOQL}
    ).json()
    while client.get(f"/services/data/v59.0/jobs/query/{job['id']}").json()["state"] != "JobComplete":
        pass
    pages: list[bytes] = []
    locator, count = "", 0
    while locator != "null":
        params = {"maxRecords": "50000", **({"locator": locator} if locator else {})}
        response = client.get(f"/services/data/v59.0/jobs/query/{job['id']}/results", params=params)
        pages.append(response.content)
        count += sum(1 for _ in csv.reader(io.StringIO(response.text))) - 1
        locator = response.headers["sforce-locator"]
    elapsed = time.perf_counter() - started
    assert count == _RECORDS, count
    return _RECORDS / elapsed, pages


def _local_csv(pages: list[bytes]) -> float:
    started = time.perf_counter()
    count = sum(sum(1 for _ in csv.reader(io.StringIO(page.decode()))) - 1 for page in pages)
    return count / (time.perf_counter() - started)


def _rest(client: httpx.Client) -> float:
    started = time.perf_counter()
    page = client.get("/services/data/v59.0/queryAll/", params={"q": _SOQL}).json()
    count = len(page["records"])
    while not page["done"]:
        page = client.get(page["nextRecordsUrl"]).json()
        count += len(page["records"])
    assert count == _RECORDS, count
    return count / (time.perf_counter() - started)


def run() -> list[dict[str, object]]:
    org = _build_org()
    with FakeSalesforceServer([org], ServerSettings(api_versions=("59.0",))) as server:  # type: ignore[list-item]
        client = _token(server)
        bulk_rate, pages = max((_bulk(client) for _ in range(2)), key=lambda result: result[0])
        local_rate = max(_local_csv(pages) for _ in range(3))
        rest_rate = max(_rest(client) for _ in range(2))
    return [
        {
            "stage": "fake Salesforce: Bulk 2.0 CSV, one client (8 columns)",
            "figure": f"{bulk_rate:,.0f} records/s",
            "baseline": f"parsing the same CSV from memory: {local_rate:,.0f} records/s",
            "ratio": round(bulk_rate / local_rate, 3),
        },
        {
            "stage": "fake Salesforce: REST queryAll paging, one client (2,000/page)",
            "figure": f"{rest_rate:,.0f} records/s",
            "baseline": f"Bulk 2.0 CSV from the same server: {bulk_rate:,.0f} records/s",
            "ratio": round(rest_rate / bulk_rate, 3),
        },
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
