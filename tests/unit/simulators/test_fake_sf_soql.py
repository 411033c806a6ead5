"""The fake's SOQL subset: parsing, validation errors in Salesforce's format, and evaluation."""

from __future__ import annotations

import pytest

from simulators.salesforce.errors import InvalidFieldError, InvalidTypeError, MalformedQueryError
from simulators.salesforce.soql import parse_soql
from simulators.salesforce.soql.planner import QueryPlan, plan_query
from simulators.salesforce.store import OrgData


def everything_visible(object_name: str, field_name: str) -> bool:
    return True


@pytest.fixture
def data() -> OrgData:
    org = OrgData("Zz")
    owner = org.load(
        "User", {"Username": "a@x.test", "FirstName": "Ann", "LastName": "Lee", "Email": "a@x.test"}
    )
    rows = [
        ("Acme Corp", "Retail", 120, "2024-01-01T00:00:00.000+0000"),
        ("acme labs", "Banking", None, "2024-01-02T10:00:00.000+0000"),
        ("Beta GmbH", None, 5000, "2024-01-03T00:00:00.000+0000"),
        ("Gamma 100% Ltd", "Retail", 40, "2024-01-04T00:00:00.000+0000"),
    ]
    for name, industry, employees, stamp in rows:
        org.load(
            "Account",
            {
                "Name": name,
                "Industry": industry,
                "NumberOfEmployees": employees,
                "OwnerId": owner,
                "SystemModstamp": stamp,
                "CreatedDate": stamp,
            },
        )
    return org


def plan(data: OrgData, soql: str) -> QueryPlan:
    return plan_query(parse_soql(soql), data, everything_visible)


def names(data: OrgData, soql: str, *, include_deleted: bool = False) -> list[str]:
    query = plan(data, soql)
    return [query.render(row, "59.0")["Name"] for row in query.run(include_deleted=include_deleted)]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Name = 'ACME CORP'", ["Acme Corp"]),
        ("Name LIKE 'acme%'", ["Acme Corp", "acme labs"]),
        ("Name LIKE '%100\\%%'", ["Gamma 100% Ltd"]),
        ("Industry = null", ["Beta GmbH"]),
        ("Industry != null AND NumberOfEmployees > 50", ["Acme Corp"]),
        ("Industry IN ('Retail', 'Banking') AND NOT Name LIKE 'Gamma%'", ["Acme Corp", "acme labs"]),
        ("Industry NOT IN ('Retail')", ["acme labs", "Beta GmbH"]),
        ("(Industry = 'Banking' OR NumberOfEmployees >= 5000) AND Name != 'x'", ["acme labs", "Beta GmbH"]),
        (
            "SystemModstamp >= 2024-01-02T10:00:00.000+00:00 AND SystemModstamp < 2024-01-04T00:00:00Z",
            ["acme labs", "Beta GmbH"],
        ),
        ("SystemModstamp > 2024-01-02T11:00:00+01:00", ["Beta GmbH", "Gamma 100% Ltd"]),
        ("NumberOfEmployees <= 40", ["Gamma 100% Ltd"]),
        ("CreatedDate = LAST_N_DAYS:30", []),
    ],
)
def test_where_clauses_select_the_rows_salesforce_would(
    data: OrgData, where: str, expected: list[str]
) -> None:
    assert names(data, f"SELECT Id, Name FROM Account WHERE {where}") == expected  # noqa: S608 - SOQL against the fake, not SQL


def test_order_by_is_case_insensitive_with_nulls_first_ascending_and_last_descending(data: OrgData) -> None:
    assert names(data, "SELECT Name FROM Account ORDER BY Name") == [
        "Acme Corp",
        "acme labs",
        "Beta GmbH",
        "Gamma 100% Ltd",
    ]
    assert names(data, "SELECT Name FROM Account ORDER BY NumberOfEmployees DESC") == [
        "Beta GmbH",
        "Acme Corp",
        "Gamma 100% Ltd",
        "acme labs",
    ]
    assert names(data, "SELECT Name FROM Account ORDER BY Industry, Name DESC LIMIT 2 OFFSET 1") == [
        "acme labs",
        "Gamma 100% Ltd",
    ]


def test_parent_fields_render_nested_with_attributes_and_flatten_for_csv(data: OrgData) -> None:
    query = plan(data, "SELECT Id, owner.name, Owner.Email, Name FROM account LIMIT 1")
    row = query.run(include_deleted=False)[0]
    record = query.render(row, "61.0")
    assert list(record) == ["attributes", "Id", "Owner", "Name"]
    assert record["attributes"]["url"] == f"/services/data/v61.0/sobjects/Account/{record['Id']}"
    assert record["Owner"]["attributes"]["type"] == "User"
    assert record["Owner"]["Name"] == "Ann Lee"
    assert query.columns == ["Id", "Owner.Name", "Owner.Email", "Name"]
    assert query.csv_values(row)[1:] == ["Ann Lee", "a@x.test", "Acme Corp"]


def test_count_query_and_deleted_rows(data: OrgData) -> None:
    first = data.tables["Account"].rows[0][0]
    data.delete("Account", first, user_id="005")
    assert plan(data, "SELECT COUNT() FROM Account").query.count_only
    assert len(plan(data, "SELECT COUNT() FROM Account").run(include_deleted=False)) == 3
    assert names(data, "SELECT Name FROM Account WHERE IsDeleted = true", include_deleted=True) == [
        "Acme Corp"
    ]


def test_syntax_errors_carry_salesforce_caret_and_position() -> None:
    with pytest.raises(MalformedQueryError) as caught:
        parse_soql("SELECT Id FRM Account")
    assert caught.value.body() == [
        {
            "message": "\nSELECT Id FRM Account\n          ^\n"
            "ERROR at Row:1:Column:11\nunexpected token: 'FRM'",
            "errorCode": "MALFORMED_QUERY",
        }
    ]


def test_unknown_object_field_and_relationship(data: OrgData) -> None:
    with pytest.raises(InvalidTypeError, match="sObject type 'Widget' is not supported"):
        plan(data, "SELECT Id FROM Widget")
    with pytest.raises(InvalidFieldError, match="No such column 'Foo__c' on entity 'Account'"):
        plan(data, "SELECT Id, Foo__c FROM Account")
    with pytest.raises(InvalidFieldError, match="Didn't understand relationship 'Boss'"):
        plan(data, "SELECT Boss.Name FROM Account")
    with pytest.raises(InvalidFieldError, match="must be of type string and should be enclosed in quotes"):
        plan(data, "SELECT Id FROM Account WHERE Name = 5")


def test_hidden_fields_look_exactly_like_missing_ones(data: OrgData) -> None:
    def hide_industry(object_name: str, field_name: str) -> bool:
        return field_name != "Industry"

    with pytest.raises(InvalidFieldError, match="No such column 'Industry' on entity 'Account'"):
        plan_query(parse_soql("SELECT Id, Industry FROM Account"), data, hide_industry)


def test_order_by_columns_without_nulls_keeps_salesforce_order_with_ties() -> None:
    """Columns with no nulls sort by value alone (a faster path); ties keep the next key's order."""
    org = OrgData("Zz")
    stamps = ["2024-01-02T00:00:00.000+0000", "2024-01-01T00:00:00.000+0000"] * 6
    for number, stamp in enumerate(stamps):
        org.load("Account", {"Name": f"n{number % 4}", "SystemModstamp": stamp, "CreatedDate": stamp})
    query = plan(org, "SELECT Id, SystemModstamp FROM Account ORDER BY SystemModstamp DESC, Id ASC")
    rendered = [query.render(row, "59.0") for row in query.run(include_deleted=False)]
    got = [(row["SystemModstamp"], row["Id"]) for row in rendered]
    expected = sorted(got, key=lambda pair: pair[1])
    expected.sort(key=lambda pair: pair[0], reverse=True)
    assert got == expected
    assert len({stamp for stamp, _ in got}) == 2 and len(got) == 12
    # The same through the general key (a column with a null placed first): one null, then the rest.
    org.load("Account", {"Name": None, "SystemModstamp": stamps[0], "CreatedDate": stamps[0]})
    by_name = names(org, "SELECT Name FROM Account ORDER BY Name DESC NULLS FIRST, Id")
    assert by_name[0] is None
    assert by_name[1:] == sorted(by_name[1:], reverse=True)
