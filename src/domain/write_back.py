"""WriteBack: one accepted recommendation written into its org's CRM as a Task or an Opportunity, once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.errors import InvariantViolationError
from domain.ids import SalesforceId
from domain.timestamps import require_utc

__all__ = ["MAX_IDEMPOTENCY_KEY", "WriteBack", "WriteBackKind", "WriteBackStatus", "check_idempotency_key"]

MAX_IDEMPOTENCY_KEY = 200


class WriteBackKind(StrEnum):
    TASK = "task"
    OPPORTUNITY = "opportunity"


class WriteBackStatus(StrEnum):
    """pending: asked for, not (known to be) in the CRM yet; done: the CRM id is stored; failed: the CRM
    refused for good (a retry tries again, after looking for the record first)."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


def check_idempotency_key(key: str) -> str:
    """The key as given; raises InvariantViolationError unless it is 1-200 printable ASCII characters."""
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY or not all(" " <= ch <= "~" for ch in key):
        raise InvariantViolationError(
            f"an Idempotency-Key is 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters"
        )
    return key


@dataclass(eq=False)
class WriteBack:
    """The record of one write-back: which offer, where (org and account), under which idempotency key,
    and what the CRM answered.

    `attempted_at` is the start of the attempt now under way (None when none is): an attempt older than
    the lease is taken to have died, and the next one may take over. Raises InvariantViolationError for
    an empty id, a malformed key or account id, or non-UTC times.
    """

    recommendation_id: str
    kind: WriteBackKind
    idempotency_key: str
    org_id: str
    account_id: str
    requested_by: str
    created_at: datetime
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    status: WriteBackStatus = WriteBackStatus.PENDING
    salesforce_id: str | None = None
    error: str | None = None
    attempted_at: datetime | None = None
    done_at: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("recommendation_id", "org_id", "requested_by"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise InvariantViolationError(f"a write-back needs a non-empty {name}")
        self.kind = WriteBackKind(self.kind)
        self.status = WriteBackStatus(self.status)
        check_idempotency_key(self.idempotency_key)
        self.account_id = SalesforceId.parse(self.account_id).value
        for name in ("created_at", "attempted_at", "done_at"):
            require_utc(getattr(self, name), name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WriteBack) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def marker(self) -> str:
        """Put in the record's Description, so a retry can find the record this write-back created."""
        return f"[xsell write-back {self.id}]"

    @property
    def is_done(self) -> bool:
        return self.status is WriteBackStatus.DONE

    def succeed(self, salesforce_id: str, at: datetime) -> None:
        """The CRM holds the record: store its id. Raises InvariantViolationError for a malformed id."""
        require_utc(at, "at")
        self.salesforce_id = SalesforceId.parse(salesforce_id).value
        self.status, self.error, self.attempted_at, self.done_at = WriteBackStatus.DONE, None, None, at

    def give_up(self, reason: str, *, permanent: bool) -> None:
        """The attempt ended without a record: pending again after a passing failure, failed otherwise."""
        if self.is_done:
            raise InvariantViolationError(f"write-back {self.id} is done; it cannot fail any more")
        self.status = WriteBackStatus.FAILED if permanent else WriteBackStatus.PENDING
        self.error, self.attempted_at = reason, None
