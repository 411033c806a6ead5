"""Money: an exact decimal amount that always carries its ISO 4217 currency."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from domain.errors import InvalidCurrencyError, InvariantViolationError

__all__ = ["Money"]

_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one currency. Arithmetic across currencies raises InvalidCurrencyError."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.currency, str) or not _CURRENCY.match(self.currency):
            raise InvalidCurrencyError(f"a currency is a 3-letter ISO 4217 code, got {self.currency!r}")
        # Typed as Decimal, but callers outside mypy's reach (mappers, JSON) hand in ints and strings.
        raw: object = self.amount
        if not isinstance(raw, Decimal):
            try:
                object.__setattr__(self, "amount", Decimal(str(raw)))
            except InvalidOperation as exc:
                raise InvariantViolationError(f"not an amount: {raw!r}") from exc
        if not self.amount.is_finite():
            raise InvariantViolationError(f"an amount must be finite, got {self.amount}")

    @classmethod
    def of(cls, amount: Decimal | int | str | float, currency: str) -> Money:
        """Build Money from any numeric literal; floats go through their shortest repr."""
        try:
            value = Decimal(str(amount))
        except InvalidOperation as exc:
            raise InvariantViolationError(f"not an amount: {amount!r}") from exc
        return cls(value, currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise InvalidCurrencyError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: Decimal | int | float) -> Money:
        return Money(self.amount * Decimal(str(factor)), self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount <= other.amount

    @property
    def is_negative(self) -> bool:
        return self.amount < 0

    def __str__(self) -> str:
        return f"{self.amount:,.2f} {self.currency}"
