"""Org: one connected CRM org of the group (its credentials live elsewhere, encrypted)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.errors import InvalidCurrencyError, InvariantViolationError
from domain.timestamps import require_utc, utc_now

__all__ = ["Org", "OrgKind"]

_ORG_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{1,39}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class OrgKind(StrEnum):
    SALESFORCE = "salesforce"
    CSV = "csv"
    MEMORY = "memory"


@dataclass(eq=False)
class Org:
    """A CRM org. `id` is a short slug chosen by the admin (`emea`, `acme-us`), stable for life."""

    id: str
    name: str
    kind: OrgKind
    business_unit: str
    currency: str
    instance_url: str | None = None
    external_id: str | None = None
    created_at: datetime = field(default_factory=utc_now)
    sync_schedule: str | None = None  # five-field cron (UTC); None: the default schedule

    def reschedule(self, schedule: str | None) -> None:
        """Sync on `schedule` from now on (None or blank: the default schedule)."""
        self.sync_schedule = " ".join(schedule.split()) if schedule and schedule.strip() else None

    def __post_init__(self) -> None:
        if not _ORG_ID.match(self.id):
            raise InvariantViolationError(
                f"an org id is 2-40 lower-case letters, digits, '-' or '_', starting with a letter or digit;"
                f" got {self.id!r}"
            )
        if not self.name.strip():
            raise InvariantViolationError("an org needs a name")
        if not _CURRENCY.match(self.currency):
            raise InvalidCurrencyError(f"an org currency is a 3-letter ISO 4217 code, got {self.currency!r}")
        self.kind = OrgKind(self.kind)
        self.reschedule(self.sync_schedule)
        require_utc(self.created_at, "created_at")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Org) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)
