"""The whitespace map: per industry (or per top customer) and product family, how many customers own the
family, are offered it, or neither, and what the open offers are worth."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from application.errors import InvalidRequestError
from domain.access import Principal

__all__ = [
    "ShowWhitespace",
    "Whitespace",
    "WhitespaceAxis",
    "WhitespaceCell",
    "WhitespaceRow",
    "WhitespaceSource",
]

MAX_ROWS = 100


class WhitespaceAxis(StrEnum):
    INDUSTRY = "industry"
    CUSTOMER = "customer"


@dataclass(frozen=True)
class WhitespaceRow:
    """An industry (key = label = the industry) or a customer (key = id, label = name)."""

    key: str
    label: str
    customers: int


@dataclass(frozen=True)
class WhitespaceCell:
    """One row x family: customers that own it, that have an open offer of it, the offers' value."""

    row: str
    family_id: str
    owned: int
    recommended: int
    expected_value: float


@dataclass(frozen=True)
class Whitespace:
    by: WhitespaceAxis
    rows: list[WhitespaceRow]
    families: list[str]
    cells: list[WhitespaceCell]
    # The group currency that expected values are summed in; None when there is no open offer.
    currency: str | None

    def empty(self, cell: WhitespaceCell) -> int:
        """Customers of the row that neither own the family nor are offered it."""
        customers = next((r.customers for r in self.rows if r.key == cell.row), 0)
        return max(customers - cell.owned - cell.recommended, 0)


class WhitespaceSource(Protocol):
    """Read side of ownership and open offers, always within an org scope (None: every org). A customer
    counts when it has a member account in a readable org; ownership counts only readable orgs' won
    opportunities; offers only open ones (new, accepted) sold through a readable org."""

    async def by_industry(self, readable: frozenset[str] | None) -> Whitespace:
        """Every industry of the customers in scope (one per customer: the first of its accounts'
        industries by name; "Unknown" when none is synced), by name."""
        ...

    async def by_customer(self, readable: frozenset[str] | None, limit: int) -> Whitespace:
        """The `limit` customers whose open offers are worth the most, most first."""
        ...


class ShowWhitespace:
    def __init__(self, source: WhitespaceSource) -> None:
        self._source = source

    async def execute(self, principal: Principal, by: WhitespaceAxis, *, limit: int = 20) -> Whitespace:
        """Raises InvalidRequestError for a row limit outside 1-MAX_ROWS (customer rows only)."""
        if not 1 <= limit <= MAX_ROWS:
            raise InvalidRequestError(f"limit must be between 1 and {MAX_ROWS}, got {limit}")
        if by is WhitespaceAxis.CUSTOMER:
            return await self._source.by_customer(principal.read_scope, limit)
        return await self._source.by_industry(principal.read_scope)
