"""The fast paths of the canonical reader agree with the reference ones: `fast_id` with SalesforceId.parse,
and a Bulk CSV page read column-wise with the same rows read one dict at a time."""

from __future__ import annotations

import csv
import io
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.crm.canonical import RecordReader, fast_id
from application.ports.crm import ObjectSchema
from domain.errors import InvalidIdError
from domain.ids import SalesforceId

_ALNUM = string.ascii_letters + string.digits
bodies = st.text(alphabet=_ALNUM, min_size=15, max_size=15)


@given(bodies)
def test_fast_id_matches_the_domain_converter_for_15_and_18_characters(body: str) -> None:
    canonical = SalesforceId.parse(body).value
    assert fast_id(body) == canonical
    assert fast_id(canonical) == canonical
    assert fast_id(canonical[:15] + canonical[15:].lower()) == canonical


@given(bodies, st.text(alphabet=_ALNUM, min_size=3, max_size=3))
def test_fast_id_rejects_what_the_domain_rejects(body: str, suffix: str) -> None:
    candidate = body + suffix
    try:
        expected: str | None = SalesforceId.parse(candidate).value
    except InvalidIdError:
        expected = None
    if expected is None:
        with pytest.raises(InvalidIdError):
            fast_id(candidate)
    else:
        assert fast_id(candidate) == expected


@pytest.mark.parametrize("raw", ["", "001", "001 00000000001", "00100000000000Ä", "0010000000000010AAA"])
def test_fast_id_refuses_malformed_ids(raw: str) -> None:
    with pytest.raises(InvalidIdError):
        fast_id(raw)


def test_a_csv_page_reads_the_same_column_wise_as_row_by_row() -> None:
    schema = ObjectSchema(
        "Contact",
        {
            "Id": "id",
            "SystemModstamp": "datetime",
            "IsDeleted": "boolean",
            "AccountId": "reference",
            "LastName": "string",
            "Email": "email",
            "Birthdate": "date",
            "NumberOfThings__c": "double",
            "HasOptedOut": "boolean",
            "Owner.Name": "string",
        },
    )
    text = (
        "Id,SystemModstamp,IsDeleted,AccountId,LastName,Email,Birthdate,NumberOfThings__c,HasOptedOut,Owner.Name\n"
        "003000000000001,2024-11-07T07:00:00.000Z,false,001000000000001AAA,Lee,,1990-01-02,2.5,true,Ann\n"
        '003000000000002AAA,2024-11-07T07:00:01.000+0000,true,,"O\'Brien, ""Jo""",jo@x.io,,,false,\n'
    )
    reader = RecordReader(schema)
    expected = [reader.read(row) for row in csv.DictReader(io.StringIO(text))]
    assert reader.read_csv(text).records() == expected
    assert [record.id for record in expected] == ["003000000000001AAA", "003000000000002AAA"]
    assert [record.is_deleted for record in expected] == [False, True]
    assert len(reader.read_csv("Id,SystemModstamp\n")) == 0
    assert len(reader.read_csv("")) == 0


def test_rest_json_page_reads_as_the_same_columns_as_one_record_at_a_time() -> None:
    schema = ObjectSchema(
        "Contact",
        {
            "Id": "id",
            "SystemModstamp": "datetime",
            "IsDeleted": "boolean",
            "LastName": "string",
            "NumberOfThings__c": "double",
            "Owner.Name": "string",
        },
    )
    raws = [
        {"attributes": {"type": "Contact"}, "Id": "003000000000001", "SystemModstamp":
         "2024-11-07T07:00:00.000+0000", "IsDeleted": False, "LastName": "Lee", "NumberOfThings__c": 2.5,
         "Owner": {"attributes": {}, "Name": "Ann"}},
        {"attributes": {"type": "Contact"}, "Id": "003000000000002AAA", "SystemModstamp":
         "2024-11-07T07:00:01.000Z", "IsDeleted": True, "LastName": "", "NumberOfThings__c": None,
         "Owner": None},
    ]  # fmt: skip
    reader = RecordReader(schema)
    page = reader.read_json(raws)
    assert page.records() == [reader.read(raw) for raw in raws]
    assert page.last()[1] == "003000000000002AAA"
    assert page.deleted_count() == 1
    assert page.slice(1, 2).records() == page.records()[1:]
