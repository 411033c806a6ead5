"""Opportunities with line items in one currency, and activities on accounts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from domain.account import AccountKey
from domain.activity import Activity, ActivityDirection, ActivityKind, ActivityType
from domain.errors import InvalidCurrencyError, InvalidIdError, InvariantViolationError, NotFoundError
from domain.money import Money
from domain.opportunity import LineItem, Opportunity, OpportunityStatus
from domain.product import ProductKey

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def item(n: int = 1, amount: Money | None = None, quantity: object = Decimal(2)) -> LineItem:
    return LineItem(
        external_id=f"00k00000000000{n}",
        product_id=f"01t00000000000{n}",
        quantity=quantity,  # type: ignore[arg-type]
        amount=amount or Money.of(100, "EUR"),
    )


def opportunity(**overrides: object) -> Opportunity:
    fields: dict[str, object] = {
        "org_id": "emea",
        "external_id": "006A0000006Vm9r",
        "account_id": "001A0000006Vm9r",
        "name": "Acme - Data Platform",
        "stage": "Prospecting",
        "close_date": date(2025, 6, 30),
        "currency": "EUR",
        "created_at": T0,
        "modified_at": T0,
    }
    fields.update(overrides)
    return Opportunity(**fields)  # type: ignore[arg-type]


def test_line_items_add_up_in_the_opportunity_currency() -> None:
    opp = opportunity(line_items=[item(1), item(2, Money.of("50.50", "EUR"))])
    assert opp.total == Money.of("150.50", "EUR")
    assert opp.product_keys == {
        ProductKey("emea", "01t000000000001AAA"),
        ProductKey("emea", "01t000000000002AAA"),
    }
    assert opp.account_key == AccountKey("emea", "001A0000006Vm9rIAC")
    assert opportunity().total == Money.zero("EUR")


def test_a_line_item_in_another_currency_is_refused() -> None:
    with pytest.raises(InvalidCurrencyError, match="EUR, not USD"):
        opportunity(line_items=[item(1, Money.of(1, "USD"))])
    opp = opportunity()
    with pytest.raises(InvalidCurrencyError):
        opp.add_line_item(item(1, Money.of(1, "USD")))
    assert opp.line_items == []


def test_the_amount_must_be_in_the_opportunity_currency() -> None:
    with pytest.raises(InvalidCurrencyError):
        opportunity(amount=Money.of(1, "USD"))
    assert opportunity(amount=Money.of(1, "EUR")).amount == Money.of(1, "EUR")


def test_a_line_item_appears_once() -> None:
    opp = opportunity(line_items=[item(1)])
    with pytest.raises(InvariantViolationError, match="already has"):
        opp.add_line_item(item(1))


def test_removing_line_items_by_either_id_form() -> None:
    opp = opportunity(line_items=[item(1), item(2)])
    removed = opp.remove_line_item("00k000000000001")
    assert removed.external_id == "00k000000000001AAA"
    assert [i.external_id for i in opp.line_items] == ["00k000000000002AAA"]
    with pytest.raises(NotFoundError):
        opp.remove_line_item("00k000000000001AAA")


@pytest.mark.parametrize("quantity", [Decimal(0), Decimal(-1), Decimal("NaN"), "abc", True])
def test_a_line_item_quantity_is_positive(quantity: object) -> None:
    with pytest.raises(InvariantViolationError):
        item(quantity=quantity)


def test_quantities_are_decimals_and_amounts_not_negative() -> None:
    assert item(quantity=1.5).quantity == Decimal("1.5")
    with pytest.raises(InvariantViolationError, match="negative"):
        item(amount=Money.of(-1, "EUR"))
    with pytest.raises(InvalidIdError):
        LineItem("bad", "01t000000000001", Decimal(1), Money.of(1, "EUR"))


def test_won_implies_closed() -> None:
    with pytest.raises(InvariantViolationError, match="won but not closed"):
        opportunity(is_won=True, is_closed=False)


@pytest.mark.parametrize(
    ("is_closed", "is_won", "status"),
    [
        (False, False, OpportunityStatus.OPEN),
        (True, True, OpportunityStatus.WON),
        (True, False, OpportunityStatus.LOST),
    ],
)
def test_status_follows_the_flags(is_closed: bool, is_won: bool, status: OpportunityStatus) -> None:
    assert opportunity(is_closed=is_closed, is_won=is_won).status is status


def test_closing_and_reopening() -> None:
    opp = opportunity()
    opp.close(won=True, stage="Closed Won", close_date=date(2025, 5, 1))
    assert (opp.status, opp.stage, opp.close_date) == (OpportunityStatus.WON, "Closed Won", date(2025, 5, 1))
    opp.reopen(stage="Negotiation")
    assert (opp.status, opp.is_closed, opp.is_won) == (OpportunityStatus.OPEN, False, False)
    opp.close(won=False, stage="Closed Lost", close_date=date(2025, 5, 2))
    assert (opp.status, opp.is_closed, opp.is_won) == (OpportunityStatus.LOST, True, False)
    with pytest.raises(InvariantViolationError):
        opp.close(won=True, stage="", close_date=date(2025, 5, 2))
    with pytest.raises(InvariantViolationError):
        opp.reopen(stage=" ")


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("external_id", "006", InvalidIdError),
        ("account_id", "001A0000006Vm9rAAA", InvalidIdError),
        ("name", "", InvariantViolationError),
        ("stage", " ", InvariantViolationError),
        ("currency", "Euro", InvalidCurrencyError),
        ("close_date", datetime(2025, 6, 30, tzinfo=UTC), InvariantViolationError),
        ("close_date", "2025-06-30", InvariantViolationError),
        ("created_at", datetime(2025, 1, 1), InvariantViolationError),
    ],
)
def test_opportunity_invariants(field: str, value: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        opportunity(**{field: value})


def test_opportunities_are_equal_by_org_and_id() -> None:
    assert opportunity() == opportunity(name="renamed", external_id="006A0000006Vm9rIAC")
    assert opportunity() != opportunity(org_id="amer")


# -- activity -----------------------------------------------------------------------------------------


def activity(**overrides: object) -> Activity:
    fields: dict[str, object] = {
        "org_id": "emea",
        "external_id": "00T000000000001",
        "account_id": "001A0000006Vm9r",
        "kind": ActivityKind.TASK,
        "activity_type": ActivityType.CALL,
        "occurred_at": T0,
        "direction": ActivityDirection.OUTBOUND,
        "modified_at": T0,
    }
    fields.update(overrides)
    return Activity(**fields)  # type: ignore[arg-type]


def test_an_activity_belongs_to_an_account() -> None:
    task = activity(kind="event", activity_type="meeting", direction="inbound")
    assert task.account_key == AccountKey("emea", "001A0000006Vm9rIAC")
    assert task.external_id == "00T000000000001EAA"  # T at position 2 sets bit 2: E
    assert (task.kind, task.activity_type, task.direction) == (
        ActivityKind.EVENT,
        ActivityType.MEETING,
        ActivityDirection.INBOUND,
    )
    assert activity(direction=ActivityDirection.UNKNOWN) == task  # identity is (org, id)


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("kind", "note", InvariantViolationError),
        ("activity_type", "fax", InvariantViolationError),
        ("direction", "sideways", InvariantViolationError),
        ("occurred_at", datetime(2025, 1, 1), InvariantViolationError),
        ("account_id", "", InvalidIdError),
    ],
)
def test_activity_invariants(field: str, value: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        activity(**{field: value})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Call", ActivityType.CALL),
        (" email ", ActivityType.EMAIL),
        ("E-mail", ActivityType.EMAIL),
        ("Meeting", ActivityType.MEETING),
        ("Send Letter", ActivityType.OTHER),
        ("", ActivityType.OTHER),
        (None, ActivityType.OTHER),
    ],
)
def test_crm_activity_types_map_onto_four(raw: str | None, expected: ActivityType) -> None:
    assert ActivityType.from_crm(raw) is expected
