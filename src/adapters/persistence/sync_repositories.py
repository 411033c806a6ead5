"""SQLAlchemy repositories for the sync: cursors, runs and reconciliations, org sync state, credentials."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.tables import (
    org_credentials,
    orgs,
    sync_cursors,
    sync_reconciliations,
    sync_runs,
)
from application.ports.sync import OrgStatus, Reconciliation, SealedCredentials, StoredCursor, SyncRun
from domain.sync import ApiUsage, OrgSyncState, SyncCursor, SyncRunStatus

__all__ = [
    "SqlaCredentialRepository",
    "SqlaOrgStatusRepository",
    "SqlaSyncCursorRepository",
    "SqlaSyncRunRepository",
]


class SqlaSyncCursorRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, org_id: str, sobject: str) -> StoredCursor | None:
        statement = select(sync_cursors).where(
            sync_cursors.c.org_id == org_id, sync_cursors.c.sobject == sobject
        )
        row = (await self._session.execute(statement)).mappings().first()
        if row is None:
            return None
        return StoredCursor(SyncCursor(row["modstamp"], row["last_id"]), tuple(row["fields"] or ()))

    async def advance(self, org_id: str, sobject: str, cursor: SyncCursor, fields: Sequence[str]) -> None:
        statement = insert(sync_cursors).values(
            org_id=org_id,
            sobject=sobject,
            modstamp=cursor.modstamp,
            last_id=cursor.last_id,
            fields=list(fields),
            updated_at=datetime.now(UTC),
        )
        excluded = statement.excluded
        # The WHERE makes a stale writer (a redelivered message, an older run) a no-op: never backwards.
        statement = statement.on_conflict_do_update(
            index_elements=["org_id", "sobject"],
            set_={
                "modstamp": excluded.modstamp,
                "last_id": excluded.last_id,
                "fields": excluded.fields,
                "updated_at": excluded.updated_at,
            },
            where=tuple_(sync_cursors.c.modstamp, sync_cursors.c.last_id)
            <= tuple_(excluded.modstamp, excluded.last_id),
        )
        await self._session.execute(statement)

    async def reset(self, org_id: str) -> None:
        await self._session.execute(delete(sync_cursors).where(sync_cursors.c.org_id == org_id))


def _run_row(run: SyncRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "org_id": run.org_id,
        "trigger": run.trigger,
        "full": run.full,
        "status": run.status.value,
        "status_reason": run.status_reason,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "counts": run.counts,
        "errors": run.errors,
        "api_used": run.usage.used if run.usage else None,
        "api_max": run.usage.max if run.usage else None,
    }


class SqlaSyncRunRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, run: SyncRun) -> None:
        await self._session.execute(insert(sync_runs).values(_run_row(run)))

    async def update(self, run: SyncRun) -> None:
        values = _run_row(run)
        del values["id"]
        await self._session.execute(update(sync_runs).where(sync_runs.c.id == run.id).values(values))

    async def recent(self, org_id: str, limit: int) -> list[SyncRun]:
        statement = (
            select(sync_runs)
            .where(sync_runs.c.org_id == org_id)
            .order_by(sync_runs.c.started_at.desc())
            .limit(limit)
        )
        rows = (await self._session.execute(statement)).mappings()
        return [
            SyncRun(
                id=row["id"],
                org_id=row["org_id"],
                trigger=row["trigger"],
                full=row["full"],
                started_at=row["started_at"],
                status=SyncRunStatus(row["status"]),
                status_reason=row["status_reason"],
                finished_at=row["finished_at"],
                counts=row["counts"] or {},
                errors=row["errors"] or [],
                usage=None if row["api_max"] is None else ApiUsage(row["api_used"], row["api_max"]),
            )
            for row in rows
        ]

    async def add_reconciliation(
        self, run_id: UUID, sobject: str, xsell_count: int, crm_count: int, checked_at: datetime
    ) -> None:
        statement = insert(sync_reconciliations).values(
            run_id=run_id,
            sobject=sobject,
            xsell_count=xsell_count,
            crm_count=crm_count,
            checked_at=checked_at,
        )
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=["run_id", "sobject"],
                set_={"xsell_count": xsell_count, "crm_count": crm_count, "checked_at": checked_at},
            )
        )

    async def reconciliations(self, run_ids: Sequence[UUID]) -> list[Reconciliation]:
        if not run_ids:
            return []
        statement = (
            select(sync_reconciliations)
            .where(sync_reconciliations.c.run_id.in_(list(run_ids)))
            .order_by(sync_reconciliations.c.run_id, sync_reconciliations.c.sobject)
        )
        rows = (await self._session.execute(statement)).mappings()
        return [
            Reconciliation(
                run_id=row["run_id"],
                sobject=row["sobject"],
                xsell_count=row["xsell_count"],
                crm_count=row["crm_count"],
                checked_at=row["checked_at"],
            )
            for row in rows
        ]


class SqlaOrgStatusRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, org_id: str) -> OrgStatus | None:
        statement = select(
            orgs.c.sync_state, orgs.c.sync_state_reason, orgs.c.api_used, orgs.c.api_max
        ).where(orgs.c.id == org_id)
        row = (await self._session.execute(statement)).mappings().first()
        if row is None:
            return None
        usage = None if row["api_max"] is None else ApiUsage(row["api_used"] or 0, row["api_max"])
        return OrgStatus(OrgSyncState(row["sync_state"]), row["sync_state_reason"], usage)

    async def set(self, org_id: str, status: OrgStatus) -> None:
        values: dict[str, Any] = {"sync_state": status.state.value, "sync_state_reason": status.reason}
        if status.usage is not None:
            values |= {"api_used": status.usage.used, "api_max": status.usage.max}
        await self._session.execute(update(orgs).where(orgs.c.id == org_id).values(values))

    async def remove_org(self, org_id: str) -> bool:
        # Synced records, cursors, runs and credentials go with it (ON DELETE CASCADE).
        result = await self._session.execute(delete(orgs).where(orgs.c.id == org_id).returning(orgs.c.id))
        return result.first() is not None


class SqlaCredentialRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @staticmethod
    def _from_row(row: Any) -> SealedCredentials:
        return SealedCredentials(
            org_id=row["org_id"],
            flow=row["flow"],
            login_url=row["login_url"],
            username=row["username"],
            client_id=row["client_id"],
            sealed=bytes(row["sealed"]),
            updated_at=row["updated_at"],
        )

    async def get(self, org_id: str) -> SealedCredentials | None:
        statement = select(org_credentials).where(org_credentials.c.org_id == org_id)
        row = (await self._session.execute(statement)).mappings().first()
        return None if row is None else self._from_row(row)

    async def put(self, credentials: SealedCredentials) -> None:
        values = {
            "org_id": credentials.org_id,
            "flow": credentials.flow,
            "login_url": credentials.login_url,
            "username": credentials.username,
            "client_id": credentials.client_id,
            "sealed": credentials.sealed,
            "updated_at": credentials.updated_at,
        }
        statement = insert(org_credentials).values(values)
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=["org_id"], set_={k: v for k, v in values.items() if k != "org_id"}
            )
        )

    async def list(self) -> list[SealedCredentials]:
        rows = (
            await self._session.execute(select(org_credentials).order_by(org_credentials.c.org_id))
        ).mappings()
        return [self._from_row(row) for row in rows]
