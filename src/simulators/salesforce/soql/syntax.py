"""The parsed form of a SOQL query: field paths, conditions, ordering, limits."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "And",
    "Comparison",
    "Condition",
    "FieldPath",
    "Literal",
    "Not",
    "Or",
    "OrderItem",
    "Query",
    "RelativeDate",
]


@dataclass(frozen=True, slots=True)
class FieldPath:
    """`Owner.Name` as ("Owner", "Name"); `position` is its offset in the query text (for error carets)."""

    parts: tuple[str, ...]
    position: int

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True, slots=True)
class RelativeDate:
    """A date literal such as TODAY or LAST_N_DAYS:30, resolved to a [start, end) day range at run time."""

    name: str
    amount: int = 0


@dataclass(frozen=True, slots=True)
class Literal:
    """A literal value; `kind` is one of string, number, boolean, null, date, datetime, relative."""

    kind: str
    value: str | float | bool | RelativeDate | None
    position: int


@dataclass(frozen=True, slots=True)
class Comparison:
    """`field op value`; op is one of = != < <= > >= in, not in, like."""

    field: FieldPath
    op: str
    values: tuple[Literal, ...]


@dataclass(frozen=True, slots=True)
class And:
    parts: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Or:
    parts: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    part: Condition


Condition = Comparison | And | Or | Not


@dataclass(frozen=True, slots=True)
class OrderItem:
    field: FieldPath
    descending: bool
    nulls_last: bool


@dataclass(frozen=True, slots=True)
class Query:
    """A whole SELECT; `count_only` is `SELECT COUNT()`; `text` is the original query."""

    text: str
    fields: tuple[FieldPath, ...]
    count_only: bool
    object_name: str
    object_position: int
    where: Condition | None
    order_by: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None
