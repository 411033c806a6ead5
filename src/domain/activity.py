"""Activity: a Task or Event logged against an account (calls, e-mails, meetings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.account import AccountKey
from domain.errors import InvariantViolationError
from domain.ids import SalesforceId
from domain.timestamps import require_utc, utc_now

__all__ = ["Activity", "ActivityDirection", "ActivityKind", "ActivityType"]


class ActivityKind(StrEnum):
    """Which Salesforce object the activity came from."""

    TASK = "task"
    EVENT = "event"


class ActivityType(StrEnum):
    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    OTHER = "other"

    @classmethod
    def from_crm(cls, raw: str | None) -> ActivityType:
        """Map a CRM picklist value (`Call`, `Email`, `Meeting`, custom values) onto the four types."""
        text = (raw or "").strip().lower().replace("-", "")
        # Orgs customise the Type picklist; anything unrecognised still counts as activity, as OTHER.
        return {"call": cls.CALL, "email": cls.EMAIL, "meeting": cls.MEETING}.get(text, cls.OTHER)


class ActivityDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    UNKNOWN = "unknown"


@dataclass(eq=False)
class Activity:
    """One Task or Event on an account. Identity is (org_id, external_id).

    Raises InvalidIdError for malformed ids and InvariantViolationError for an unknown kind, type or
    direction, or a non-UTC time.
    """

    org_id: str
    external_id: str
    account_id: str
    kind: ActivityKind
    activity_type: ActivityType
    occurred_at: datetime
    direction: ActivityDirection = ActivityDirection.UNKNOWN
    subject: str | None = None
    owner_id: str | None = None
    modified_at: datetime = field(default_factory=utc_now)
    is_deleted: bool = False

    def __post_init__(self) -> None:
        self.external_id = SalesforceId.parse(self.external_id).value
        self.account_id = SalesforceId.parse(self.account_id).value
        try:
            self.kind = ActivityKind(self.kind)
            self.activity_type = ActivityType(self.activity_type)
            self.direction = ActivityDirection(self.direction)
        except ValueError as exc:
            raise InvariantViolationError(f"activity {self.external_id}: {exc}") from exc
        require_utc(self.occurred_at, "occurred_at")
        require_utc(self.modified_at, "modified_at")

    @property
    def key(self) -> tuple[str, str]:
        return (self.org_id, self.external_id)

    @property
    def account_key(self) -> AccountKey:
        return AccountKey(self.org_id, self.account_id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Activity) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)
