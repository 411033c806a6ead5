"""The list endpoint's documents (built by PostgreSQL) say what the domain objects say, page by page.

`SqlaRecommendationRepository.page_documents` is a second reading of the same rows as `page`, written for
speed; these tests hold the two to each other on one seeded world, over every filter, both orders, every
scope, decided offers and reasons from several orgs.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from itertools import product
from typing import Any

import asyncpg
import msgspec
import pytest
from sqlalchemy import text, update
from tests.integration.test_api_recommendations import _seed

from adapters.persistence.engine import ReadPool, create_engine
from adapters.persistence.model_tables import recommendations
from adapters.persistence.offer_documents import offer_documents
from adapters.persistence.recommendation_store import SqlaRecommendationRepository
from application.errors import DependencyUnavailableError
from application.models.offers import visible_reasons
from application.models.recommendation_query import (
    OfferDocument,
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
async def repository(database_url: str) -> AsyncIterator[SqlaRecommendationRepository]:
    await _seed(database_url)
    await _decide_some(database_url)
    engine = create_engine(database_url, 2)
    repository = SqlaRecommendationRepository(engine, ReadPool(database_url, 2))
    try:
        yield repository
    finally:
        await repository.close()
        await engine.dispose()


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


async def _pooled_pids(reads: ReadPool, count: int) -> set[int]:
    """Takes `count` connections at once, so the pool holds that many, and gives their backends' pids."""
    pool = await reads.pool()
    connections = [await pool.acquire() for _ in range(count)]
    try:
        return {await connection.fetchval("SELECT pg_backend_pid()") for connection in connections}
    finally:
        for connection in connections:
            await pool.release(connection)


async def _terminate(database_url: str, pids: set[int]) -> None:
    killer = create_engine(database_url, 1)
    try:
        async with killer.connect() as connection:
            for pid in pids:
                killed = await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                assert killed.scalar_one() is True
    finally:
        await killer.dispose()


_EVERY_OFFER = RecommendationQuery(readable=None)


@contextlib.asynccontextmanager
async def _seeded_reads(
    database_url: str, size: int, acquire_timeout_s: float = 10.0
) -> AsyncIterator[tuple[ReadPool, list[OfferDocument]]]:
    """A read pool of `size` on the seeded database, and the first page of five read through it."""
    reads = ReadPool(database_url, size, acquire_timeout_s)
    try:
        await _seed(database_url)
        yield reads, await offer_documents(reads, _EVERY_OFFER, None, 5)
    finally:
        await reads.close()


async def test_every_pooled_connection_dead_after_a_restart_costs_the_read_nothing(
    database_url: str,
) -> None:
    # The list's pool does not ping on checkout: after a server restart every connection it holds is dead.
    async with _seeded_reads(database_url, 3) as (reads, first):
        pids = await _pooled_pids(reads, 3)
        assert len(pids) == 3
        await _terminate(database_url, pids)
        assert await offer_documents(reads, _EVERY_OFFER, None, 5) == first
        assert not (await _pooled_pids(reads, 3)) & pids  # no dead connection is handed out again


async def test_a_connection_killed_as_the_read_starts_is_replaced_and_the_read_made_again(
    database_url: str,
) -> None:
    async with _seeded_reads(database_url, 1) as (reads, first):
        (pid,) = await _pooled_pids(reads, 1)
        pool = await reads.pool()
        fetch = asyncpg.Connection.fetch

        async def killed_first(connection: asyncpg.Connection, *args: Any, **kwargs: Any) -> Any:
            # The backend dies between checkout and the query, so the read itself meets the dead connection.
            if connection.get_server_pid() == pid:
                await _terminate(database_url, {pid})
                await asyncio.sleep(0.1)
            return await fetch(connection, *args, **kwargs)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(asyncpg.Connection, "fetch", killed_first)
            assert await offer_documents(reads, _EVERY_OFFER, None, 5) == first
        assert await _pooled_pids(reads, 1) != {pid}
        assert pool.get_size() == 1


async def test_a_database_that_takes_no_connection_fails_the_read_at_once() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    reads = ReadPool(f"postgresql://xsell@127.0.0.1:{port}/xsell", 3)
    try:
        started = time.monotonic()
        with pytest.raises(DependencyUnavailableError, match="does not answer"):
            await offer_documents(reads, RecommendationQuery(readable=None), None, 5)
        assert time.monotonic() - started < 5  # one refused connect, not one per pooled connection
    finally:
        await reads.close()


async def test_a_read_that_gets_no_free_connection_says_so(database_url: str) -> None:
    async with _seeded_reads(database_url, 1, acquire_timeout_s=0.3) as (reads, first):
        pool = await reads.pool()
        held = await pool.acquire()  # the pool's only connection, busy elsewhere
        try:
            with pytest.raises(DependencyUnavailableError, match="no database connection came free"):
                await offer_documents(reads, _EVERY_OFFER, None, 5)
        finally:
            await pool.release(held)
        assert await offer_documents(reads, _EVERY_OFFER, None, 5) == first
