"""Fault injection and mutation through the admin endpoint, observed the way a sync would see them."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from simulators.salesforce import FakeSalesforceServer, ServerSettings
from simulators.salesforce.generator import GroupSpec, MemorySink, generate_company_group


@pytest.fixture
def server() -> Iterator[FakeSalesforceServer]:
    sink = MemorySink()
    generate_company_group(GroupSpec(orgs=1, accounts=40, seed=13), sink)
    with FakeSalesforceServer(sink.orgs(), ServerSettings(page_size=5, admin=True)) as running:
        yield running


def client_for(server: FakeSalesforceServer) -> httpx.Client:
    org = server.org("bu1")
    token = httpx.post(
        f"{org.instance_url}/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": org.apps[0].client_id,
            "client_secret": org.apps[0].client_secret,
            "username": org.users[0].username,
            "password": org.users[0].password,
        },
    ).json()
    return httpx.Client(
        base_url=token["instance_url"], headers={"Authorization": f"Bearer {token['access_token']}"}
    )


def fault(server: FakeSalesforceServer, **settings: object) -> httpx.Response:
    response = httpx.post(f"{server.login_url}/__admin/orgs/bu1/faults", json=settings)
    assert response.status_code == 200, response.text
    return response


def query(client: httpx.Client, soql: str, *, all_rows: bool = False) -> httpx.Response:
    return client.get(f"/services/data/v59.0/{'queryAll' if all_rows else 'query'}", params={"q": soql})


def test_errors_resets_and_latency(server: FakeSalesforceServer) -> None:
    client = client_for(server)
    fault(server, error_rate=1.0)
    statuses = {query(client, "SELECT Id FROM Account").status_code for _ in range(12)}
    assert statuses == {500, 503}
    fault(server, error_rate=0, reset_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        query(client, "SELECT Id FROM Account")
    fault(server, reset_rate=0, latency_ms=150)
    response = query(client, "SELECT Id FROM Account LIMIT 1")
    assert response.status_code == 200 and response.elapsed.total_seconds() >= 0.15


def test_query_timeout_for_wide_windows_only(server: FakeSalesforceServer) -> None:
    client = client_for(server)
    fault(server, query_timeout_days=30)
    wide = query(client, "SELECT Id FROM Account WHERE SystemModstamp >= 2020-01-01T00:00:00Z")
    assert wide.status_code == 400
    assert wide.json() == [
        {"message": "Your query request was running for too long.", "errorCode": "QUERY_TIMEOUT"}
    ]
    narrow = query(
        client,
        "SELECT Id FROM Account WHERE SystemModstamp >= 2026-01-01T00:00:00Z AND "
        "SystemModstamp < 2026-01-15T00:00:00Z",
    )
    assert narrow.status_code == 200


def test_field_hidden_mid_sync(server: FakeSalesforceServer) -> None:
    client = client_for(server)
    fault(server, hide_field="Account.Industry@2")
    assert query(client, "SELECT Id, Industry FROM Account").status_code == 200
    describe = client.get("/services/data/v59.0/sobjects/Account/describe").json()
    assert "Industry" not in {field["name"] for field in describe["fields"]}
    hidden = query(client, "SELECT Id, Industry FROM Account")
    assert hidden.status_code == 400 and hidden.json()[0]["errorCode"] == "INVALID_FIELD"


def test_shared_modstamp_straddles_a_page_boundary(server: FakeSalesforceServer) -> None:
    client = client_for(server)
    fault(server, shared_modstamp="Account:8")
    page = query(client, "SELECT Id, SystemModstamp FROM Account ORDER BY SystemModstamp DESC").json()
    first = page["records"]
    second = client.get(page["nextRecordsUrl"]).json()["records"]
    stamps = [record["SystemModstamp"] for record in first + second]
    assert len(set(stamps[:8])) == 1 and stamps[4] == stamps[5]


def test_late_records_appear_after_newer_ones_were_served(server: FakeSalesforceServer) -> None:
    client = client_for(server)
    before = query(
        client, "SELECT Id, SystemModstamp FROM Account ORDER BY SystemModstamp DESC LIMIT 1"
    ).json()
    newest = before["records"][0]["SystemModstamp"]
    fault(server, late_records="Account:2")
    soql = f"SELECT Id, SystemModstamp FROM Account WHERE SystemModstamp < {newest.replace('+0000', 'Z')}"  # noqa: S608 - SOQL against the fake, not SQL
    hidden_pass = query(client, soql).json()["totalSize"]
    later_pass = query(client, soql).json()["totalSize"]
    assert later_pass == hidden_pass + 2


def test_admin_mutations_bump_system_modstamp_and_show_in_query_all(server: FakeSalesforceServer) -> None:
    client = client_for(server)
    admin = f"{server.login_url}/__admin/orgs/bu1/records"
    created = httpx.post(f"{admin}/Account", json={"records": [{"Name": "Fresh Co"}, {"Name": "Other Co"}]})
    assert created.status_code == 201
    fresh, other = created.json()["ids"]
    soql = (
        "SELECT Id, Name, IsDeleted, SystemModstamp FROM Account "  # noqa: S608 - SOQL against the fake, not SQL
        f"WHERE Id IN ('{fresh}', '{other}') ORDER BY Name"
    )
    stamp_before = query(client, soql).json()["records"][0]["SystemModstamp"]
    assert httpx.patch(f"{admin}/Account/{fresh}", json={"Name": "Fresh Company"}).status_code == 200
    assert httpx.delete(f"{admin}/Account/{other}").status_code == 204
    live = query(client, soql).json()["records"]
    assert [record["Name"] for record in live] == ["Fresh Company"]
    assert live[0]["SystemModstamp"] > stamp_before
    everything = query(client, soql, all_rows=True).json()["records"]
    assert [(r["Name"], r["IsDeleted"]) for r in everything] == [("Fresh Company", False), ("Other Co", True)]
    bad = httpx.post(f"{server.login_url}/__admin/orgs/bu1/faults", json={"error_rate": 3})
    assert bad.status_code == 400


def test_bulk_fail_and_exhausted_budget(server: FakeSalesforceServer) -> None:
    client = client_for(server)
    fault(server, bulk_fail=True)
    job = client.post("/services/data/v59.0/jobs/query", json={"query": "SELECT Id FROM Account"}).json()
    states = [client.get(f"/services/data/v59.0/jobs/query/{job['id']}").json() for _ in range(2)]
    assert states[-1]["state"] == "Failed" and states[-1]["errorMessage"]
    fault(server, exhaust_daily_limit=True)
    refused = query(client, "SELECT Id FROM Account")
    assert refused.status_code == 403
    assert refused.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    used, limit = refused.headers["sforce-limit-info"].removeprefix("api-usage=").split("/")
    assert used == limit
