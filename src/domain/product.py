"""Product: one org's Product2 record, the thing a line item sells."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.errors import InvariantViolationError
from domain.ids import SalesforceId
from domain.timestamps import require_utc, utc_now

__all__ = ["Product", "ProductKey"]


@dataclass(frozen=True, slots=True, order=True)
class ProductKey:
    """A product's identity: the org it lives in and its 18-character Product2 id there."""

    org_id: str
    external_id: str


@dataclass(eq=False)
class Product:
    """An org-scoped Product2. `family` is the org's own Product2.Family picklist value, not the group family.

    Raises InvalidIdError for a malformed id and InvariantViolationError for an empty name or a non-UTC time.
    """

    org_id: str
    external_id: str
    name: str
    product_code: str | None = None
    family: str | None = None
    description: str | None = None
    is_active: bool = True
    created_at: datetime = field(default_factory=utc_now)
    modified_at: datetime = field(default_factory=utc_now)
    is_deleted: bool = False

    def __post_init__(self) -> None:
        self.external_id = SalesforceId.parse(self.external_id).value
        if not self.org_id:
            raise InvariantViolationError(f"product {self.external_id} belongs to no org")
        if not self.name or not self.name.strip():
            raise InvariantViolationError(f"product {self.external_id} has no name")
        require_utc(self.created_at, "created_at")
        require_utc(self.modified_at, "modified_at")

    @property
    def key(self) -> ProductKey:
        return ProductKey(self.org_id, self.external_id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Product) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)
