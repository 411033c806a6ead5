"""Salesforce id conversion: the 15 -> 18 checksum, its properties, and rejection of malformed ids."""

from __future__ import annotations

import string

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.errors import InvalidIdError, InvariantViolationError
from domain.ids import SalesforceId

bodies = st.text(alphabet=string.ascii_letters + string.digits, min_size=15, max_size=15)


@pytest.mark.parametrize(
    ("short", "full"),
    [
        ("001A0000006Vm9r", "001A0000006Vm9rIAC"),  # the classic Account example
        ("a0D30000001n7Pi", "a0D30000001n7PiEAI"),  # the example in Salesforce's knowledge article
        ("0015000000Gv7qJ", "0015000000Gv7qJAAR"),  # G (bit 0) + J (bit 4) in the last chunk = 17 = R
        ("003D000000QyKxh", "003D000000QyKxhIAF"),  # D at position 3 = 8 = I; Q + K = 1 + 4 = 5 = F
        ("500Hp00000PQRSt", "500Hp00000PQRStIAP"),  # P, Q, R, S = 1 + 2 + 4 + 8 = 15 = P
        ("001A0000006VM9R", "001A0000006VM9RIAW"),  # V, M, R = 2 + 4 + 16 = 22 = W
        ("abcdefghijklmno", "abcdefghijklmnoAAA"),  # no upper case anywhere
        ("ABCDEFGHIJKLMNO", "ABCDEFGHIJKLMNO555"),  # every bit set = 31 = '5'
        ("000000000000000", "000000000000000AAA"),  # digits are never upper case
    ],
)
def test_fifteen_character_ids_get_the_salesforce_checksum(short: str, full: str) -> None:
    parsed = SalesforceId.parse(short)

    assert parsed.value == full
    assert str(parsed) == full
    assert parsed.short == short


def test_an_eighteen_character_id_parses_to_itself() -> None:
    assert SalesforceId.parse("001A0000006Vm9rIAC").value == "001A0000006Vm9rIAC"


def test_surrounding_whitespace_is_ignored() -> None:
    assert SalesforceId.parse("  001A0000006Vm9r\n").value == "001A0000006Vm9rIAC"


def test_the_key_prefix_names_the_object_type() -> None:
    assert SalesforceId.parse("001A0000006Vm9r").key_prefix == "001"
    assert SalesforceId.parse("006A0000006Vm9r").key_prefix == "006"


def test_a_lower_case_suffix_is_accepted_and_normalised() -> None:
    assert SalesforceId.parse("001A0000006Vm9riac").value == "001A0000006Vm9rIAC"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "001A0000006Vm9",  # 14 characters
        "001A0000006Vm9rI",  # 16 characters
        "001A0000006Vm9rIA",  # 17 characters
        "001A0000006Vm9rIACX",  # 19 characters
        "001A0000006Vm9-",  # punctuation
        "001A0000006Vm9 r",  # inner space
        "001A0000006Vm9é",  # non-ASCII letter
        "001A0000006Vm9٣",  # non-ASCII digit
    ],
)
def test_malformed_ids_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidIdError):
        SalesforceId.parse(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "001A0000006Vm9rAAA",  # checksum of the all-lower-case body
        "001A0000006Vm9rIAD",  # last character off by one
        "001a0000006Vm9rIAC",  # body case changed, suffix of the original
        "001A0000006Vm9rIA6",  # '6' is outside the checksum alphabet
        "001A0000006Vm9r\u0131AC",  # dotless i upper-cases to I, but is not an ASCII checksum character
    ],
)
def test_wrong_checksums_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidIdError, match="checksum does not match"):
        SalesforceId.parse(raw)


def test_the_constructor_accepts_only_the_eighteen_character_form() -> None:
    with pytest.raises(InvalidIdError):
        SalesforceId("001A0000006Vm9r")
    with pytest.raises(InvalidIdError):
        SalesforceId("001A0000006Vm9riac")  # the constructor is strict; parse() normalises
    assert SalesforceId("001A0000006Vm9rIAC").value == "001A0000006Vm9rIAC"


def test_non_strings_are_rejected() -> None:
    with pytest.raises(InvalidIdError):
        SalesforceId.parse(1234567890123456)  # type: ignore[arg-type]


def test_invalid_id_error_is_a_value_error_for_callers_outside_the_domain() -> None:
    assert issubclass(InvalidIdError, InvariantViolationError)
    assert issubclass(InvalidIdError, ValueError)


def test_ids_are_equal_by_value() -> None:
    assert SalesforceId.parse("001A0000006Vm9r") == SalesforceId.parse("001A0000006Vm9rIAC")
    assert len({SalesforceId.parse("001A0000006Vm9r"), SalesforceId.parse("001A0000006Vm9riac")}) == 1


@given(bodies)
def test_conversion_is_idempotent(body: str) -> None:
    once = SalesforceId.parse(body)
    assert SalesforceId.parse(once.value) == once
    assert len(once.value) == 18
    assert once.short == body


@given(bodies, st.data())
def test_the_suffix_is_case_insensitive(body: str, data: st.DataObject) -> None:
    full = SalesforceId.parse(body).value
    suffix = "".join(data.draw(st.sampled_from([c.lower(), c.upper()])) for c in full[15:])
    assert SalesforceId.parse(body + suffix).value == full


@given(bodies, st.data())
def test_bodies_differing_only_in_case_get_different_ids(body: str, data: st.DataObject) -> None:
    flips = data.draw(st.lists(st.booleans(), min_size=15, max_size=15))
    other = "".join(c.swapcase() if flip else c for c, flip in zip(body, flips, strict=True))
    assume(other != body)
    first, second = SalesforceId.parse(body), SalesforceId.parse(other)
    assert first.value.upper() != second.value.upper()  # case-safe: distinct even case-insensitively
    assert first != second


@given(bodies, st.text(alphabet=string.ascii_uppercase + "012345", min_size=3, max_size=3))
def test_any_other_suffix_is_rejected(body: str, suffix: str) -> None:
    assume(suffix != SalesforceId.parse(body).value[15:])
    with pytest.raises(InvalidIdError):
        SalesforceId.parse(body + suffix)
