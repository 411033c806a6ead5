"""Org administration: connect, list, test and remove orgs, and re-seal their secrets after a key rotation."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.errors import InvalidRequestError
from application.ports.clock import Clock
from application.ports.crm import CrmAuthError, CrmGatewayFactory, CrmRequestError, OrgCredentials
from application.ports.schedule import CronCalendar
from application.ports.secret_box import SecretBox
from application.ports.sync import OrgStatus, Reconciliation, SyncRun, SyncUnitOfWork
from application.sync.credentials import open_credentials, seal_credentials
from domain.access import Principal
from domain.errors import NotFoundError
from domain.org import Org
from domain.sync import ApiUsage, OrgSyncState

__all__ = [
    "AddOrg",
    "ListOrgs",
    "OrgDetail",
    "OrgSummary",
    "RemoveOrg",
    "RotateOrgSecrets",
    "ScheduleOrg",
    "ShowOrg",
    "TestOrg",
]

RECENT_RUNS = 20


@dataclass(frozen=True)
class OrgSummary:
    """What `xsell orgs list` shows: never a secret, only how the org logs in and how its sync stands."""

    org: Org
    flow: str | None
    username: str | None
    status: OrgStatus
    last_run: SyncRun | None


@dataclass(frozen=True)
class OrgDetail:
    """One org with its most recent sync runs (newest first) and the reconciliations each run recorded."""

    summary: OrgSummary
    runs: list[SyncRun]
    reconciliations: dict[UUID, list[Reconciliation]]


async def _summary(uow: SyncUnitOfWork, org: Org, runs: list[SyncRun]) -> OrgSummary:
    sealed = await uow.credentials.get(org.id)
    status = await uow.org_status.get(org.id) or OrgStatus(OrgSyncState.IDLE)
    return OrgSummary(
        org,
        sealed.flow if sealed else None,
        sealed.username if sealed else None,
        status,
        runs[0] if runs else None,
    )


class AddOrg:
    def __init__(self, uow: SyncUnitOfWork, secret_box: SecretBox, clock: Clock) -> None:
        self._uow, self._box, self._clock = uow, secret_box, clock

    async def execute(self, org: Org, credentials: OrgCredentials, *, replace: bool = False) -> None:
        """Store the org and its sealed credentials. Raises InvalidRequestError when the id is taken and
        `replace` is false; with `replace`, only the credentials change and the org leaves `attention`."""
        async with self._uow as uow:
            existing = await uow.orgs.get(org.id)
            if existing is not None and not replace:
                raise InvalidRequestError(f"an org {org.id!r} exists; pass --replace to change its login")
            if existing is None:
                await uow.orgs.add(org)
            await uow.credentials.put(seal_credentials(self._box, org.id, credentials, self._clock.now()))
            await uow.org_status.set(org.id, OrgStatus(OrgSyncState.IDLE))
            await uow.commit()


class ScheduleOrg:
    """Set the cron schedule an org is synced on (None: back to the default, XSELL_SYNC_SCHEDULE)."""

    def __init__(self, uow: SyncUnitOfWork, calendar: CronCalendar) -> None:
        self._uow, self._calendar = uow, calendar

    async def execute(self, org_id: str, schedule: str | None) -> Org:
        """Raises NotFoundError for an unknown org, InvalidRequestError for a schedule that is not cron."""
        if schedule is not None:
            self._calendar.check(schedule)
        async with self._uow as uow:
            org = await uow.orgs.get(org_id)
            if org is None:
                raise NotFoundError(f"no org {org_id!r}")
            org.reschedule(schedule)
            await uow.orgs.update(org)
            await uow.commit()
            return org


class ListOrgs:
    def __init__(self, uow: SyncUnitOfWork) -> None:
        self._uow = uow

    async def execute(self, principal: Principal | None = None) -> list[OrgSummary]:
        """Every org, or only those `principal` may read (the CLI passes none: it acts as the operator)."""
        async with self._uow as uow:
            result = []
            for org in await uow.orgs.list():
                if principal is not None and not principal.can_read_org(org.id):
                    continue
                result.append(await _summary(uow, org, await uow.runs.recent(org.id, 1)))
            return result


class ShowOrg:
    def __init__(self, uow: SyncUnitOfWork) -> None:
        self._uow = uow

    async def execute(self, org_id: str, principal: Principal) -> OrgDetail:
        """Raises NotFoundError for an unknown org and, alike, for one `principal` may not read."""
        async with self._uow as uow:
            org = await uow.orgs.get(org_id) if principal.can_read_org(org_id) else None
            if org is None:
                raise NotFoundError(f"no org {org_id!r}")
            runs = await uow.runs.recent(org_id, RECENT_RUNS)
            checks: dict[UUID, list[Reconciliation]] = {run.id: [] for run in runs}
            for check in await uow.runs.reconciliations([run.id for run in runs]):
                checks[check.run_id].append(check)
            return OrgDetail(await _summary(uow, org, runs), runs, checks)


class RemoveOrg:
    def __init__(self, uow: SyncUnitOfWork) -> None:
        self._uow = uow

    async def execute(self, org_id: str) -> None:
        """Remove the org, its credentials and everything synced from it. Raises NotFoundError."""
        async with self._uow as uow:
            if not await uow.org_status.remove_org(org_id):
                raise NotFoundError(f"no org {org_id!r}")
            await uow.commit()


class TestOrg:
    """Log in and read the API limits; a success clears `attention`, a refusal sets it."""

    __test__ = False  # not a pytest class, despite the name

    def __init__(self, uow: SyncUnitOfWork, gateways: CrmGatewayFactory, secret_box: SecretBox) -> None:
        self._uow, self._gateways, self._box = uow, gateways, secret_box

    async def execute(self, org_id: str) -> ApiUsage:
        """Raises NotFoundError, or the CrmError the login or the limits call ended in."""
        async with self._uow as uow:
            org = await uow.orgs.get(org_id)
            if org is None:
                raise NotFoundError(f"no org {org_id!r}")
            sealed = await uow.credentials.get(org_id)
            credentials = open_credentials(self._box, sealed) if sealed else OrgCredentials(org.kind.value)
            gateway = self._gateways.open(org.kind.value, org.instance_url, credentials)
            try:
                usage = await gateway.limits()
            except (CrmAuthError, CrmRequestError) as error:
                await uow.org_status.set(org_id, OrgStatus(OrgSyncState.ATTENTION, str(error)))
                await uow.commit()
                raise
            finally:
                await gateway.close()
            status = await uow.org_status.get(org_id)
            if status is None or status.state is OrgSyncState.ATTENTION:
                await uow.org_status.set(org_id, OrgStatus(OrgSyncState.IDLE, None, usage))
                await uow.commit()
            return usage


class RotateOrgSecrets:
    """After a new key is put first in XSELL_SECRET_KEYS: re-seal every org's secrets with it, so the old
    key can be dropped."""

    def __init__(self, uow: SyncUnitOfWork, secret_box: SecretBox, clock: Clock) -> None:
        self._uow, self._box, self._clock = uow, secret_box, clock

    async def execute(self) -> int:
        """Returns how many orgs were re-sealed; raises the SecretBox's error when a secret will not open
        (its key was already dropped), before anything is written."""
        async with self._uow as uow:
            resealed = []
            for sealed in await uow.credentials.list():
                credentials = open_credentials(self._box, sealed)
                resealed.append(seal_credentials(self._box, sealed.org_id, credentials, self._clock.now()))
            for item in resealed:
                await uow.credentials.put(item)
            await uow.commit()
            return len(resealed)
