"""The product crosswalk: which group product family each org's products belong to."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.errors import InvariantViolationError, NotFoundError
from domain.events import Event, ProductFamilyMappingChanged
from domain.product import ProductKey
from domain.product_family import ProductFamily
from domain.timestamps import require_utc

__all__ = ["FamilyMapping", "MappingSource", "ProductCrosswalk"]


class MappingSource(StrEnum):
    """Where a product's family came from; automatic sources in the order the matcher tries them."""

    PRODUCT2_FAMILY = "product2_family"
    NAME = "name"
    PRODUCT_CODE = "product_code"
    DESCRIPTION = "description"
    HUMAN = "human"


@dataclass(frozen=True)
class FamilyMapping:
    """A product's place in the catalog. `family_id` None means "belongs to no family" (a fee, a service).

    Raises InvariantViolationError for a confidence outside [0, 1], an empty `decided_by`, a non-UTC
    `decided_at`, or an automatic suggestion without a family.
    """

    product: ProductKey
    family_id: str | None
    source: MappingSource
    confidence: float
    confirmed: bool
    decided_by: str
    decided_at: datetime

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "source", MappingSource(self.source))
        except ValueError as exc:
            raise InvariantViolationError(f"unknown mapping source {self.source!r}") from exc
        if isinstance(self.confidence, bool) or not math.isfinite(self.confidence):
            raise InvariantViolationError(f"a mapping confidence is a finite number, got {self.confidence!r}")
        if not 0.0 <= self.confidence <= 1.0:
            raise InvariantViolationError(f"a mapping confidence lies in [0, 1], got {self.confidence}")
        if not self.decided_by or not self.decided_by.strip():
            raise InvariantViolationError("a mapping names who decided it")
        if self.family_id is None and self.source is not MappingSource.HUMAN:
            raise InvariantViolationError("only a person can decide that a product belongs to no family")
        require_utc(self.decided_at, "decided_at")


@dataclass(eq=False)
class ProductCrosswalk:
    """The group catalog and the mapping of every org's products onto it (one aggregate).

    Automatic suggestions fill gaps and may replace earlier suggestions; they never override a
    confirmed mapping, so a person's decision survives every later run.
    """

    families: dict[str, ProductFamily] = field(default_factory=dict)
    mappings: dict[ProductKey, FamilyMapping] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)

    def add_family(self, family: ProductFamily) -> None:
        """Add a family to the catalog. Raises InvariantViolationError when its id is taken."""
        if family.id in self.families:
            raise InvariantViolationError(f"product family {family.id} already exists")
        self.families[family.id] = family

    def family_of(self, product: ProductKey) -> str | None:
        """The family a product belongs to (confirmed or suggested); None when unmapped or mapped to none."""
        mapping = self.mappings.get(product)
        return None if mapping is None else mapping.family_id

    def products_of(self, family_id: str) -> frozenset[ProductKey]:
        return frozenset(key for key, m in self.mappings.items() if m.family_id == family_id)

    def unmapped(self, products: Iterable[ProductKey]) -> list[ProductKey]:
        """The given products that have no mapping at all, in order: the review queue's input."""
        return [key for key in products if key not in self.mappings]

    def suggest(
        self,
        product: ProductKey,
        family_id: str,
        *,
        source: MappingSource,
        confidence: float,
        decided_by: str,
        at: datetime,
    ) -> FamilyMapping:
        """Record an automatic suggestion and return the mapping now in force.

        A confirmed mapping is kept as is (and returned). Raises NotFoundError for an unknown family and
        InvariantViolationError when `source` is HUMAN (people assign or confirm) or values are invalid.
        """
        if source == MappingSource.HUMAN:
            raise InvariantViolationError("a person assigns or confirms a mapping; suggestions are automatic")
        self._require_family(family_id)
        current = self.mappings.get(product)
        if current is not None and current.confirmed:
            return current
        mapping = FamilyMapping(product, family_id, source, confidence, False, decided_by, at)
        self._put(mapping, current)
        return mapping

    def assign(
        self, product: ProductKey, family_id: str | None, *, decided_by: str, at: datetime
    ) -> FamilyMapping:
        """A person maps `product` to `family_id` (or to no family).

        Raises NotFoundError for an unknown family.
        """
        if family_id is not None:
            self._require_family(family_id)
        current = self.mappings.get(product)
        mapping = FamilyMapping(product, family_id, MappingSource.HUMAN, 1.0, True, decided_by, at)
        self._put(mapping, current)
        return mapping

    def confirm(self, product: ProductKey, *, decided_by: str, at: datetime) -> FamilyMapping:
        """A person accepts the current suggestion. Raises NotFoundError when the product has no mapping."""
        current = self.mappings.get(product)
        if current is None:
            raise NotFoundError(f"product {product} has no mapping to confirm")
        return self.assign(product, current.family_id, decided_by=decided_by, at=at)

    def _require_family(self, family_id: str) -> None:
        if family_id not in self.families:
            raise NotFoundError(f"no product family {family_id!r} in the catalog")

    def _put(self, mapping: FamilyMapping, previous: FamilyMapping | None) -> None:
        self.mappings[mapping.product] = mapping
        previous_family = None if previous is None else previous.family_id
        # Re-suggesting the same family is routine on every run; only real changes and decisions are news.
        if (
            previous is None
            or previous_family != mapping.family_id
            or mapping.confirmed != previous.confirmed
        ):
            self.events.append(
                ProductFamilyMappingChanged(
                    occurred_at=mapping.decided_at,
                    org_id=mapping.product.org_id,
                    product_id=mapping.product.external_id,
                    family_id=mapping.family_id,
                    previous_family_id=previous_family,
                    source=mapping.source,
                    decided_by=mapping.decided_by,
                )
            )
