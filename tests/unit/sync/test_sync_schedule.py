"""Per-org sync schedules on a fake clock: each org is due on its own cron, missed runs coalesce, a
changed schedule takes effect, orgs waiting for a human are left out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.fakes import FakeClock, FakeSyncUnitOfWork

from adapters.scheduling.cron import ApschedulerCronCalendar
from application.errors import InvalidRequestError
from application.orgs import ScheduleOrg
from application.ports.sync import OrgStatus
from application.sync import DueSyncs, SyncTimetable
from domain.errors import NotFoundError
from domain.org import Org, OrgKind
from domain.sync import OrgSyncState

T0 = datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC)
CALENDAR = ApschedulerCronCalendar()


def _org(org_id: str, schedule: str | None = None) -> Org:
    return Org(org_id, org_id.upper(), OrgKind.MEMORY, "BU", "EUR", sync_schedule=schedule)


def test_next_after_is_strictly_after() -> None:
    on_the_hour = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)
    assert CALENDAR.next_after("0 * * * *", on_the_hour) == datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
    assert CALENDAR.next_after("*/15 * * * *", T0) == datetime(2026, 1, 1, 0, 15, tzinfo=UTC)
    with pytest.raises(InvalidRequestError):
        CALENDAR.check("every five minutes")


def test_each_org_is_due_on_its_own_schedule() -> None:
    clock = FakeClock(T0)
    timetable = SyncTimetable(CALENDAR, "0 * * * *")
    schedules = {"emea": "*/10 * * * *", "amer": None, "apac": "30 2 * * *"}
    assert timetable.due(schedules, clock.now()) == []  # a (re)start queues nothing at once
    fired: dict[str, list[str]] = {"emea": [], "amer": [], "apac": []}
    for _ in range(6 * 60):  # six hours, minute by minute
        clock.advance(minutes=1)
        for org_id in timetable.due(schedules, clock.now()):
            fired[org_id].append(f"{clock.now():%H:%M}")
    assert len(fired["emea"]) == 36 and fired["emea"][:2] == ["00:10", "00:20"]
    assert fired["amer"] == ["01:00", "02:00", "03:00", "04:00", "05:00", "06:00"]  # the default
    assert fired["apac"] == ["02:30"]


def test_missed_runs_coalesce_into_one_and_a_changed_schedule_restarts_the_clock() -> None:
    clock = FakeClock(T0)
    timetable = SyncTimetable(CALENDAR, "*/15 * * * *")
    assert timetable.due({"emea": None}, clock.now()) == []
    clock.advance(hours=3)  # the scheduler was stopped: twelve runs missed
    assert timetable.due({"emea": None}, clock.now()) == ["emea"]
    assert timetable.due({"emea": None}, clock.now()) == []
    assert timetable.next_due() == datetime(2026, 1, 1, 3, 15, tzinfo=UTC)
    assert timetable.due({"emea": "0 12 * * *"}, clock.now()) == []
    assert timetable.next_due() == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    clock.advance(hours=9)
    assert timetable.due({"emea": "0 12 * * *"}, clock.now()) == ["emea"]
    assert timetable.due({}, clock.now()) == [] and timetable.next_due() is None  # removed orgs drop out


def test_a_bad_stored_schedule_is_reported_and_skipped() -> None:
    timetable = SyncTimetable(CALENDAR, "*/15 * * * *")
    assert timetable.due({"emea": "99 * * * *", "amer": None}, T0) == []
    assert set(timetable.invalid) == {"emea"}
    with pytest.raises(InvalidRequestError):
        SyncTimetable(CALENDAR, "not cron")


async def test_due_syncs_reads_the_schedules_and_leaves_out_orgs_needing_attention() -> None:
    uow = FakeSyncUnitOfWork([_org("emea", "*/5 * * * *"), _org("amer", "*/5 * * * *")])
    await uow.org_status.set("amer", OrgStatus(OrgSyncState.ATTENTION, "invalid_grant"))
    await uow.commit()
    clock = FakeClock(T0)
    timetable = SyncTimetable(CALENDAR, "0 * * * *")
    use_case = DueSyncs(uow, clock)
    assert await use_case.execute(timetable) == []
    clock.advance(minutes=5)
    assert await use_case.execute(timetable) == ["emea"]


async def test_schedule_org_checks_the_cron_and_can_go_back_to_the_default() -> None:
    uow = FakeSyncUnitOfWork([_org("emea")])
    use_case = ScheduleOrg(uow, CALENDAR)
    assert (await use_case.execute("emea", " 0  2 * * 1-5 ")).sync_schedule == "0 2 * * 1-5"
    assert uow.committed["orgs"]["emea"].sync_schedule == "0 2 * * 1-5"
    with pytest.raises(InvalidRequestError):
        await use_case.execute("emea", "0 25 * * *")
    with pytest.raises(NotFoundError):
        await use_case.execute("apac", "0 * * * *")
    assert (await use_case.execute("emea", None)).sync_schedule is None
