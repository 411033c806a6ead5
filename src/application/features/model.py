"""What flows through the feature store: point-in-time inputs, a computed batch, one customer's vector."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "CustomerFeatures",
    "FeatureBatch",
    "FeatureInputs",
    "FeatureLayout",
    "FeatureVector",
    "cutoff_instant",
]

Number = float | None


def cutoff_instant(as_of: date) -> datetime:
    """The first instant after `as_of`: a record is known at the cutoff when it was created before this."""
    return datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=UTC)


@dataclass(frozen=True)
class FeatureInputs:
    """Raw records a feature source read for a cutoff, as dataframes (columns documented per field).

    A source may pre-filter by the cutoff to read less; the computation applies every point-in-time rule
    itself, so a source that hands over more (a fake, a later snapshot) gives the same values.

    - members: customer_id, org_id, account_id, confidence (0..1)
    - accounts: org_id, account_id, industry, employees, annual_revenue, country, created_at
    - products: org_id, product_id, family_id (only products mapped to a family)
    - opportunities: org_id, opportunity_id, account_id, amount, is_closed, is_won, close_date (date),
      created_at
    - line_items: org_id, line_item_id, opportunity_id, product_id, total_price, created_at
    - activities: org_id, account_id, kind (task|event), activity_type, activity_at, created_at
    `created_at` is when xsell's sources first knew the record (timezone-aware UTC).
    """

    as_of: date
    families: tuple[str, ...]
    members: Any
    accounts: Any
    products: Any
    opportunities: Any
    line_items: Any
    activities: Any


@dataclass(frozen=True)
class FeatureLayout:
    """The column order of a feature set's vectors; identical for the offline and the online store."""

    feature_set_version: str
    numbers: tuple[str, ...]
    labels: tuple[str, ...]
    pair_numbers: tuple[str, ...]


@dataclass(frozen=True)
class FeatureBatch:
    """One computation's output for every customer known at `as_of`.

    numbers: (customers, len(layout.numbers)) float64, NaN where unknown;
    labels: (customers, len(layout.labels)) object, None where unknown;
    pair_numbers: (customers, families, len(layout.pair_numbers)) float64.
    """

    as_of: date
    layout: FeatureLayout
    customer_ids: tuple[str, ...]
    families: tuple[str, ...]
    numbers: npt.NDArray[np.float64]
    labels: npt.NDArray[np.object_]
    pair_numbers: npt.NDArray[np.float64]

    def vector(self, row: int) -> FeatureVector:
        """Row `row` as the vector both stores hold."""
        return FeatureVector(
            customer_id=self.customer_ids[row],
            as_of=self.as_of,
            families=self.families,
            numbers=_numbers(self.numbers[row]),
            labels=tuple(None if v is None else str(v) for v in self.labels[row]),
            pair_numbers=_numbers(self.pair_numbers[row].reshape(-1)),
        )


def _numbers(values: npt.NDArray[np.float64]) -> tuple[Number, ...]:
    # NaN never equals itself; missing is None everywhere so vectors compare and serialise alike.
    return tuple(None if math.isnan(v) else v for v in values.tolist())


@dataclass(frozen=True)
class FeatureVector:
    """One customer's values as of a cutoff, in layout order; pair_numbers is family-major."""

    customer_id: str
    as_of: date
    families: tuple[str, ...]
    numbers: tuple[Number, ...]
    labels: tuple[str | None, ...]
    pair_numbers: tuple[Number, ...]


@dataclass(frozen=True)
class CustomerFeatures:
    """A vector with names: customer-level values and per-family values."""

    customer_id: str
    as_of: date
    feature_set_version: str
    values: Mapping[str, Number | str]
    families: Mapping[str, Mapping[str, Number]]

    @classmethod
    def named(cls, layout: FeatureLayout, vector: FeatureVector) -> CustomerFeatures:
        values: dict[str, Number | str] = dict(zip(layout.numbers, vector.numbers, strict=True))
        values.update(zip(layout.labels, vector.labels, strict=True))
        width = len(layout.pair_numbers)
        families = {
            family: dict(
                zip(layout.pair_numbers, vector.pair_numbers[i * width : (i + 1) * width], strict=True)
            )
            for i, family in enumerate(vector.families)
        }
        return cls(vector.customer_id, vector.as_of, layout.feature_set_version, values, families)
