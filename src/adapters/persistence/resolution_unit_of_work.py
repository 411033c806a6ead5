"""The unit of work of customer resolution: one AsyncSession over customers, matches and the crosswalk."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from adapters.persistence.customer_repositories import (
    SqlaCrosswalkRepository,
    SqlaCustomerRepository,
    SqlaMatchRepository,
    account_keys,
)
from adapters.persistence.tables import accounts as accounts_table
from adapters.persistence.unit_of_work import SessionUnitOfWork
from application.resolution.ports import (
    CrosswalkRepository,
    CustomerRepository,
    MatchRepository,
    ResolutionRecord,
    ResolutionTotals,
)
from domain.account import AccountKey
from domain.resolution.decisions import MatchThresholds

__all__ = ["SqlaResolutionUnitOfWork"]

# ResolutionRecord.fingerprint computed by PostgreSQL (the same MD5 of the same text; tested), over `a`.
_FINGERPRINT = (
    "md5(concat_ws(E'\\x1f', a.name, coalesce(a.website, ''), coalesce(a.phone, ''),"
    " coalesce(a.billing_street, ''), coalesce(a.billing_city, ''), coalesce(a.billing_country, ''),"
    " coalesce(a.parent_external_id, '')))"
)


class SqlaResolutionUnitOfWork(SessionUnitOfWork):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.customers: CustomerRepository = SqlaCustomerRepository(session)
        self.matches: MatchRepository = SqlaMatchRepository(session)
        self.crosswalk: CrosswalkRepository = SqlaCrosswalkRepository(session)

    async def records(self, keys: Collection[AccountKey] | None = None) -> list[ResolutionRecord]:
        c = accounts_table.c
        statement = (
            select(
                c.org_id,
                c.external_id,
                c.name,
                c.website,
                c.phone,
                c.billing_street,
                c.billing_city,
                c.billing_country,
                c.parent_external_id,
            )
            .where(c.is_deleted.is_(False))
            .order_by(c.org_id, c.external_id)
        )
        if keys is not None:
            if not keys:
                return []
            wanted = account_keys(keys)
            statement = statement.where(
                tuple_(c.org_id, c.external_id).in_(select(wanted.c.org_id, wanted.c.external_id))
            )
        result = await self._session.execute(statement)
        return [
            ResolutionRecord(AccountKey(r[0], r[1]), r[2], r[3], r[4], r[5], r[6], r[7], r[8]) for r in result
        ]

    async def changed_accounts(self) -> set[AccountKey]:
        # Gone accounts are those remembered or filed under a customer but no longer live.
        statement = text(
            f"""
            SELECT a.org_id, a.external_id FROM accounts a
            LEFT JOIN resolution_fingerprints f ON f.org_id = a.org_id AND f.external_id = a.external_id
            WHERE NOT a.is_deleted AND f.fingerprint IS DISTINCT FROM {_FINGERPRINT}
            UNION
            SELECT f.org_id, f.external_id FROM resolution_fingerprints f
            LEFT JOIN accounts a ON a.org_id = f.org_id AND a.external_id = f.external_id AND NOT a.is_deleted
            WHERE a.org_id IS NULL
            UNION
            SELECT m.org_id, m.external_id FROM customer_members m
            LEFT JOIN accounts a ON a.org_id = m.org_id AND a.external_id = m.external_id AND NOT a.is_deleted
            WHERE a.org_id IS NULL
            """  # noqa: S608 - a fixed expression
        )
        return {AccountKey(r[0], r[1]) for r in await self._session.execute(statement)}

    async def remember(self, keys: Collection[AccountKey] | None) -> None:
        chosen = ""
        parameters: dict[str, list[str]] = {}
        if keys is None:
            await self._session.execute(text("TRUNCATE resolution_fingerprints"))
        elif not keys:
            return
        else:
            ordered = sorted(keys)
            parameters = {"orgs": [k.org_id for k in ordered], "ids": [k.external_id for k in ordered]}
            await self._session.execute(
                text(
                    "DELETE FROM resolution_fingerprints f"
                    " USING unnest(CAST(:orgs AS text[]), CAST(:ids AS text[])) AS k(org_id, external_id)"
                    " WHERE f.org_id = k.org_id AND f.external_id = k.external_id"
                ),
                parameters,
            )
            chosen = (
                " JOIN unnest(CAST(:orgs AS text[]), CAST(:ids AS text[])) AS k(org_id, external_id)"
                " ON k.org_id = a.org_id AND k.external_id = a.external_id"
            )
        await self._session.execute(
            text(
                "INSERT INTO resolution_fingerprints (org_id, external_id, fingerprint)"  # noqa: S608 - fixed
                f" SELECT a.org_id, a.external_id, {_FINGERPRINT} FROM accounts a{chosen}"
                " WHERE NOT a.is_deleted"
            ),
            parameters,
        )

    async def parent_links(self, accounts: Collection[AccountKey] | None) -> dict[AccountKey, AccountKey]:
        child, parent = aliased(accounts_table), aliased(accounts_table)
        statement = (
            select(child.c.org_id, child.c.external_id, parent.c.external_id)
            .join(
                parent,
                (parent.c.org_id == child.c.org_id)
                & (parent.c.external_id == child.c.parent_external_id)
                & parent.c.is_deleted.is_(False),
            )
            .where(child.c.is_deleted.is_(False))
        )
        if accounts is not None:
            if not accounts:
                return {}
            wanted = account_keys(accounts)
            among = select(wanted.c.org_id, wanted.c.external_id)
            statement = statement.where(
                tuple_(child.c.org_id, child.c.external_id).in_(among)
                | tuple_(parent.c.org_id, parent.c.external_id).in_(among)
            )
        return {
            AccountKey(r[0], r[1]): AccountKey(r[0], r[2]) for r in await self._session.execute(statement)
        }

    async def totals(self, thresholds: MatchThresholds) -> ResolutionTotals:
        statement = text(
            """
            SELECT
                (SELECT count(*) FROM accounts WHERE NOT is_deleted),
                (SELECT count(DISTINCT customer_id) FROM customer_members),
                (SELECT count(*) FROM (
                    SELECT customer_id FROM customer_members GROUP BY customer_id
                    HAVING count(DISTINCT org_id) > 1) AS several),
                (SELECT count(*) FROM match_pairs),
                (SELECT count(*) FROM match_pairs p
                    LEFT JOIN customer_members l
                        ON l.org_id = p.left_org_id AND l.external_id = p.left_external_id
                    LEFT JOIN customer_members r
                        ON r.org_id = p.right_org_id AND r.external_id = p.right_external_id
                    WHERE p.probability >= :review AND p.probability < :auto_merge
                        AND l.customer_id IS DISTINCT FROM r.customer_id),
                (SELECT count(*) FROM customer_relations)
            """
        )
        row = (
            await self._session.execute(
                statement, {"review": thresholds.review, "auto_merge": thresholds.auto_merge}
            )
        ).one()
        return ResolutionTotals(*(int(v) for v in row))
