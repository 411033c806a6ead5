"""Sync persistence ports: synced records, cursors, sync runs, org sync state and sealed credentials."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from uuid import UUID

from application.ports.crm import CrmRecordPage
from application.ports.repositories import OrgRepository
from application.ports.unit_of_work import Transaction
from domain.sync import ApiUsage, OrgSyncState, SyncCursor, SyncRunStatus

__all__ = [
    "CredentialRepository",
    "CrmRecordRepository",
    "OrgStatus",
    "OrgStatusRepository",
    "PageSummary",
    "Reconciliation",
    "SealedCredentials",
    "StoredCursor",
    "SyncCursorRepository",
    "SyncRun",
    "SyncRunRepository",
    "SyncUnitOfWork",
]


@dataclass(frozen=True)
class SealedCredentials:
    """An org's login details; `sealed` holds every secret encrypted together and bound to the org id."""

    org_id: str
    flow: str
    login_url: str | None
    username: str | None
    client_id: str | None
    sealed: bytes = field(repr=False)
    updated_at: datetime


@dataclass(frozen=True)
class StoredCursor:
    cursor: SyncCursor
    fields: tuple[str, ...]


@dataclass(frozen=True)
class OrgStatus:
    state: OrgSyncState
    reason: str | None = None
    usage: ApiUsage | None = None


@dataclass
class SyncRun:
    """One sync of one org: when, how it ended, per-object counts and the errors met."""

    id: UUID
    org_id: str
    trigger: str
    full: bool
    started_at: datetime
    status: SyncRunStatus = SyncRunStatus.RUNNING
    status_reason: str | None = None
    finished_at: datetime | None = None
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)
    usage: ApiUsage | None = None


@dataclass(frozen=True)
class Reconciliation:
    """After a run: how many live records of one object xsell holds against how many the CRM counts."""

    run_id: UUID
    sobject: str
    xsell_count: int
    crm_count: int
    checked_at: datetime

    @property
    def mismatched(self) -> bool:
        return self.xsell_count != self.crm_count


@dataclass(frozen=True)
class PageSummary:
    """What one page held: its records, how many of them deleted, and the greatest (SystemModstamp, Id)."""

    count: int
    deleted: int
    last: SyncCursor | None

    def __add__(self, other: PageSummary) -> PageSummary:
        last = self.last.later(other.last) if self.last is not None else other.last
        return PageSummary(self.count + other.count, self.deleted + other.deleted, last)


class CrmRecordRepository(Protocol):
    async def upsert(
        self, org_id: str, sobject: str, page: CrmRecordPage, default_currency: str
    ) -> PageSummary:
        """Insert or update by (org, id); a stored row is only replaced by one with a SystemModstamp at
        least as new, so replays and reordering change nothing. A Bulk CSV page may be loaded as CSV."""
        ...

    async def count_live(self, org_id: str, sobject: str) -> int:
        """Records of this object held for the org and not deleted."""
        ...


class SyncCursorRepository(Protocol):
    async def get(self, org_id: str, sobject: str) -> StoredCursor | None: ...

    async def advance(self, org_id: str, sobject: str, cursor: SyncCursor, fields: Sequence[str]) -> None:
        """Store the cursor unless the stored one is later: a cursor never moves backwards."""
        ...

    async def reset(self, org_id: str) -> None:
        """Forget every cursor of the org (a full re-sync)."""
        ...


class SyncRunRepository(Protocol):
    async def add(self, run: SyncRun) -> None: ...

    async def update(self, run: SyncRun) -> None: ...

    async def recent(self, org_id: str, limit: int) -> list[SyncRun]: ...

    async def add_reconciliation(
        self, run_id: UUID, sobject: str, xsell_count: int, crm_count: int, checked_at: datetime
    ) -> None: ...

    async def reconciliations(self, run_ids: Sequence[UUID]) -> list[Reconciliation]:
        """The reconciliations recorded for these runs, by run then object."""
        ...


class OrgStatusRepository(Protocol):
    async def get(self, org_id: str) -> OrgStatus | None: ...

    async def set(self, org_id: str, status: OrgStatus) -> None: ...

    async def remove_org(self, org_id: str) -> bool:
        """Delete the org with everything synced for it; False when there was no such org."""
        ...


class CredentialRepository(Protocol):
    async def get(self, org_id: str) -> SealedCredentials | None: ...

    async def put(self, credentials: SealedCredentials) -> None:
        """Insert or replace the org's credentials."""
        ...

    async def list(self) -> list[SealedCredentials]: ...


class SyncUnitOfWork(Transaction, Protocol):
    """One transaction at a time over the sync tables; rolls back on exit whatever was not committed."""

    @property
    def orgs(self) -> OrgRepository: ...

    @property
    def org_status(self) -> OrgStatusRepository: ...

    @property
    def credentials(self) -> CredentialRepository: ...

    @property
    def records(self) -> CrmRecordRepository: ...

    @property
    def cursors(self) -> SyncCursorRepository: ...

    @property
    def runs(self) -> SyncRunRepository: ...
