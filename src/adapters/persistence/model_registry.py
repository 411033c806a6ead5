"""SqlaModelRegistry: model versions, their artifacts and stage history, and the A/B policy in PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.persistence.model_tables import (
    model_artifacts,
    model_stage_changes,
    model_versions,
    recommendations,
    serving_policy,
)
from application.errors import InvalidRequestError
from application.models.registry import ArmOutcome
from domain.model_version import ModelStage, ModelVersion, StageChange, TrainingWindow
from domain.serving import ServingPolicy
from domain.timestamps import utc_now

__all__ = ["SqlaModelRegistry"]


class SqlaModelRegistry:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(
        self, version: ModelVersion, artifacts: Mapping[str, bytes], details: Mapping[str, Any]
    ) -> None:
        missing = sorted(set(version.artifacts) ^ set(artifacts))
        if missing:
            raise InvalidRequestError(f"artifacts and their checksums do not match: {missing}")
        for name, content in artifacts.items():
            version.verify_artifact(name, content)
        async with self._engine.begin() as connection:
            await connection.execute(
                insert(model_versions).values(
                    id=version.id,
                    algorithms=sorted(version.algorithms),
                    feature_set_version=version.feature_set_version,
                    window_start=version.training_window.start,
                    window_end=version.training_window.end,
                    stage=version.stage.value,
                    metrics=version.metrics,
                    artifacts=version.artifacts,
                    details=dict(details),
                    created_by=version.created_by,
                    created_at=version.created_at,
                )
            )
            await connection.execute(
                insert(model_artifacts),
                [{"model_version_id": version.id, "name": n, "content": c} for n, c in artifacts.items()],
            )
            await self._insert_changes(connection, version.id, version.history)

    async def get(self, version_id: str) -> ModelVersion | None:
        async with self._engine.connect() as connection:
            found = await self._load(connection, [version_id])
        return found[0] if found else None

    async def details(self, version_id: str) -> dict[str, Any]:
        async with self._engine.connect() as connection:
            value = await connection.scalar(
                select(model_versions.c.details).where(model_versions.c.id == version_id)
            )
        return dict(value or {})

    async def all(self) -> list[ModelVersion]:
        async with self._engine.connect() as connection:
            return await self._load(connection, None)

    async def save_stages(self, versions: list[ModelVersion]) -> None:
        async with self._engine.begin() as connection:
            ids = [v.id for v in versions]
            rows = await connection.execute(
                select(model_versions.c.id, model_versions.c.stage)
                .where(model_versions.c.id.in_(ids))
                .with_for_update()
            )
            stored = {row.id: row.stage for row in rows}
            counts: dict[str, int] = dict(
                (
                    await connection.execute(
                        select(model_stage_changes.c.model_version_id, func.count())
                        .where(model_stage_changes.c.model_version_id.in_(ids))
                        .group_by(model_stage_changes.c.model_version_id)
                    )
                ).all()
            )
            for version in versions:
                known = counts.get(version.id, 0)
                new = version.history[known:]
                if (
                    version.id not in stored
                    or not new
                    or new[0].from_stage is None
                    or stored[version.id] != new[0].from_stage.value
                ):
                    raise InvalidRequestError(
                        f"model version {version.id} was changed by someone else meanwhile; try again"
                    )
                await connection.execute(
                    update(model_versions)
                    .where(model_versions.c.id == version.id)
                    .values(stage=version.stage.value)
                )
                await self._insert_changes(connection, version.id, new)

    async def artifacts(self, version_id: str) -> dict[str, bytes]:
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(model_artifacts.c.name, model_artifacts.c.content).where(
                    model_artifacts.c.model_version_id == version_id
                )
            )
            return {row.name: bytes(row.content) for row in rows}

    async def serving_policy(self) -> ServingPolicy:
        async with self._engine.connect() as connection:
            row = (await connection.execute(select(serving_policy).where(serving_policy.c.id == 1))).first()
        return ServingPolicy() if row is None else ServingPolicy(row.challenger_share, row.salt)

    async def set_serving_policy(self, policy: ServingPolicy, *, by: str) -> None:
        values = {
            "challenger_share": policy.challenger_share,
            "salt": policy.salt,
            "updated_by": by,
            "updated_at": utc_now(),
        }
        statement = pg_insert(serving_policy).values(id=1, **values)
        async with self._engine.begin() as connection:
            await connection.execute(statement.on_conflict_do_update(index_elements=["id"], set_=values))

    async def arm_outcomes(self) -> list[ArmOutcome]:
        r = recommendations.c
        statement = (
            select(
                r.model_version_id,
                r.arm,
                func.count(),
                func.count().filter(r.status.in_(("accepted", "lost"))),
                func.count().filter(r.status == "dismissed"),
                func.count().filter(r.status == "converted"),
                func.coalesce(func.sum(r.converted_amount), 0),
            )
            .group_by(r.model_version_id, r.arm)
            .order_by(r.model_version_id, r.arm)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(statement)).all()
        return [
            ArmOutcome(v, a, int(n), int(acc), int(dis), int(conv), float(rev))
            for v, a, n, acc, dis, conv, rev in rows
        ]

    @staticmethod
    async def _insert_changes(
        connection: AsyncConnection, version_id: str, changes: list[StageChange]
    ) -> None:
        if changes:
            await connection.execute(
                insert(model_stage_changes),
                [
                    {
                        "model_version_id": version_id,
                        "from_stage": None if c.from_stage is None else c.from_stage.value,
                        "to_stage": c.to_stage.value,
                        "changed_by": c.by,
                        "changed_at": c.at,
                        "reason": c.reason,
                    }
                    for c in changes
                ],
            )

    @staticmethod
    async def _load(connection: AsyncConnection, ids: list[str] | None) -> list[ModelVersion]:
        statement = select(model_versions).order_by(model_versions.c.created_at.desc(), model_versions.c.id)
        changes = select(model_stage_changes).order_by(model_stage_changes.c.id)
        if ids is not None:
            statement = statement.where(model_versions.c.id.in_(ids))
            changes = changes.where(model_stage_changes.c.model_version_id.in_(ids))
        history: dict[str, list[StageChange]] = {}
        for row in await connection.execute(changes):
            history.setdefault(row.model_version_id, []).append(
                StageChange(
                    None if row.from_stage is None else ModelStage(row.from_stage),
                    ModelStage(row.to_stage),
                    row.changed_by,
                    row.changed_at,
                    row.reason,
                )
            )
        return [
            ModelVersion(
                id=row.id,
                algorithms=frozenset(row.algorithms),
                feature_set_version=row.feature_set_version,
                training_window=TrainingWindow(row.window_start, row.window_end),
                created_by=row.created_by,
                metrics={k: float(v) for k, v in row.metrics.items()},
                artifacts=dict(row.artifacts),
                stage=ModelStage(row.stage),
                created_at=row.created_at,
                history=history.get(row.id, []),
            )
            for row in await connection.execute(statement)
        ]
