"""Per-org sync schedules: which orgs are due now, each on its own cron, missed runs coalesced into one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from application.errors import InvalidRequestError
from application.ports.clock import Clock
from application.ports.schedule import CronCalendar
from application.ports.sync import SyncUnitOfWork
from domain.sync import OrgSyncState

__all__ = ["DueSyncs", "SyncTimetable"]


@dataclass
class _Entry:
    schedule: str
    due_at: datetime


class SyncTimetable:
    """The next sync time of every org, kept by the one scheduler process between ticks.

    An org seen for the first time, or whose schedule changed, is due at its schedule's next time after
    now (not at once: a scheduler restart must not queue every org). An org found past its time is due
    once, however many times it was missed (the scheduler was down), and moves to its next time after now.
    """

    def __init__(self, calendar: CronCalendar, default_schedule: str) -> None:
        calendar.check(default_schedule)
        self._calendar = calendar
        self._default = default_schedule
        self._entries: dict[str, _Entry] = {}
        self.invalid: dict[str, str] = {}  # org -> why its schedule cannot be read

    def due(self, schedules: Mapping[str, str | None], now: datetime) -> list[str]:
        """The orgs due at `now`, from each org's schedule (None: the default); forgets orgs not given."""
        for gone in set(self._entries) - set(schedules):
            del self._entries[gone]
        due = []
        for org_id, own in sorted(schedules.items()):
            schedule = own or self._default
            entry = self._entries.get(org_id)
            try:
                if entry is None or entry.schedule != schedule:
                    self._entries[org_id] = _Entry(schedule, self._calendar.next_after(schedule, now))
                    continue
                if entry.due_at <= now:
                    due.append(org_id)
                    entry.due_at = self._calendar.next_after(schedule, now)
            except InvalidRequestError as error:
                self._entries.pop(org_id, None)
                self.invalid[org_id] = str(error)
            else:
                self.invalid.pop(org_id, None)
        return due

    def next_due(self) -> datetime | None:
        """The earliest time any org is due, None when there is none."""
        return min((entry.due_at for entry in self._entries.values()), default=None)


class DueSyncs:
    """The orgs whose scheduled sync is due now; orgs waiting for a human (attention) are left out."""

    def __init__(self, uow: SyncUnitOfWork, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def execute(self, timetable: SyncTimetable) -> list[str]:
        async with self._uow as uow:
            schedules: dict[str, str | None] = {}
            for org in await uow.orgs.list():
                status = await uow.org_status.get(org.id)
                if status is None or status.state is not OrgSyncState.ATTENTION:
                    schedules[org.id] = org.sync_schedule
        return timetable.due(schedules, self._clock.now())
