"""ProductFamily: a group-wide catalog entry, the unit of "what to offer" across orgs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from domain.errors import InvariantViolationError
from domain.timestamps import require_utc, utc_now

__all__ = ["ProductFamily"]

# Family ids appear in URLs, cache keys and feature names, so they are slugs.
_FAMILY_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(eq=False)
class ProductFamily:
    """A family of the group catalog (`data-platform`, `crm-suite`). Identity is `id`, stable for life.

    Raises InvariantViolationError for an id that is not a 1-64 character lower-case slug, an empty name
    or a non-UTC `created_at`.
    """

    id: str
    name: str
    description: str = ""
    is_active: bool = True
    created_at: datetime = field(default_factory=utc_now)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _FAMILY_ID.match(self.id):
            raise InvariantViolationError(
                f"a family id is 1-64 lower-case letters, digits, '-' or '_'; got {self.id!r}"
            )
        if not self.name or not self.name.strip():
            raise InvariantViolationError(f"product family {self.id} has no name")
        require_utc(self.created_at, "created_at")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ProductFamily) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)
