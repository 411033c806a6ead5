"""The list endpoint's read: one page of offers as JSON documents built by PostgreSQL, in one round trip.

The hottest read xsell serves, so it skips the layers that cost per request and per row elsewhere: the
statement is assembled from fixed fragments (the driver keeps one prepared statement per shape), runs
on the pooled connection's driver without a BEGIN and ROLLBACK around it, and each row comes back as the
offer's JSON text and its sort key, never as an object per field. What it selects is what
`SqlaRecommendationRepository.page` selects (the same filters, scope, order and keyset); the tests
compare the two on the same data.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any

from asyncpg.exceptions import (
    AdminShutdownError,
    CannotConnectNowError,
    CrashShutdownError,
    InterfaceError,
    InternalClientError,
    PostgresConnectionError,
)

from adapters.observability.tracing import client_span
from adapters.persistence.engine import ReadPool
from application.errors import DependencyUnavailableError
from application.models.recommendation_query import (
    OfferDocument,
    RecommendationPosition,
    RecommendationQuery,
    RecommendationSort,
)

__all__ = ["offer_documents"]


# What a connection that died under a query raises (a terminated or restarting server says so first;
# a termination that lands while the query starts leaves the driver's protocol state broken).
_CONNECTION_LOST = (
    PostgresConnectionError,
    AdminShutdownError,
    CrashShutdownError,
    CannotConnectNowError,
    InterfaceError,
    InternalClientError,
    OSError,
)

# Reasons as stored, or narrowed to the readable orgs as `visible_reasons` narrows them (order kept).
_ALL_REASONS = "reasons"
_VISIBLE_REASONS = (
    "COALESCE((SELECT jsonb_agg(e.value ORDER BY e.n)"
    " FROM jsonb_array_elements(reasons) WITH ORDINALITY AS e(value, n)"
    " WHERE e.value->>'org_id' IS NULL OR e.value->>'org_id' = ANY({orgs})), '[]'::jsonb)"
)
# Every field of an offer under its own name; amounts as text keep their exact decimals.
_DOCUMENT = (
    "json_build_object('id', id, 'customer_id', customer_id, 'family_id', family_id,"
    " 'target_org_id', target_org_id, 'probability', probability,"
    " 'expected_value', expected_value::text, 'currency', currency, 'status', status, 'arm', arm,"
    " 'model_version_id', model_version_id, 'reasons', {reasons}, 'created_at', created_at,"
    " 'decided_by', decided_by, 'accepted_at', accepted_at, 'dismissed_at', dismissed_at,"
    " 'converted_at', converted_at, 'lost_at', lost_at, 'dismiss_reason', dismiss_reason,"
    " 'converted_amount', converted_amount::text)::text"
)


class _Statement:
    """Positional parameters ($1, $2...) for the fragments that need them."""

    def __init__(self) -> None:
        self.arguments: list[Any] = []
        self.where: list[str] = []

    def parameter(self, value: Any, cast: str) -> str:
        self.arguments.append(value)
        return f"${len(self.arguments)}::{cast}"


def _statement(
    query: RecommendationQuery, after: RecommendationPosition | None, limit: int
) -> tuple[str, list[Any]]:
    by_probability = query.sort is RecommendationSort.PROBABILITY
    key, key_type = ("probability", "float8") if by_probability else ("expected_value", "numeric")
    s = _Statement()
    reasons = _ALL_REASONS
    orgs = None
    if query.readable is not None:
        # In scope: the target org is readable and the customer has an account in a readable org.
        orgs = s.parameter(sorted(query.readable), "text[]")
        reasons = _VISIBLE_REASONS.format(orgs=orgs)
        s.where.append(
            f"target_org_id = ANY({orgs}) AND EXISTS (SELECT 1 FROM customer_members m"  # noqa: S608
            f" WHERE m.customer_id = recommendations.customer_id AND m.org_id = ANY({orgs}))"
        )
    if query.target_org_ids:
        s.where.append(f"target_org_id = ANY({s.parameter(sorted(query.target_org_ids), 'text[]')})")
    if query.family_ids:
        s.where.append(f"family_id = ANY({s.parameter(sorted(query.family_ids), 'text[]')})")
    if query.statuses:
        statuses = sorted(status.value for status in query.statuses)
        s.where.append(f"status = ANY({s.parameter(statuses, 'text[]')})")
    if query.arm is not None:
        s.where.append(f"arm = {s.parameter(query.arm.value, 'text')}")
    if query.customer_id is not None:
        s.where.append(f"customer_id = {s.parameter(query.customer_id, 'text')}")
    if query.min_probability is not None:
        s.where.append(f"probability >= {s.parameter(float(query.min_probability), 'float8')}")
    if query.min_value is not None:
        s.where.append(f"expected_value >= {s.parameter(Decimal(query.min_value), 'numeric')}")
    if query.industry is not None:
        # The industry of the customer's member accounts, as synced, in the orgs the caller may read.
        industry = s.parameter(query.industry.strip().lower(), "text")
        readable = f" AND m.org_id = ANY({orgs})" if orgs is not None else ""
        s.where.append(
            "EXISTS (SELECT 1 FROM customer_members m JOIN accounts a"  # noqa: S608
            " ON a.org_id = m.org_id AND a.external_id = m.external_id"
            f" WHERE m.customer_id = recommendations.customer_id AND a.is_deleted IS FALSE"
            f" AND lower(a.industry) = {industry}{readable})"
        )
    if after is not None:
        value = s.parameter(after.value, key_type)
        s.where.append(f"({key} < {value} OR ({key} = {value} AND id > {s.parameter(after.id, 'text')}))")
    where = " AND ".join(s.where) or "TRUE"
    # Only this module's fragments and $n placeholders are spliced in; every value is a parameter.
    sql = (
        f"SELECT id, {key}, {_DOCUMENT.format(reasons=reasons)} FROM recommendations"  # noqa: S608
        f" WHERE {where} ORDER BY {key} DESC, id LIMIT {s.parameter(limit, 'int')}"
    )
    return sql, s.arguments


class _Lost(Exception):
    """The read's connection died under it (`_CONNECTION_LOST`); the connection is already terminated."""


async def _fetch(reads: ReadPool, sql: str, arguments: list[Any]) -> list[Any]:
    try:
        pool = await reads.pool()
        connection = await pool.acquire(timeout=reads.acquire_timeout_s)
    except TimeoutError as exc:
        raise DependencyUnavailableError(
            f"no database connection came free within {reads.acquire_timeout_s:g} s (all busy, or the"
            " database is slow to answer); nothing was read, please retry"
        ) from exc
    except _CONNECTION_LOST as exc:
        raise DependencyUnavailableError(
            "the database does not answer; nothing was read, please retry"
        ) from exc
    try:
        with client_span("postgresql SELECT", system="postgresql", operation="SELECT"):
            return list(await connection.fetch(sql, *arguments))
    except _CONNECTION_LOST as exc:
        # Not handed out again: the pool opens a new one in its place. A connection that saw its socket
        # close is already out of the pool (asyncpg released it), and says so.
        with contextlib.suppress(InterfaceError):
            connection.terminate()
        raise _Lost() from exc
    finally:
        await pool.release(connection)


async def offer_documents(
    reads: ReadPool, query: RecommendationQuery, after: RecommendationPosition | None, limit: int
) -> list[OfferDocument]:
    """At most `limit` offers matching `query` in its order, strictly after `after` when given.

    A read only, on a pool that does not ping its connections: a pooled connection found dead under the
    read (a restarted or failed-over server, a killed backend) is thrown away and the read made again on
    the next, until a fresh connection answers. So a server restart costs the first read after it at
    most one failed attempt per connection the pool held, and nothing else. DependencyUnavailableError
    when no connection can be had, or a fresh one dies too."""
    sql, arguments = _statement(query, after, limit)
    lost: _Lost | None = None
    for _ in range(reads.max_size + 1):
        try:
            rows = await _fetch(reads, sql, arguments)
        except _Lost as exc:
            lost = exc
            continue
        return [OfferDocument(RecommendationPosition(row[1], row[0]), row[2]) for row in rows]
    raise DependencyUnavailableError(
        "the database connection was lost on every try; nothing was read, please retry"
    ) from (lost.__cause__ if lost is not None else None)
