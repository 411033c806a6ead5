"""Wire types of the whitespace map (rows x product families: owned, offered, empty, expected value)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from application.whitespace import Whitespace, WhitespaceAxis, WhitespaceCell, WhitespaceRow

__all__ = ["WhitespaceCellOut", "WhitespaceOut", "WhitespaceRowOut"]


class WhitespaceRowOut(msgspec.Struct, frozen=True, kw_only=True):
    """An industry, or one customer."""

    key: Annotated[
        str, msgspec.Meta(description="The industry, or the customer id.", examples=["Transportation"])
    ]
    label: Annotated[
        str, msgspec.Meta(description="The industry, or the customer name.", examples=["Transportation"])
    ]
    customers: Annotated[
        int, msgspec.Meta(description="Customers in the row (1 for a customer).", examples=[42])
    ]
    expected_value: Annotated[
        float, msgspec.Meta(description="Open offers' value in the row, in `currency`.", examples=[182500.0])
    ]

    @classmethod
    def of(cls, row: WhitespaceRow, total: float) -> WhitespaceRowOut:
        return cls(key=row.key, label=row.label, customers=row.customers, expected_value=round(total, 2))


class WhitespaceCellOut(msgspec.Struct, frozen=True, kw_only=True):
    """One row x family. Cells with nothing owned or offered are left out: all their customers are empty."""

    row: Annotated[str, msgspec.Meta(description="The row's `key`.", examples=["Transportation"])]
    family_id: Annotated[str, msgspec.Meta(examples=["analytics"])]
    owned: Annotated[int, msgspec.Meta(description="Customers owning the family.", examples=[12])]
    recommended: Annotated[int, msgspec.Meta(description="Customers with an open offer of it.", examples=[9])]
    empty: Annotated[int, msgspec.Meta(description="Customers with neither.", examples=[21])]
    expected_value: Annotated[
        float, msgspec.Meta(description="The open offers' value, in `currency`.", examples=[40200.0])
    ]

    @classmethod
    def of(cls, cell: WhitespaceCell, empty: int) -> WhitespaceCellOut:
        return cls(
            row=cell.row,
            family_id=cell.family_id,
            owned=cell.owned,
            recommended=cell.recommended,
            empty=empty,
            expected_value=cell.expected_value,
        )


class WhitespaceOut(msgspec.Struct, frozen=True, kw_only=True):
    """Rows (industries by name, or customers by open value) x product families, with totals."""

    by: Annotated[WhitespaceAxis, msgspec.Meta(examples=["industry"])]
    currency: Annotated[
        str | None,
        msgspec.Meta(description="Group currency of the values; null with no open offer.", examples=["USD"]),
    ]
    families: Annotated[list[str], msgspec.Meta(examples=[["analytics", "crm"]])]
    rows: list[WhitespaceRowOut]
    cells: list[WhitespaceCellOut]
    family_totals: Annotated[
        dict[str, float],
        msgspec.Meta(description="Open offers' value per family.", examples=[{"analytics": 40200.0}]),
    ]
    total: Annotated[float, msgspec.Meta(description="Open offers' value in the map.", examples=[182500.0])]

    @classmethod
    def of(cls, map_: Whitespace) -> WhitespaceOut:
        by_row: dict[str, float] = {}
        by_family: dict[str, float] = dict.fromkeys(map_.families, 0.0)
        for cell in map_.cells:
            by_row[cell.row] = by_row.get(cell.row, 0.0) + cell.expected_value
            by_family[cell.family_id] += cell.expected_value
        return cls(
            by=map_.by,
            currency=map_.currency,
            families=map_.families,
            rows=[WhitespaceRowOut.of(r, by_row.get(r.key, 0.0)) for r in map_.rows],
            cells=[WhitespaceCellOut.of(c, map_.empty(c)) for c in map_.cells],
            family_totals={family: round(value, 2) for family, value in by_family.items()},
            total=round(sum(by_family.values()), 2),
        )
