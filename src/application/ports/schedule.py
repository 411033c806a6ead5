"""CronCalendar: when a cron schedule fires next."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

__all__ = ["CronCalendar"]


class CronCalendar(Protocol):
    def check(self, expression: str) -> None:
        """Raises InvalidRequestError when `expression` is not a five-field cron schedule (UTC)."""
        ...

    def next_after(self, expression: str, moment: datetime) -> datetime:
        """The first time strictly after `moment` that the schedule fires (UTC); raises InvalidRequestError
        for a bad expression."""
        ...
