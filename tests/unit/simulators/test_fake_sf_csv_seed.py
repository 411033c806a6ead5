"""Seeding an org from CSV exports: what loads, and how a malformed file is reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulators.salesforce.csv_seed import SeedFileError, load_org_directory


def write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def test_loads_objects_with_api_field_names_and_tolerates_missing_files(tmp_path: Path) -> None:
    write(
        tmp_path,
        "Account.csv",
        "Id,Name,NumberOfEmployees,SystemModstamp\n"
        '001000000000001,Acme,12,2024-02-01T10:00:00.000Z\n001000000000002AAA,"Beta, Inc.",,\n',
    )
    write(tmp_path, "Contact.csv", "AccountId,LastName,FirstName\n001000000000001AAA,Lee,Ann\n")
    org = load_org_directory("emea", 0, tmp_path)
    accounts = org.data.tables["Account"]
    first = accounts.as_dict(accounts.rows[0])
    assert first["Id"] == "001000000000001AAA"
    assert first["NumberOfEmployees"] == 12
    assert first["SystemModstamp"] == "2024-02-01T10:00:00.000+0000"
    assert accounts.as_dict(accounts.rows[1])["Name"] == "Beta, Inc."
    contact = org.data.tables["Contact"]
    assert contact.as_dict(contact.rows[0])["Name"] == "Ann Lee"
    assert not org.data.multi_currency


@pytest.mark.parametrize(
    ("text", "line", "column", "reason"),
    [
        ("Id,Name,NumberOfEmployees\n001000000000001,Acme,12\n001000000000002,Beta,many\n", 3, 3, "many"),
        ("Id,Name,Colour\n001000000000001,Acme,red\n", 1, 3, "no field 'Colour'"),
        ("Id,Name\n001000000000001,Acme,extra\n", 2, None, "expected 2 values, found 3"),
        ("Id,Name,CreatedDate\n001000000000001,Acme,yesterday\n", 2, 3, "not a datetime"),
        ("Id,Name\nnot-an-id,Acme\n", 2, 1, "not a Salesforce id"),
    ],
)
def test_malformed_file_names_file_line_and_column(
    tmp_path: Path, text: str, line: int, column: int | None, reason: str
) -> None:
    write(tmp_path, "Product2.csv", "Name,Family\nWidget,Tools\n")
    write(tmp_path, "Account.csv", text)
    with pytest.raises(SeedFileError) as caught:
        load_org_directory("emea", 0, tmp_path)
    error = caught.value
    assert error.path.name == "Account.csv"
    assert (error.line, error.column) == (line, column)
    assert reason in str(error)
    assert f"line {line}" in str(error)


def test_empty_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SeedFileError, match="no CSV files"):
        load_org_directory("x", 0, tmp_path)
