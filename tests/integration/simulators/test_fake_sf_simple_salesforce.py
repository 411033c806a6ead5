"""Conformance with the real simple-salesforce client: every login flow, paging, queryAll, Bulk 2.0,
create, describe, and the exceptions it raises for the fake's errors."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from simulators.salesforce import FakeSalesforceServer, ServerSettings, connect_simple_salesforce, new_org
from simulators.salesforce.client import salesforce_session
from simulators.salesforce.generator import GroupSpec, MemorySink, generate_company_group


@pytest.fixture(scope="module")
def server() -> Iterator[FakeSalesforceServer]:
    sink = MemorySink()
    generate_company_group(GroupSpec(orgs=2, accounts=120, seed=9), sink)
    orgs = sink.orgs()
    with FakeSalesforceServer(orgs, ServerSettings(page_size=25, admin=True)) as running:
        yield running


@pytest.mark.parametrize("flow", ["password", "client_credentials", "jwt", "soap"])
def test_every_login_flow_reaches_its_org(server: FakeSalesforceServer, flow: str) -> None:
    sf = connect_simple_salesforce(server, "bu2", flow=flow)
    assert sf.sf_instance == server.org("bu2").instance_url.split("://")[1]
    result = sf.query("SELECT COUNT() FROM Account")
    assert result["totalSize"] == len(server.org("bu2").data.tables["Account"].rows)


def test_jwt_with_key_file_as_printed_by_the_cli(server: FakeSalesforceServer, tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    key.write_bytes(server.org("bu1").apps[0].private_key_pem)
    sf = connect_simple_salesforce(server, "bu1", flow="jwt", key_file=key)
    assert sf.query("SELECT Id FROM User LIMIT 1")["totalSize"] == 1


def test_bad_credentials_raise_authentication_failed(server: FakeSalesforceServer) -> None:
    session = salesforce_session(server)
    with pytest.raises(SalesforceAuthenticationFailed, match="invalid_client_id"):
        Salesforce(username="x", password="y", consumer_key="nope", consumer_secret="z", session=session)
    org = server.org("bu1")
    with pytest.raises(SalesforceAuthenticationFailed, match="authentication failure"):
        Salesforce(
            username=org.users[0].username,
            password="wrong",
            consumer_key=org.apps[0].client_id,
            consumer_secret=org.apps[0].client_secret,
            session=session,
        )
    with pytest.raises(SalesforceAuthenticationFailed, match="INVALID_LOGIN"):
        Salesforce(username=org.users[0].username, password="wrong", security_token="t", session=session)


def test_query_all_iter_pages_through_every_record(server: FakeSalesforceServer) -> None:
    sf = connect_simple_salesforce(server, "bu1")
    records = list(sf.query_all_iter("SELECT Id, Name, Owner.Name FROM Account ORDER BY Id"))
    expected = [row[0] for row in server.org("bu1").data.tables["Account"].rows]
    assert [record["Id"] for record in records] == sorted(expected)
    assert all(record["Owner"]["attributes"]["type"] == "User" for record in records)
    assert sf.api_usage["api-usage"].total == server.org("bu1").api_max


def test_query_all_with_include_deleted_returns_soft_deleted_rows(server: FakeSalesforceServer) -> None:
    sf = connect_simple_salesforce(server, "bu1")
    victim = sf.query("SELECT Id FROM Contact ORDER BY Id LIMIT 1")["records"][0]["Id"]
    assert sf.Contact.delete(victim) == 204
    live = sf.query_all(f"SELECT Id FROM Contact WHERE Id = '{victim}'")  # noqa: S608 - SOQL against the fake, not SQL
    assert live["totalSize"] == 0
    everything = sf.query_all(
        f"SELECT Id, IsDeleted FROM Contact WHERE Id = '{victim}'",  # noqa: S608 - SOQL, not SQL
        include_deleted=True,
    )
    assert [(r["Id"], r["IsDeleted"]) for r in everything["records"]] == [(victim, True)]


def test_bulk2_query_with_wait_zero_yields_csv_pages(server: FakeSalesforceServer) -> None:
    sf = connect_simple_salesforce(server, "bu1")
    pages = list(
        sf.bulk2.Opportunity.query(
            "SELECT Id, Name, Account.Name, IsWon, CloseDate, SystemModstamp FROM Opportunity",
            max_records=40,
            wait=0,
        )
    )
    rows = [row for page in pages for row in csv.DictReader(io.StringIO(page))]
    table = server.org("bu1").data.tables["Opportunity"]
    live = [row for row in table.rows if not row[table.columns["IsDeleted"]]]
    assert len(rows) == len(live)
    assert len(pages) == -(-len(live) // 40)
    assert all(
        page.startswith('"Id","Name","Account.Name","IsWon","CloseDate","SystemModstamp"\n') for page in pages
    )
    assert {row["IsWon"] for row in rows} <= {"true", "false"}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", row["SystemModstamp"]) for row in rows)


def test_create_task_and_opportunity_for_write_back(server: FakeSalesforceServer) -> None:
    sf = connect_simple_salesforce(server, "bu2")
    account = sf.query("SELECT Id FROM Account LIMIT 1")["records"][0]["Id"]
    created = sf.Task.create(
        {
            "Subject": "Offer Data Platform",
            "WhatId": account,
            "Status": "Not Started",
            "Priority": "Normal",
            "ActivityDate": "2026-12-01",
        }
    )
    assert created["success"] is True and created["errors"] == []
    task = sf.Task.get(created["id"])
    assert task["AccountId"] == account and task["IsClosed"] is False
    opportunity = sf.Opportunity.create(
        {
            "Name": "xsell: Data Platform",
            "AccountId": account,
            "StageName": "Prospecting",
            "CloseDate": "2027-01-31",
            "Amount": 1000,
        }
    )
    fetched = sf.Opportunity.get(opportunity["id"])
    assert fetched["SystemModstamp"] == fetched["CreatedDate"]
    with pytest.raises(SalesforceMalformedRequest) as missing:
        sf.Opportunity.create({"Name": "no stage"})
    assert missing.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"


def test_describe_lists_objects_and_fields_per_profile(server: FakeSalesforceServer) -> None:
    admin = connect_simple_salesforce(server, "bu1")
    analyst = connect_simple_salesforce(server, "bu1", username="analyst@bu1.example.com")
    assert {
        "Account",
        "Contact",
        "Opportunity",
        "OpportunityLineItem",
        "Product2",
        "PricebookEntry",
        "Task",
        "Event",
    } <= {s["name"] for s in admin.describe()["sobjects"]}
    admin_fields = {f["name"] for f in admin.Account.describe()["fields"]}
    analyst_fields = {f["name"] for f in analyst.Account.describe()["fields"]}
    assert admin_fields - analyst_fields == {"AnnualRevenue"}
    with pytest.raises(SalesforceMalformedRequest) as hidden:
        analyst.query("SELECT Id, AnnualRevenue FROM Account")
    assert hidden.value.content[0]["errorCode"] == "INVALID_FIELD"
    assert admin.query("SELECT Id, AnnualRevenue FROM Account LIMIT 1")["totalSize"] == 1


def test_errors_map_to_simple_salesforce_exceptions(server: FakeSalesforceServer) -> None:
    sf = connect_simple_salesforce(server, "bu1")
    with pytest.raises(SalesforceMalformedRequest) as malformed:
        sf.query("SELECT Id FRM Account")
    assert malformed.value.content[0]["errorCode"] == "MALFORMED_QUERY"
    with pytest.raises(SalesforceMalformedRequest) as invalid_type:
        sf.query("SELECT Id FROM Widget__c")
    assert invalid_type.value.content[0]["errorCode"] == "INVALID_TYPE"
    with pytest.raises(SalesforceResourceNotFound):
        sf.Account.get("001000000000000AAA")


def test_expired_token_is_renewed_by_the_client(server: FakeSalesforceServer) -> None:
    sf = connect_simple_salesforce(server, "bu1")
    first_token = sf.session_id
    requests.post(f"{server.login_url}/__admin/orgs/bu1/faults", json={"expire_tokens_once": True}, timeout=5)
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] > 0
    assert sf.session_id != first_token
    assert sf.Account.describe()["name"] == "Account"


def test_direct_session_without_credentials_gets_expired_session(server: FakeSalesforceServer) -> None:
    org = server.org("bu1")
    sf = Salesforce(
        instance_url=org.instance_url, session_id="not-a-token", session=salesforce_session(server)
    )
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Account")


def test_daily_limit_refuses_with_request_limit_exceeded(server: FakeSalesforceServer) -> None:
    sf = connect_simple_salesforce(server, "bu2")
    org = server.org("bu2")
    saved = org.api_max
    try:
        requests.post(
            f"{server.login_url}/__admin/orgs/bu2/faults", json={"daily_limit": org.api_used + 1}, timeout=5
        )
        sf.query("SELECT Id FROM Account LIMIT 1")
        with pytest.raises(SalesforceRefusedRequest) as refused:
            sf.query("SELECT Id FROM Account LIMIT 1")
        assert refused.value.content == [
            {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
        ]
    finally:
        org.api_max = saved


def test_org_tokens_do_not_work_on_another_orgs_instance(server: FakeSalesforceServer) -> None:
    sf = connect_simple_salesforce(server, "bu1")
    other = Salesforce(
        instance_url=server.org("bu2").instance_url,
        session_id=sf.session_id,
        session=salesforce_session(server),
    )
    with pytest.raises(SalesforceExpiredSession):
        other.query("SELECT Id FROM Account")


def test_orgs_can_be_built_by_hand() -> None:
    org = new_org("solo", 0)
    org.data.load("Account", {"Name": "Only"})
    with FakeSalesforceServer([org]) as running:
        sf = connect_simple_salesforce(running, "solo")
        assert [r["Name"] for r in sf.query("SELECT Name FROM Account")["records"]] == ["Only"]
