"""An org's sync history, and a live reconciliation: xsell's record counts against the CRM's, per object."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.ports.clock import Clock
from application.ports.crm import CrmGatewayFactory, OrgCredentials
from application.ports.secret_box import SecretBox
from application.ports.sync import Reconciliation, SyncRun, SyncUnitOfWork
from application.sync.credentials import open_credentials
from domain.access import Principal
from domain.errors import NotFoundError
from domain.sync import SYNC_OBJECTS

__all__ = ["ListSyncRuns", "ObjectCount", "ReconcileOrg", "RunHistory"]


@dataclass(frozen=True)
class RunHistory:
    run: SyncRun
    reconciliations: list[Reconciliation]


@dataclass(frozen=True)
class ObjectCount:
    """Live records of one object: as xsell holds them, and as the CRM counts them right now."""

    sobject: str
    xsell_count: int
    crm_count: int
    checked_at: datetime

    @property
    def difference(self) -> int:
        return self.xsell_count - self.crm_count


class ListSyncRuns:
    def __init__(self, uow: SyncUnitOfWork) -> None:
        self._uow = uow

    async def execute(self, org_id: str, principal: Principal, limit: int) -> list[RunHistory]:
        """The org's `limit` newest runs, newest first. Raises NotFoundError for an unknown org and, alike,
        for one `principal` may not read."""
        async with self._uow as uow:
            if not principal.can_read_org(org_id) or await uow.orgs.get(org_id) is None:
                raise NotFoundError(f"no org {org_id!r}")
            runs = await uow.runs.recent(org_id, limit)
            checks: dict[object, list[Reconciliation]] = {run.id: [] for run in runs}
            for check in await uow.runs.reconciliations([run.id for run in runs]):
                checks[check.run_id].append(check)
            return [RunHistory(run, checks[run.id]) for run in runs]


class ReconcileOrg:
    """Count every synced object in the org (`SELECT COUNT()`) and in xsell; nothing is written."""

    def __init__(
        self, uow: SyncUnitOfWork, gateways: CrmGatewayFactory, secret_box: SecretBox, clock: Clock
    ) -> None:
        self._uow, self._gateways, self._box, self._clock = uow, gateways, secret_box, clock

    async def execute(self, org_id: str, principal: Principal) -> list[ObjectCount]:
        """Raises NotFoundError (unknown or not granted org), or the CrmError the CRM answered with."""
        async with self._uow as uow:
            org = await uow.orgs.get(org_id) if principal.can_read_org(org_id) else None
            if org is None:
                raise NotFoundError(f"no org {org_id!r}")
            sealed = await uow.credentials.get(org_id)
            credentials = open_credentials(self._box, sealed) if sealed else OrgCredentials(org.kind.value)
            gateway = self._gateways.open(org.kind.value, org.instance_url, credentials)
            counts = []
            try:
                for sobject in SYNC_OBJECTS:
                    crm_count = await gateway.count(sobject)
                    xsell_count = await uow.records.count_live(org_id, sobject)
                    counts.append(ObjectCount(sobject, xsell_count, crm_count, self._clock.now()))
            finally:
                await gateway.close()
            return counts
