"""Time rules of the model: every timestamp is timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.errors import InvariantViolationError

__all__ = ["require_utc", "utc_now"]


def utc_now() -> datetime:
    return datetime.now(UTC)


def require_utc(value: datetime | None, name: str) -> None:
    """Raise InvariantViolationError when `value` is a naive datetime or not in UTC."""
    if value is None:
        return
    if value.tzinfo is None or value.utcoffset() != UTC.utcoffset(None):
        raise InvariantViolationError(f"{name} must be a timezone-aware UTC datetime, got {value!r}")
