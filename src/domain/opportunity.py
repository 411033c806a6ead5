"""Opportunity and its line items: what an account was offered, in which currency, and how it ended."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from domain.account import AccountKey
from domain.errors import InvalidCurrencyError, InvariantViolationError, NotFoundError
from domain.ids import SalesforceId
from domain.money import Money
from domain.product import ProductKey
from domain.timestamps import require_utc, utc_now

__all__ = ["LineItem", "Opportunity", "OpportunityStatus"]


class OpportunityStatus(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


def _require_date(value: date, name: str) -> None:
    # datetime is a subclass of date; a datetime here would smuggle in a time zone question.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvariantViolationError(f"{name} is a calendar date, got {value!r}")


@dataclass(eq=False)
class LineItem:
    """One OpportunityLineItem: a product, a quantity and the total price of the line.

    Raises InvalidIdError for malformed ids; InvariantViolationError for a quantity that is not a finite
    positive number or a negative amount.
    """

    external_id: str
    product_id: str
    quantity: Decimal
    amount: Money

    def __post_init__(self) -> None:
        self.external_id = SalesforceId.parse(self.external_id).value
        self.product_id = SalesforceId.parse(self.product_id).value
        # Typed as Decimal, but the CRM hands in floats and strings; bool would read as 1.
        raw: object = self.quantity
        if isinstance(raw, bool):
            raise InvariantViolationError(f"line item {self.external_id} has no numeric quantity")
        try:
            self.quantity = Decimal(str(raw))
        except InvalidOperation as exc:
            raise InvariantViolationError(f"not a quantity: {raw!r}") from exc
        if not self.quantity.is_finite() or self.quantity <= 0:
            raise InvariantViolationError(f"line item {self.external_id} needs a positive quantity")
        if self.amount.is_negative:
            raise InvariantViolationError(f"line item {self.external_id} has a negative amount")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LineItem) and other.external_id == self.external_id

    def __hash__(self) -> int:
        return hash(self.external_id)


@dataclass(eq=False)
class Opportunity:
    """A deal with one account of one org. Every amount on it is in the opportunity's currency.

    Raises InvalidIdError for malformed ids; InvalidCurrencyError for a bad currency code or a line item
    or amount in another currency; InvariantViolationError when it is won but not closed, has no name or
    stage, repeats a line item id, or has a non-date close date or non-UTC timestamps.
    """

    org_id: str
    external_id: str
    account_id: str
    name: str
    stage: str
    close_date: date
    currency: str
    is_closed: bool = False
    is_won: bool = False
    amount: Money | None = None
    line_items: list[LineItem] = field(default_factory=list)
    created_at: datetime = field(default_factory=utc_now)
    modified_at: datetime = field(default_factory=utc_now)
    is_deleted: bool = False

    def __post_init__(self) -> None:
        self.external_id = SalesforceId.parse(self.external_id).value
        self.account_id = SalesforceId.parse(self.account_id).value
        if not self.name or not self.name.strip():
            raise InvariantViolationError(f"opportunity {self.external_id} has no name")
        if not self.stage or not self.stage.strip():
            raise InvariantViolationError(f"opportunity {self.external_id} has no stage")
        Money.zero(self.currency)  # validates the currency code
        self._require_outcome(is_closed=self.is_closed, is_won=self.is_won)
        _require_date(self.close_date, "close_date")
        if self.amount is not None:
            self._require_currency(self.amount)
        items, self.line_items = self.line_items, []
        for item in items:
            self.add_line_item(item)
        require_utc(self.created_at, "created_at")
        require_utc(self.modified_at, "modified_at")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opportunity) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    @property
    def key(self) -> tuple[str, str]:
        return (self.org_id, self.external_id)

    @property
    def account_key(self) -> AccountKey:
        return AccountKey(self.org_id, self.account_id)

    @property
    def status(self) -> OpportunityStatus:
        if not self.is_closed:
            return OpportunityStatus.OPEN
        return OpportunityStatus.WON if self.is_won else OpportunityStatus.LOST

    @property
    def total(self) -> Money:
        """The sum of the line items, in the opportunity's currency (zero without line items)."""
        total = Money.zero(self.currency)
        for item in self.line_items:
            total = total + item.amount
        return total

    @property
    def product_keys(self) -> frozenset[ProductKey]:
        return frozenset(ProductKey(self.org_id, item.product_id) for item in self.line_items)

    def add_line_item(self, item: LineItem) -> None:
        """Append a line item.

        Raises InvalidCurrencyError when its currency differs; InvariantViolationError on a repeated id.
        """
        self._require_currency(item.amount)
        if any(existing.external_id == item.external_id for existing in self.line_items):
            raise InvariantViolationError(
                f"opportunity {self.external_id} already has line item {item.external_id}"
            )
        self.line_items.append(item)

    def remove_line_item(self, external_id: str) -> LineItem:
        """Raises NotFoundError when no line item has that id (15- or 18-character form)."""
        wanted = SalesforceId.parse(external_id).value
        for item in self.line_items:
            if item.external_id == wanted:
                self.line_items.remove(item)
                return item
        raise NotFoundError(f"opportunity {self.external_id} has no line item {external_id}")

    def close(self, *, won: bool, stage: str, close_date: date) -> None:
        """Mark the deal won or lost. Raises InvariantViolationError for an empty stage or a non-date."""
        if not stage or not stage.strip():
            raise InvariantViolationError("a closed opportunity still names its stage")
        _require_date(close_date, "close_date")
        self.stage, self.close_date = stage, close_date
        self.is_closed, self.is_won = True, won

    def reopen(self, *, stage: str) -> None:
        """Salesforce lets a closed deal reopen; it is then neither closed nor won."""
        if not stage or not stage.strip():
            raise InvariantViolationError("a reopened opportunity names its stage")
        self.stage, self.is_closed, self.is_won = stage, False, False

    def _require_outcome(self, *, is_closed: bool, is_won: bool) -> None:
        if is_won and not is_closed:
            raise InvariantViolationError(f"opportunity {self.external_id} is won but not closed")

    def _require_currency(self, amount: Money) -> None:
        if amount.currency != self.currency:
            raise InvalidCurrencyError(
                f"opportunity {self.external_id} is in {self.currency}, not {amount.currency}"
            )
