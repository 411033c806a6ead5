"""Raw HTTP (httpx) against the fake: exact wire shapes, headers, error envelopes and the admin endpoint.

The expected shapes are written here from Salesforce's documented and recorded responses (REST query
pages, OAuth/SOAP errors, Bulk 2.0 job info and result headers)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from simulators.salesforce import FakeSalesforceServer, ServerSettings
from simulators.salesforce.generator import GroupSpec, MemorySink, generate_company_group

REST_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
LIMIT_INFO = re.compile(r"^api-usage=\d+/\d+$")
JOB_INFO_KEYS = {
    "id",
    "operation",
    "object",
    "createdById",
    "createdDate",
    "systemModstamp",
    "state",
    "concurrencyMode",
    "contentType",
    "apiVersion",
    "lineEnding",
    "columnDelimiter",
}


@pytest.fixture(scope="module")
def server() -> Iterator[FakeSalesforceServer]:
    sink = MemorySink()
    generate_company_group(GroupSpec(orgs=3, accounts=90, seed=21), sink)
    with FakeSalesforceServer(sink.orgs(), ServerSettings(page_size=10, admin=True)) as running:
        yield running


def login(server: FakeSalesforceServer, org_name: str) -> tuple[httpx.Client, str]:
    org = server.org(org_name)
    response = httpx.post(
        f"{server.login_url}/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": org.apps[0].client_id,
            "client_secret": org.apps[0].client_secret,
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "access_token",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
        "signature",
        "scope",
    }
    assert body["instance_url"] == org.instance_url
    client = httpx.Client(
        base_url=body["instance_url"], headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    return client, body["instance_url"]


def test_query_pages_have_salesforce_shape_and_headers(server: FakeSalesforceServer) -> None:
    client, _ = login(server, "bu1")
    first = client.get(
        "/services/data/v59.0/query/",
        params={
            "q": "SELECT Id, Name, Website, CreatedDate, "
            "NumberOfEmployees, Owner.Name FROM Account ORDER BY SystemModstamp, Id"
        },
    )
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/json;charset=UTF-8"
    assert LIMIT_INFO.match(first.headers["sforce-limit-info"])
    page = first.json()
    assert list(page) == ["totalSize", "done", "nextRecordsUrl", "records"]
    assert page["done"] is False and len(page["records"]) == 10
    assert re.fullmatch(r"/services/data/v59\.0/query/01g\w{15}-10", page["nextRecordsUrl"])
    record = page["records"][0]
    assert list(record) == [
        "attributes",
        "Id",
        "Name",
        "Website",
        "CreatedDate",
        "NumberOfEmployees",
        "Owner",
    ]
    assert set(record["attributes"]) == {"type", "url"}
    assert REST_DATETIME.match(record["CreatedDate"])
    assert any(r["Website"] is None for r in page["records"]) or all("Website" in r for r in page["records"])
    seen = [r["Id"] for r in page["records"]]
    while not page["done"]:
        page = client.get(page["nextRecordsUrl"]).json()
        seen += [r["Id"] for r in page["records"]]
    assert "nextRecordsUrl" not in page
    assert len(seen) == len(set(seen)) == page["totalSize"]


def test_query_more_with_a_bad_locator_is_invalid_query_locator(server: FakeSalesforceServer) -> None:
    client, _ = login(server, "bu1")
    response = client.get("/services/data/v59.0/query/01gA00000000000AAA-2000")
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_error_envelopes(server: FakeSalesforceServer) -> None:
    client, _ = login(server, "bu1")
    malformed = client.get("/services/data/v59.0/query", params={"q": "SELECT Id, From Account"})
    assert malformed.status_code == 400
    [error] = malformed.json()
    assert set(error) == {"message", "errorCode"} and error["errorCode"] == "MALFORMED_QUERY"
    assert "ERROR at Row:1:Column:" in error["message"]
    assert client.get("/services/data/v59.0/sobjects/Widget/describe").json() == [
        {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}
    ]
    unauthorised = httpx.get(f"{server.org('bu1').instance_url}/services/data/v59.0/limits")
    assert unauthorised.status_code == 401
    assert unauthorised.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    bad_grant = httpx.post(f"{server.login_url}/services/oauth2/token", data={"grant_type": "magic"})
    assert bad_grant.status_code == 400
    assert bad_grant.json() == {
        "error": "unsupported_grant_type",
        "error_description": "grant type not supported",
    }
    soap = httpx.post(
        f"{server.login_url}/services/Soap/u/59.0",
        content="<login><username>x</username><password>y</password></login>",
        headers={"SOAPAction": "login"},
    )
    assert soap.status_code == 500
    assert "<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>" in soap.text


def test_limits_and_versions(server: FakeSalesforceServer) -> None:
    client, _ = login(server, "bu3")
    limits = client.get("/services/data/v59.0/limits/").json()
    assert set(limits["DailyApiRequests"]) == {"Max", "Remaining"}
    versions = httpx.get(f"{server.login_url}/services/data/").json()
    assert {"label", "url", "version"} == set(versions[0])
    assert "59.0" in {version["version"] for version in versions}


def test_bulk_job_lifecycle_and_result_headers(server: FakeSalesforceServer) -> None:
    client, _ = login(server, "bu2")
    created = client.post(
        "/services/data/v59.0/jobs/query",
        json={"operation": "queryAll", "query": "SELECT Id, Name, Owner.Name FROM Contact"},
    )
    assert created.status_code == 200
    job = created.json()
    assert set(job) == JOB_INFO_KEYS and job["state"] == "UploadComplete" and job["id"].startswith("750")
    states = [client.get(f"/services/data/v59.0/jobs/query/{job['id']}").json()["state"] for _ in range(3)]
    assert states == ["InProgress", "JobComplete", "JobComplete"]
    total = len(server.org("bu2").data.tables["Contact"].rows)
    locator, seen = "", 0
    while locator != "null":
        params = {"maxRecords": "50", **({"locator": locator} if locator else {})}
        page = client.get(f"/services/data/v59.0/jobs/query/{job['id']}/results", params=params)
        assert page.headers["content-type"] == "text/csv"
        assert page.text.startswith('"Id","Name","Owner.Name"\n')
        count = int(page.headers["sforce-numberofrecords"])
        assert page.text.count("\n") == count + 1
        seen += count
        locator = page.headers["sforce-locator"]
    assert seen == total
    missing = client.get("/services/data/v59.0/jobs/query/750A00000000000AAA")
    assert missing.status_code == 404 and missing.json()[0]["errorCode"] == "NOT_FOUND"


def test_admin_endpoint_is_off_unless_enabled() -> None:
    sink = MemorySink()
    generate_company_group(GroupSpec(orgs=1, accounts=5, seed=1), sink)
    with FakeSalesforceServer(sink.orgs()) as running:
        assert httpx.get(f"{running.login_url}/__admin/orgs").status_code == 404
