"""Salesforce's date and datetime wire formats, kept as sortable canonical strings.

Datetimes live in the store as REST-format strings (`2024-11-07T07:00:00.000+0000`, always UTC). Their
fixed width makes lexicographic order equal time order, so SOQL comparisons and ORDER BY need no parsing.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

__all__ = [
    "bulk_datetime",
    "format_datetime",
    "now_datetime",
    "parse_date",
    "parse_datetime",
]

_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$"
)


def format_datetime(moment: datetime) -> str:
    """REST JSON form of a datetime: `2024-11-07T07:00:00.000+0000` (converted to UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}:"
        f"{moment.second:02d}.{moment.microsecond // 1000:03d}+0000"
    )


def now_datetime() -> str:
    return format_datetime(datetime.now(UTC))


def parse_datetime(text: str) -> str:
    """Canonical form of an ISO-8601 / SOQL datetime literal; raises ValueError when it is not one."""
    match = _DATETIME.match(text.strip())
    if match is None:
        raise ValueError(f"not a datetime: {text!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    millis = int((fraction or "0")[:3].ljust(3, "0"))
    moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC)
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return format_datetime(moment + timedelta(milliseconds=millis))


def parse_date(text: str) -> str:
    """Canonical `YYYY-MM-DD` form of a date literal; raises ValueError when it is not one."""
    return date.fromisoformat(text.strip()).isoformat()


def bulk_datetime(canonical: str) -> str:
    """Bulk API 2.0 CSV form of a stored datetime: `2024-01-31T12:34:56.000Z`."""
    return canonical[:23] + "Z"


def datetime_from_canonical(canonical: str) -> datetime:
    return datetime.strptime(canonical, "%Y-%m-%dT%H:%M:%S.%f+0000").replace(tzinfo=UTC)
