"""SqlaRecommendationStore: scoring runs and recommendations in PostgreSQL, written with COPY."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.customer_tables import customer_members, product_families
from adapters.persistence.engine import ReadPool
from adapters.persistence.model_tables import recommendations, scoring_runs
from adapters.persistence.offer_documents import offer_documents
from adapters.persistence.tables import accounts, orgs
from application.models.feedback import RecommendationFilter
from application.models.recommendation_query import (
    OfferDocument,
    RecommendationPosition,
    RecommendationQuery,
    RecommendationSort,
)
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

    def __init__(self, engine: AsyncEngine, list_reads: ReadPool) -> None:
        """`list_reads`: the connections of `page_documents` (see `offer_documents`), which the repository
        owns from now on: `close` closes them."""
        self._engine = engine
        self._list_reads = list_reads

    async def close(self) -> None:
        await self._list_reads.close()

    async def get(
        self, recommendation_id: str, readable: frozenset[str] | None = None
    ) -> Recommendation | None:
        statement = select(recommendations).where(
            recommendations.c.id == recommendation_id, _in_scope(readable)
        )
        async with self._engine.connect() as connection:
            row = (await connection.execute(statement)).first()
        return None if row is None else _recommendation(row)

    async def page(
        self, query: RecommendationQuery, after: RecommendationPosition | None, limit: int
    ) -> list[Recommendation]:
        r = recommendations.c
        key = r.probability if query.sort is RecommendationSort.PROBABILITY else r.expected_value
        statement = select(recommendations).where(*_matching(query)).order_by(key.desc(), r.id).limit(limit)
        if after is not None:
            statement = statement.where(or_(key < after.value, and_(key == after.value, r.id > after.id)))
        async with self._engine.connect() as connection:
            return [_recommendation(row) for row in await connection.execute(statement)]

    async def page_documents(
        self, query: RecommendationQuery, after: RecommendationPosition | None, limit: int
    ) -> list[OfferDocument]:
        return await offer_documents(self._list_reads, query, after, limit)

    async def count(self, query: RecommendationQuery) -> int:
        statement = select(func.count()).select_from(recommendations).where(*_matching(query))
        async with self._engine.connect() as connection:
            return int((await connection.execute(statement)).scalar_one())

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


def _in_scope(readable: frozenset[str] | None) -> ColumnElement[bool]:
    """Target org readable, and the customer known to a readable org (None: every org)."""
    if readable is None:
        return true()
    orgs_in_scope = sorted(readable)
    member = exists().where(
        customer_members.c.customer_id == recommendations.c.customer_id,
        customer_members.c.org_id.in_(orgs_in_scope),
    )
    return and_(recommendations.c.target_org_id.in_(orgs_in_scope), member)


def _matching(query: RecommendationQuery) -> list[ColumnElement[bool]]:
    r = recommendations.c
    where = [_in_scope(query.readable)]
    if query.target_org_ids:
        where.append(r.target_org_id.in_(sorted(query.target_org_ids)))
    if query.family_ids:
        where.append(r.family_id.in_(sorted(query.family_ids)))
    if query.statuses:
        where.append(r.status.in_(sorted(s.value for s in query.statuses)))
    if query.arm is not None:
        where.append(r.arm == query.arm.value)
    if query.customer_id is not None:
        where.append(r.customer_id == query.customer_id)
    if query.min_probability is not None:
        where.append(r.probability >= query.min_probability)
    if query.min_value is not None:
        where.append(r.expected_value >= query.min_value)
    if query.industry is not None:
        # The industry of the customer's member accounts, as synced, in the orgs the caller may read.
        m, a = customer_members.c, accounts.c
        industry = (
            select(1)
            .select_from(
                customer_members.join(accounts, and_(a.org_id == m.org_id, a.external_id == m.external_id))
            )
            .where(
                m.customer_id == r.customer_id,
                a.is_deleted.is_(False),
                func.lower(a.industry) == query.industry.strip().lower(),
            )
        )
        if query.readable is not None:
            industry = industry.where(m.org_id.in_(sorted(query.readable)))
        where.append(industry.exists())
    return where


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
