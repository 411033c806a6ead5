"""Money always carries its currency and never mixes two."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidCurrencyError, InvariantViolationError
from domain.money import Money

amounts = st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False)


def test_money_keeps_amount_and_currency() -> None:
    money = Money(Decimal("12.50"), "EUR")
    assert money.amount == Decimal("12.50")
    assert money.currency == "EUR"


@pytest.mark.parametrize("currency", ["", "eur", "EURO", "EU", "E1R", "€", None])
def test_a_currency_is_three_upper_case_letters(currency: str) -> None:
    with pytest.raises(InvalidCurrencyError):
        Money(Decimal(1), currency)


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity"])
def test_an_amount_is_finite(amount: str) -> None:
    with pytest.raises(InvariantViolationError):
        Money(Decimal(amount), "USD")


def test_non_numeric_amounts_are_rejected() -> None:
    with pytest.raises(InvariantViolationError):
        Money.of("twelve", "USD")
    with pytest.raises(InvariantViolationError):
        Money("twelve", "USD")  # type: ignore[arg-type]


def test_of_accepts_ints_strings_and_floats_exactly() -> None:
    assert Money.of(3, "USD").amount == Decimal(3)
    assert Money.of("3.10", "USD").amount == Decimal("3.10")
    assert Money.of(0.1, "USD").amount == Decimal("0.1")  # not 0.1000000000000000055...


def test_the_constructor_coerces_ints_from_mappers() -> None:
    assert Money(7, "USD").amount == Decimal(7)  # type: ignore[arg-type]


def test_adding_and_subtracting_in_one_currency() -> None:
    assert Money.of("10.25", "USD") + Money.of("0.75", "USD") == Money.of(11, "USD")
    assert Money.of(10, "USD") - Money.of(12, "USD") == Money.of(-2, "USD")


@pytest.mark.parametrize("operation", ["add", "sub", "lt", "le"])
def test_mixing_currencies_raises(operation: str) -> None:
    usd, eur = Money.of(1, "USD"), Money.of(1, "EUR")
    with pytest.raises(InvalidCurrencyError, match="USD with EUR"):
        getattr(usd, f"__{operation}__")(eur)


def test_multiplying_by_a_factor_keeps_the_currency() -> None:
    assert Money.of(100, "GBP") * Decimal("0.25") == Money.of(25, "GBP")
    assert 2 * Money.of(100, "GBP") == Money.of(200, "GBP")
    assert (Money.of(100, "GBP") * 0.1).amount == Decimal("10.0")


def test_comparison_within_a_currency() -> None:
    assert Money.of(1, "USD") < Money.of(2, "USD")
    assert Money.of(2, "USD") <= Money.of(2, "USD")
    assert Money.of(3, "USD") > Money.of(2, "USD")


def test_equal_amounts_in_different_currencies_are_not_equal() -> None:
    assert Money.of(1, "USD") != Money.of(1, "EUR")


def test_zero_and_negativity() -> None:
    assert Money.zero("CHF") == Money(Decimal(0), "CHF")
    assert Money.of(-1, "CHF").is_negative
    assert not Money.zero("CHF").is_negative


def test_money_is_immutable() -> None:
    money = Money.of(1, "USD")
    with pytest.raises(AttributeError):
        money.amount = Decimal(2)  # type: ignore[misc]


def test_str_shows_two_decimals_and_the_currency() -> None:
    assert str(Money.of("1234.5", "USD")) == "1,234.50 USD"


@given(amounts, amounts)
def test_addition_is_exact_and_commutative(a: Decimal, b: Decimal) -> None:
    assert Money(a, "SEK") + Money(b, "SEK") == Money(b, "SEK") + Money(a, "SEK")
    assert (Money(a, "SEK") + Money(b, "SEK")).amount == a + b
    assert (Money(a, "SEK") + Money(b, "SEK") - Money(b, "SEK")).amount == a
