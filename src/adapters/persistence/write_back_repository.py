"""SqlaWriteBackRepository: write-backs in PostgreSQL, each change its own committed transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.write_back_tables import write_backs
from domain.write_back import WriteBack, WriteBackKind, WriteBackStatus

__all__ = ["SqlaWriteBackRepository"]


def _write_back(row: Any) -> WriteBack:
    return WriteBack(
        id=row.id,
        recommendation_id=row.recommendation_id,
        kind=WriteBackKind(row.kind),
        idempotency_key=row.idempotency_key,
        org_id=row.org_id,
        account_id=row.account_id,
        requested_by=row.requested_by,
        created_at=row.created_at,
        status=WriteBackStatus(row.status),
        salesforce_id=row.salesforce_id,
        error=row.error,
        attempted_at=row.attempted_at,
        done_at=row.done_at,
    )


class SqlaWriteBackRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(self, write_back: WriteBack) -> bool:
        # Either unique constraint (key, or offer and kind) turns a concurrent twin into "not added".
        statement = (
            insert(write_backs)
            .values(
                id=write_back.id,
                recommendation_id=write_back.recommendation_id,
                kind=write_back.kind.value,
                idempotency_key=write_back.idempotency_key,
                org_id=write_back.org_id,
                account_id=write_back.account_id,
                status=write_back.status.value,
                salesforce_id=write_back.salesforce_id,
                error=write_back.error,
                requested_by=write_back.requested_by,
                created_at=write_back.created_at,
                attempted_at=write_back.attempted_at,
                done_at=write_back.done_at,
            )
            .on_conflict_do_nothing()
            .returning(write_backs.c.id)
        )
        async with self._engine.begin() as connection:
            return (await connection.execute(statement)).first() is not None

    async def with_key(self, idempotency_key: str) -> WriteBack | None:
        statement = select(write_backs).where(write_backs.c.idempotency_key == idempotency_key)
        async with self._engine.connect() as connection:
            row = (await connection.execute(statement)).first()
        return None if row is None else _write_back(row)

    async def of_recommendation(self, recommendation_id: str) -> list[WriteBack]:
        w = write_backs.c
        statement = (
            select(write_backs).where(w.recommendation_id == recommendation_id).order_by(w.created_at, w.id)
        )
        async with self._engine.connect() as connection:
            return [_write_back(row) for row in await connection.execute(statement)]

    async def claim(self, write_back_id: UUID, *, at: datetime, stale_before: datetime) -> WriteBack | None:
        w = write_backs.c
        # One UPDATE decides between racing attempts: PostgreSQL re-checks the WHERE on the row it locks.
        statement = (
            update(write_backs)
            .where(
                w.id == write_back_id,
                w.status != WriteBackStatus.DONE.value,
                or_(w.attempted_at.is_(None), w.attempted_at < stale_before),
            )
            .values(attempted_at=at)
            .returning(*write_backs.c)
        )
        async with self._engine.begin() as connection:
            row = (await connection.execute(statement)).first()
        return None if row is None else _write_back(row)

    async def save(self, write_back: WriteBack) -> None:
        statement = (
            update(write_backs)
            .where(write_backs.c.id == write_back.id)
            .values(
                status=write_back.status.value,
                salesforce_id=write_back.salesforce_id,
                error=write_back.error,
                attempted_at=write_back.attempted_at,
                done_at=write_back.done_at,
            )
        )
        async with self._engine.begin() as connection:
            await connection.execute(statement)
