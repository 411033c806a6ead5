"""Account: an org-scoped company record as synced from the CRM."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlsplit

from domain.errors import InvariantViolationError
from domain.ids import SalesforceId
from domain.money import Money
from domain.timestamps import require_utc, utc_now

__all__ = ["Account", "AccountKey", "domain_of"]


@dataclass(frozen=True, slots=True, order=True)
class AccountKey:
    """An account's identity: the org it lives in and its 18-character id there."""

    org_id: str
    external_id: str


def domain_of(website: str | None) -> str | None:
    """The registrable-looking host of a website (`https://www.Acme.com/x` -> `acme.com`), or None."""
    if not website or not website.strip():
        return None
    text = website.strip().lower()
    if "://" not in text:
        text = "http://" + text
    host = urlsplit(text).hostname
    if not host or "." not in host:
        return None
    return host.removeprefix("www.")


@dataclass(eq=False)
class Account:
    """A company as one org knows it. Identity is (org_id, external_id); the id is always 18 characters."""

    org_id: str
    external_id: str
    name: str
    currency: str
    website: str | None = None
    industry: str | None = None
    employees: int | None = None
    annual_revenue: Decimal | None = None
    billing_street: str | None = None
    billing_city: str | None = None
    billing_state: str | None = None
    billing_postal_code: str | None = None
    billing_country: str | None = None
    phone: str | None = None
    owner_id: str | None = None
    owner_name: str | None = None
    parent_external_id: str | None = None
    created_at: datetime = field(default_factory=utc_now)
    modified_at: datetime = field(default_factory=utc_now)
    is_deleted: bool = False

    def __post_init__(self) -> None:
        self.external_id = SalesforceId.parse(self.external_id).value
        if self.parent_external_id is not None:
            self.parent_external_id = SalesforceId.parse(self.parent_external_id).value
        if not self.name or not self.name.strip():
            raise InvariantViolationError(f"account {self.external_id} has no name")
        if self.employees is not None and self.employees < 0:
            raise InvariantViolationError(f"account {self.external_id} has a negative employee count")
        if self.annual_revenue is not None and self.annual_revenue < 0:
            raise InvariantViolationError(f"account {self.external_id} has negative annual revenue")
        Money.zero(self.currency)  # validates the currency code
        require_utc(self.created_at, "created_at")
        require_utc(self.modified_at, "modified_at")

    @property
    def key(self) -> AccountKey:
        return AccountKey(self.org_id, self.external_id)

    @property
    def domain(self) -> str | None:
        return domain_of(self.website)

    @property
    def revenue(self) -> Money | None:
        """Annual revenue with its currency, or None when the CRM has none."""
        return None if self.annual_revenue is None else Money(self.annual_revenue, self.currency)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Account) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)
