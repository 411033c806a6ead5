"""Org and Account invariants, and the UTC rule for timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain.account import Account, AccountKey, domain_of
from domain.errors import InvalidCurrencyError, InvalidIdError, InvariantViolationError
from domain.money import Money
from domain.org import Org, OrgKind
from domain.timestamps import require_utc, utc_now

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def make_org(**overrides: object) -> Org:
    fields: dict[str, object] = {
        "id": "emea",
        "name": "EMEA",
        "kind": OrgKind.SALESFORCE,
        "business_unit": "Data",
        "currency": "EUR",
        "created_at": T0,
    }
    fields.update(overrides)
    return Org(**fields)  # type: ignore[arg-type]


def make_account(**overrides: object) -> Account:
    fields: dict[str, object] = {
        "org_id": "emea",
        "external_id": "001A0000006Vm9r",
        "name": "Acme Corp",
        "currency": "EUR",
        "created_at": T0,
        "modified_at": T0,
    }
    fields.update(overrides)
    return Account(**fields)  # type: ignore[arg-type]


# -- timestamps -------------------------------------------------------------------------------------


def test_utc_now_is_aware_utc() -> None:
    now = utc_now()
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)


def test_require_utc_accepts_utc_and_none() -> None:
    require_utc(T0, "t")
    require_utc(datetime(2025, 1, 1, tzinfo=timezone(timedelta(0))), "t")
    require_utc(None, "t")


@pytest.mark.parametrize(
    "value",
    [datetime(2025, 1, 1), datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=2)))],
)
def test_require_utc_rejects_naive_and_other_offsets(value: datetime) -> None:
    with pytest.raises(InvariantViolationError, match="when"):
        require_utc(value, "when")


# -- org --------------------------------------------------------------------------------------------


def test_an_org_keeps_its_fields_and_coerces_its_kind() -> None:
    org = make_org(kind="csv")
    assert org.kind is OrgKind.CSV
    assert org.currency == "EUR"


@pytest.mark.parametrize("org_id", ["", "a", "EMEA", "-emea", "emea org", "x" * 41])
def test_an_org_id_is_a_short_slug(org_id: str) -> None:
    with pytest.raises(InvariantViolationError):
        make_org(id=org_id)


def test_an_org_needs_a_name_a_known_kind_a_currency_and_utc() -> None:
    with pytest.raises(InvariantViolationError):
        make_org(name="  ")
    with pytest.raises(ValueError, match="ftp"):
        make_org(kind="ftp")
    with pytest.raises(InvalidCurrencyError):
        make_org(currency="euro")
    with pytest.raises(InvariantViolationError):
        make_org(created_at=datetime(2025, 1, 1))


def test_orgs_are_equal_by_id() -> None:
    assert make_org() == make_org(name="Europe")
    assert make_org() != make_org(id="amer")
    assert len({make_org(), make_org(name="Europe")}) == 1


# -- account ----------------------------------------------------------------------------------------


def test_an_account_stores_the_eighteen_character_id() -> None:
    account = make_account(parent_external_id="001A0000006Vm9s")
    assert account.external_id == "001A0000006Vm9rIAC"
    assert account.parent_external_id == "001A0000006Vm9sIAC"
    assert account.key == AccountKey("emea", "001A0000006Vm9rIAC")


def test_accounts_are_equal_by_org_and_id() -> None:
    assert make_account() == make_account(name="ACME Corporation", external_id="001A0000006Vm9rIAC")
    assert make_account() != make_account(org_id="amer")
    assert len({make_account(), make_account(name="Other")}) == 1


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("external_id", "001A0000006Vm9rAAA", InvalidIdError),
        ("parent_external_id", "bad", InvalidIdError),
        ("name", " ", InvariantViolationError),
        ("employees", -1, InvariantViolationError),
        ("annual_revenue", Decimal(-1), InvariantViolationError),
        ("currency", "eur", InvalidCurrencyError),
        ("created_at", datetime(2025, 1, 1), InvariantViolationError),
        ("modified_at", datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=-5))), InvariantViolationError),
    ],
)
def test_account_invariants(field: str, value: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        make_account(**{field: value})


def test_account_revenue_carries_the_account_currency() -> None:
    assert make_account(annual_revenue=Decimal(5_000_000)).revenue == Money.of(5_000_000, "EUR")
    assert make_account().revenue is None


@pytest.mark.parametrize(
    ("website", "domain"),
    [
        ("https://www.Acme.com/about", "acme.com"),
        ("acme.co.uk", "acme.co.uk"),
        ("  WWW.acme.de  ", "acme.de"),
        ("http://shop.acme.com:8080/x?y=1", "shop.acme.com"),
        ("", None),
        ("   ", None),
        (None, None),
        ("localhost", None),
        ("http://", None),
    ],
)
def test_domain_of_websites(website: str | None, domain: str | None) -> None:
    assert domain_of(website) == domain
    if website is not None:
        assert make_account(website=website).domain == domain


def test_account_keys_order_by_org_then_id() -> None:
    keys = [AccountKey("b", "1"), AccountKey("a", "2"), AccountKey("a", "1")]
    assert sorted(keys) == [AccountKey("a", "1"), AccountKey("a", "2"), AccountKey("b", "1")]
