"""The list endpoint's documents (built by PostgreSQL) say what the domain objects say, page by page.

`SqlaRecommendationRepository.page_documents` is a second reading of the same rows as `page`, written for
speed; these tests hold the two to each other on one seeded world, over every filter, both orders, every
scope, decided offers and reasons from several orgs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from itertools import product

import msgspec
import pytest
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import create_async_engine
from tests.integration.test_api_recommendations import _seed

from adapters.persistence.engine import asyncpg_url, create_engine
from adapters.persistence.model_tables import recommendations
from adapters.persistence.offer_documents import offer_documents
from adapters.persistence.recommendation_store import SqlaRecommendationRepository
from application.models.offers import visible_reasons
from application.models.recommendation_query import (
    RecommendationPosition,
    RecommendationQuery,
    RecommendationSort,
)
from domain.recommendation import Arm, RecommendationStatus
from entrypoints.http.recommendation_schemas import RecommendationOut

DECIDED = datetime(2026, 3, 2, 9, 30, 15, 250000, tzinfo=UTC)
SCOPES: tuple[frozenset[str] | None, ...] = (
    None,
    frozenset({"emea"}),
    frozenset({"emea", "apac"}),
    frozenset({"amer"}),
    frozenset(),
)
FILTERS: tuple[dict[str, object], ...] = (
    {},
    {"target_org_ids": frozenset({"apac"})},
    {"family_ids": frozenset({"crm", "analytics"})},
    {"statuses": frozenset({RecommendationStatus.ACCEPTED, RecommendationStatus.CONVERTED})},
    {"arm": Arm.CHALLENGER},
    {"min_probability": 0.4, "min_value": Decimal("1000")},
    {"industry": " retail "},
    {"industry": "Transportation", "customer_id": "c-multi"},
    {"customer_id": "c-emea-03"},
)


async def _decide_some(database_url: str) -> None:
    """Offers in every status, with who decided, why and for how much: every field of a document."""
    r = recommendations.c
    engine = create_engine(database_url, 1)
    try:
        async with engine.begin() as connection:
            ids = [row.id for row in await connection.execute(recommendations.select().order_by(r.id))]
            decisions = {
                "accepted": {"accepted_at": DECIDED, "decided_by": "ana@example.com"},
                "dismissed": {
                    "dismissed_at": DECIDED,
                    "decided_by": "bo@example.com",
                    "dismiss_reason": "No",
                },
                "converted": {
                    "accepted_at": DECIDED,
                    "converted_at": DECIDED,
                    "decided_by": "ana@example.com",
                    "converted_amount": Decimal("15000.50"),
                },
                "lost": {"accepted_at": DECIDED, "lost_at": DECIDED, "decided_by": "cy@example.com"},
            }
            for n, offer_id in enumerate(ids[:12]):
                status = list(decisions)[n % len(decisions)]
                await connection.execute(
                    update(recommendations).where(r.id == offer_id).values(status=status, **decisions[status])
                )
    finally:
        await engine.dispose()


@pytest.fixture
async def repository(database_url: str) -> SqlaRecommendationRepository:
    await _seed(database_url)
    await _decide_some(database_url)
    return SqlaRecommendationRepository(create_engine(database_url, 2))


async def _both_ways(
    repository: SqlaRecommendationRepository, query: RecommendationQuery, limit: int
) -> tuple[
    list[tuple[RecommendationPosition, RecommendationOut]],
    list[tuple[RecommendationPosition, RecommendationOut]],
]:
    """Every page of `query`, walked with each reading's own keyset positions."""
    by_probability = query.sort is RecommendationSort.PROBABILITY
    domain: list[tuple[RecommendationPosition, RecommendationOut]] = []
    after = None
    while True:
        rows = await repository.page(query, after, limit)
        for item in rows:
            item.reasons = visible_reasons(item.reasons, query.readable)
            value = item.probability if by_probability else item.expected_value.amount
            domain.append((RecommendationPosition(value, item.id), RecommendationOut.of(item)))
        if len(rows) < limit:
            break
        after = domain[-1][0]
    documents: list[tuple[RecommendationPosition, RecommendationOut]] = []
    after = None
    while True:
        page = await repository.page_documents(query, after, limit)
        documents += [(doc.position, msgspec.json.decode(doc.json, type=RecommendationOut)) for doc in page]
        if len(page) < limit:
            break
        after = page[-1].position
    return domain, documents


async def test_documents_match_the_domain_reading_for_every_query_scope_and_order(
    repository: SqlaRecommendationRepository,
) -> None:
    compared = 0
    for readable, filters, sort in product(SCOPES, FILTERS, RecommendationSort):
        query = RecommendationQuery(readable=readable, sort=sort, **filters)  # type: ignore[arg-type]
        domain, documents = await _both_ways(repository, query, limit=7)
        assert documents == domain, (readable, filters, sort)
        compared += len(domain)
    # The comparison covered real rows: decided ones, narrowed reasons, and empty scopes alike.
    assert compared > 500


async def test_a_document_carries_every_decision_field_and_only_visible_reasons(
    repository: SqlaRecommendationRepository,
) -> None:
    converted = RecommendationQuery(readable=None, statuses=frozenset({RecommendationStatus.CONVERTED}))
    documents = await repository.page_documents(converted, None, 100)
    assert len(documents) == 3
    for document in documents:
        offer = msgspec.json.decode(document.json, type=RecommendationOut)
        assert offer.converted_amount == Decimal("15000.50")
        assert offer.converted_at == DECIDED and offer.decided_by == "ana@example.com"
        assert [reason.org_id for reason in offer.reasons] == [None, "apac"]
    # The APAC peer evidence is another org's data for an EMEA-only reader.
    emea = await repository.page_documents(RecommendationQuery(readable=frozenset({"emea"})), None, 100)
    assert emea
    for document in emea:
        offer = msgspec.json.decode(document.json, type=RecommendationOut)
        assert [reason.org_id for reason in offer.reasons] == [None]


async def test_a_connection_lost_under_the_read_is_replaced_and_the_read_made_again(
    database_url: str,
) -> None:
    # No ping on checkout here, so the pooled connection really is dead when the read starts.
    engine = create_async_engine(asyncpg_url(database_url), pool_size=1, max_overflow=0, pool_pre_ping=False)
    query = RecommendationQuery(readable=None)
    try:
        await _seed(database_url)
        first = await offer_documents(engine, query, None, 5)
        async with engine.connect() as connection:
            pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        killer = create_engine(database_url, 1)
        try:
            async with killer.connect() as connection:
                killed = await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                assert killed.scalar_one() is True
        finally:
            await killer.dispose()
        again = await offer_documents(engine, query, None, 5)
        assert again == first
        async with engine.connect() as connection:  # the pool holds a live connection again
            assert (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one() != pid
    finally:
        await engine.dispose()
