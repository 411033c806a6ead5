"""Sync rules: which objects sync, the (SystemModstamp, Id) cursor, the API budget, and retry backoff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.errors import InvariantViolationError
from domain.timestamps import require_utc

__all__ = [
    "SYNC_OBJECTS",
    "ApiUsage",
    "BackoffPolicy",
    "OrgSyncState",
    "SyncCursor",
    "SyncRunStatus",
]

# Parents before children, so a first load lands accounts before the contacts that point at them.
SYNC_OBJECTS: tuple[str, ...] = (
    "Product2",
    "PricebookEntry",
    "Account",
    "Contact",
    "Opportunity",
    "OpportunityLineItem",
    "Task",
    "Event",
)


class OrgSyncState(StrEnum):
    """Where an org's sync stands between runs."""

    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"  # stopped at the API budget share; the next run resumes
    PARKED = "parked"  # Salesforce refused with REQUEST_LIMIT_EXCEEDED; the next run tries again
    ATTENTION = "attention"  # a permanent error (bad credentials, a rejected query): a human must act


class SyncRunStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    PAUSED = "paused"
    PARKED = "parked"
    FAILED = "failed"


@dataclass(frozen=True, order=True, slots=True)
class SyncCursor:
    """The last record a committed page ended with; ordered by (modstamp, id), so it only moves forward."""

    modstamp: datetime
    last_id: str

    def __post_init__(self) -> None:
        require_utc(self.modstamp, "modstamp")

    def query_from(self, lookback: timedelta) -> datetime:
        """Where the next query starts: records that became visible late, stamped earlier, are re-read."""
        return self.modstamp - lookback

    def later(self, other: SyncCursor | None) -> SyncCursor:
        """The later of two cursors (a cursor never moves backwards)."""
        return self if other is None or self > other else other


@dataclass(frozen=True, slots=True)
class ApiUsage:
    """Daily API requests used and allowed, as the org last reported them (Sforce-Limit-Info)."""

    used: int
    max: int

    def __post_init__(self) -> None:
        if self.used < 0 or self.max < 0:
            raise InvariantViolationError(f"API usage cannot be negative: {self.used}/{self.max}")

    def share(self) -> float:
        return 1.0 if self.max == 0 else self.used / self.max

    def reached(self, budget_share: float) -> bool:
        """True once xsell may not spend more of today's budget (it leaves the rest to other integrations)."""
        if not 0 < budget_share <= 1:
            raise InvariantViolationError(f"a budget share is in (0, 1], got {budget_share}")
        return self.share() >= budget_share


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """Exponential backoff with full jitter for transient errors only; `attempts` includes the first try."""

    attempts: int = 5
    base_s: float = 0.5
    cap_s: float = 30.0

    def delay(self, retry: int, jitter: float) -> float:
        """Seconds to wait before retry number `retry` (1-based); `jitter` is a uniform draw in [0, 1)."""
        if retry < 1:
            raise InvariantViolationError("retries are numbered from 1")
        return min(self.cap_s, self.base_s * float(2 ** (retry - 1))) * jitter
