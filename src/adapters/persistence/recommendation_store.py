"""SqlaRecommendationStore: scoring runs and recommendations in PostgreSQL, written with COPY."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.customer_tables import product_families
from adapters.persistence.model_tables import recommendations, scoring_runs
from adapters.persistence.tables import orgs
from application.models.feedback import RecommendationFilter
from application.models.scoring import OrgInfo, RecommendationBatch
from domain.money import Money
from domain.recommendation import Arm, Reason, ReasonKind, Recommendation, RecommendationStatus

__all__ = ["SqlaRecommendationRepository", "SqlaRecommendationStore", "reasons_to_json"]

_COLUMNS = (
    "id",
    "customer_id",
    "family_id",
    "target_org_id",
    "probability",
    "expected_value",
    "currency",
    "group_value",
    "group_currency",
    "rank",
    "model_version_id",
    "arm",
    "reasons",
    "status",
    "scoring_run_id",
    "as_of",
    "created_at",
)


def reasons_to_json(reasons: tuple[Reason, ...]) -> str:
    return json.dumps(
        [
            {
                "kind": r.kind.value,
                "text": r.text,
                "contribution": round(r.contribution, 4),
                "org_id": r.org_id,
            }
            for r in reasons
        ]
    )


class SqlaRecommendationStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def orgs(self) -> dict[str, OrgInfo]:
        async with self._engine.connect() as connection:
            rows = await connection.execute(select(orgs.c.id, orgs.c.name, orgs.c.currency))
            return {row.id: OrgInfo(row.id, row.name, row.currency) for row in rows}

    async def family_names(self) -> dict[str, str]:
        async with self._engine.connect() as connection:
            rows = await connection.execute(select(product_families.c.id, product_families.c.name))
            return {row.id: row.name for row in rows}

    async def decided_pairs(self, since: datetime) -> set[tuple[str, str]]:
        r = recommendations.c
        statement = select(r.customer_id, r.family_id).where(
            r.status != "new",
            or_(r.accepted_at >= since, r.dismissed_at >= since, r.converted_at >= since, r.lost_at >= since),
        )
        async with self._engine.connect() as connection:
            return {(row.customer_id, row.family_id) for row in await connection.execute(statement)}

    async def start_run(
        self, run_id: str, as_of: date, champion_id: str, challenger_id: str | None, at: datetime
    ) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                insert(scoring_runs).values(
                    id=run_id,
                    as_of=as_of,
                    champion_id=champion_id,
                    challenger_id=challenger_id,
                    started_at=at,
                    status="running",
                )
            )

    async def finish_run(
        self,
        run_id: str,
        *,
        at: datetime,
        status: str,
        candidates: int,
        suppressed: int,
        written: int,
        error: str | None,
    ) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(scoring_runs)
                .where(scoring_runs.c.id == run_id)
                .values(
                    finished_at=at,
                    status=status,
                    candidates=candidates,
                    suppressed=suppressed,
                    written=written,
                    error=error,
                )
            )

    async def replace_open(self, batch: RecommendationBatch) -> int:
        """Undecided offers of earlier runs go, this run's arrive, in one transaction (readers see either)."""
        records = [
            (
                f"{batch.run_id[:16]}{i:08x}",
                batch.customer_ids[i],
                batch.family_ids[i],
                batch.target_org_ids[i],
                float(batch.probabilities[i]),
                Decimal(f"{batch.expected_values[i]:.2f}"),
                batch.currencies[i],
                None if math.isnan(batch.group_values[i]) else Decimal(f"{batch.group_values[i]:.2f}"),
                batch.group_currency,
                int(batch.ranks[i]),
                batch.model_version_ids[i],
                batch.arms[i],
                reasons_to_json(batch.reasons[i]),
                "new",
                batch.run_id,
                batch.as_of,
                batch.created_at,
            )
            for i in range(len(batch))
        ]
        async with self._engine.begin() as connection:
            await connection.execute(delete(recommendations).where(recommendations.c.status == "new"))
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection
            await driver.copy_records_to_table(recommendations.name, records=records, columns=_COLUMNS)
        return len(records)


_PREVIOUS = {
    RecommendationStatus.ACCEPTED: RecommendationStatus.NEW,
    RecommendationStatus.DISMISSED: RecommendationStatus.NEW,
    RecommendationStatus.CONVERTED: RecommendationStatus.ACCEPTED,
    RecommendationStatus.LOST: RecommendationStatus.ACCEPTED,
}


class SqlaRecommendationRepository:
    """Single recommendations for feedback: read, decide with a compare-and-set on the status, list."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, recommendation_id: str) -> Recommendation | None:
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    select(recommendations).where(recommendations.c.id == recommendation_id)
                )
            ).first()
        return None if row is None else _recommendation(row)

    async def save_decision(self, recommendation: Recommendation) -> bool:
        r = recommendations.c
        previous = _PREVIOUS.get(recommendation.status)
        if previous is None:
            return False
        converted = recommendation.converted_amount
        async with self._engine.begin() as connection:
            result = await connection.execute(
                update(recommendations)
                .where(r.id == recommendation.id, r.status == previous.value)
                .values(
                    status=recommendation.status.value,
                    accepted_at=recommendation.accepted_at,
                    dismissed_at=recommendation.dismissed_at,
                    converted_at=recommendation.converted_at,
                    lost_at=recommendation.lost_at,
                    decided_by=recommendation.decided_by,
                    dismiss_reason=recommendation.dismiss_reason,
                    converted_amount=None if converted is None else converted.amount,
                )
            )
        return bool(result.rowcount)

    async def find(self, where: RecommendationFilter) -> list[Recommendation]:
        r = recommendations.c
        statement = select(recommendations).order_by(r.expected_value.desc(), r.id).limit(where.limit)
        if where.customer_id is not None:
            statement = statement.where(r.customer_id == where.customer_id)
        if where.status is not None:
            statement = statement.where(r.status == where.status.value)
        async with self._engine.connect() as connection:
            return [_recommendation(row) for row in await connection.execute(statement)]


def _recommendation(row: Any) -> Recommendation:
    return Recommendation(
        id=row.id,
        customer_id=row.customer_id,
        family_id=row.family_id,
        target_org_id=row.target_org_id,
        probability=row.probability,
        expected_value=Money(row.expected_value, row.currency),
        model_version_id=row.model_version_id,
        arm=Arm(row.arm),
        reasons=tuple(
            Reason(ReasonKind(r["kind"]), r["text"], float(r["contribution"]), r.get("org_id"))
            for r in row.reasons
        ),
        status=RecommendationStatus(row.status),
        created_at=row.created_at,
        accepted_at=row.accepted_at,
        dismissed_at=row.dismissed_at,
        converted_at=row.converted_at,
        lost_at=row.lost_at,
        decided_by=row.decided_by,
        dismiss_reason=row.dismiss_reason,
        converted_amount=None if row.converted_amount is None else Money(row.converted_amount, row.currency),
    )
