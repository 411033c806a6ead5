"""ApschedulerCronCalendar: five-field cron expressions (UTC) read by APScheduler's CronTrigger."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from application.errors import InvalidRequestError

__all__ = ["ApschedulerCronCalendar"]


@functools.lru_cache(maxsize=256)
def _trigger(expression: str) -> CronTrigger:
    try:
        return CronTrigger.from_crontab(expression, timezone=UTC)
    except ValueError as error:
        raise InvalidRequestError(f"not a cron schedule {expression!r}: {error}") from None


class ApschedulerCronCalendar:
    def check(self, expression: str) -> None:
        _trigger(expression)

    def next_after(self, expression: str, moment: datetime) -> datetime:
        # The trigger answers "at or after"; a microsecond later makes it strictly after.
        fire: datetime | None = _trigger(expression).get_next_fire_time(
            None, moment + timedelta(microseconds=1)
        )
        if fire is None:
            raise InvalidRequestError(f"the cron schedule {expression!r} never fires again")
        return fire.astimezone(UTC)
