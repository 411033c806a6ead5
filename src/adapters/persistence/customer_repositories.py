"""SQLAlchemy repositories of customers, match pairs and decisions, resolution state and the crosswalk."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Table,
    TableValuedAlias,
    Text,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.customer_tables import (
    account_block_keys,
    customer_changes,
    customer_members,
    customer_relations,
    customers,
    match_decisions,
    match_pairs,
    product_families,
    product_family_mappings,
    resolution_state,
)
from adapters.persistence.tables import products
from application.resolution.ports import (
    DecisionKind,
    PairDecision,
    ProductRecord,
    ResolutionState,
    ScoredMatch,
    TermStatistics,
)
from domain.account import AccountKey
from domain.crosswalk import FamilyMapping, MappingSource, ProductCrosswalk
from domain.customer import ChangeKind, Customer, CustomerChange, MatchMethod, Membership
from domain.product import ProductKey
from domain.product_family import ProductFamily
from domain.resolution.clustering import PairLink
from domain.resolution.hierarchy import CustomerRelation, RelationSource
from domain.resolution.model import Field, FieldEvidence, MatchExplanation

__all__ = [
    "SqlaCrosswalkRepository",
    "SqlaCustomerRepository",
    "SqlaMatchRepository",
    "account_keys",
    "copy_rows",
]

_MAX_PARAMS = 30_000


async def _insert(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    batch = max(1, _MAX_PARAMS // len(rows[0]))
    for start in range(0, len(rows), batch):
        await session.execute(insert(table).values(list(rows[start : start + batch])))


def account_keys(keys: Collection[AccountKey]) -> TableValuedAlias:
    """Account keys as a table (org_id, external_id) from two array parameters: one statement for any
    number of keys, where IN (...) would need two parameters per key."""
    ordered = sorted(keys)
    return (
        func.unnest(
            literal([k.org_id for k in ordered], ARRAY(Text)),
            literal([k.external_id for k in ordered], ARRAY(Text)),
        )
        .table_valued("org_id", "external_id")
        .render_derived(name="k")
    )


def _key_in(
    org_id: ColumnElement[str], external_id: ColumnElement[str], keys: TableValuedAlias
) -> ColumnElement[bool]:
    return tuple_(org_id, external_id).in_(select(keys.c.org_id, keys.c.external_id))


async def copy_rows(
    session: AsyncSession, table: Table, columns: list[str], rows: list[tuple[Any, ...]]
) -> None:
    """COPY rows into a table inside the session's transaction (far faster than INSERT for many rows)."""
    if not rows:
        return
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.copy_records_to_table(table.name, records=rows, columns=columns)


def _chunks(items: Sequence[Any], size: int = 5_000) -> list[Sequence[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def _membership_json(m: Membership) -> dict[str, Any]:
    return {
        "org_id": m.account.org_id,
        "external_id": m.account.external_id,
        "confidence": m.confidence,
        "method": m.method.value,
        "decided_by": m.decided_by,
        "joined_at": m.joined_at.isoformat(),
    }


def _membership_from(data: dict[str, Any]) -> Membership:
    return Membership(
        AccountKey(data["org_id"], data["external_id"]),
        data["confidence"],
        MatchMethod(data["method"]),
        data["decided_by"],
        datetime.fromisoformat(data["joined_at"]),
    )


def _change_from(row: Any) -> CustomerChange:
    return CustomerChange(
        id=row.id,
        kind=ChangeKind(row.kind),
        customer_id=row.customer_id,
        other_customer_id=row.other_customer_id,
        moved=tuple(_membership_from(m) for m in row.moved),
        decided_by=row.decided_by,
        at=row.at,
        undone_by=row.undone_by,
        undone_at=row.undone_at,
    )


class SqlaCustomerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _load(self, ids: Collection[str] | None) -> list[Customer]:
        statement = select(customers)
        if ids is not None:
            if not ids:
                return []
            statement = statement.where(customers.c.id == func.any(literal(sorted(ids), ARRAY(Text))))
        found = {
            row.id: Customer(id=row.id, name=row.name, merged_into=row.merged_into, created_at=row.created_at)
            for row in await self._session.execute(statement)
        }
        if not found:
            return []
        members = select(customer_members)
        changes = select(customer_changes).order_by(customer_changes.c.at, customer_changes.c.id)
        if ids is not None:
            wanted = literal(sorted(found), ARRAY(Text))
            members = members.where(customer_members.c.customer_id == func.any(wanted))
            changes = changes.where(
                or_(
                    customer_changes.c.customer_id == func.any(wanted),
                    customer_changes.c.other_customer_id == func.any(wanted),
                )
            )
        for row in await self._session.execute(members):
            key = AccountKey(row.org_id, row.external_id)
            found[row.customer_id].members[key] = Membership(
                key, row.confidence, MatchMethod(row.method), row.decided_by, row.joined_at
            )
        for row in await self._session.execute(changes):
            change = _change_from(row)
            for customer_id in {change.customer_id, change.other_customer_id}:
                if customer_id in found:
                    found[customer_id].history.append(change)
        return [found[i] for i in sorted(found)]

    async def all(self) -> list[Customer]:
        return await self._load(None)

    async def holding(self, accounts: Collection[AccountKey] | None) -> list[Customer]:
        if accounts is None:
            return await self._load(None)
        if not accounts:
            return []
        keys = account_keys(accounts)
        statement = select(customer_members.c.customer_id).where(
            _key_in(customer_members.c.org_id, customer_members.c.external_id, keys)
        )
        return await self._load(set((await self._session.execute(statement)).scalars()))

    async def ids(self) -> set[str]:
        return set((await self._session.execute(select(customers.c.id))).scalars())

    async def changed_by_people(self, since: datetime) -> set[AccountKey]:
        c = customer_changes.c
        recent = or_(c.at >= since, c.undone_at >= since)
        ids = select(c.customer_id).where(recent).union(select(c.other_customer_id).where(recent))
        statement = select(customer_members.c.org_id, customer_members.c.external_id).where(
            customer_members.c.customer_id.in_(ids)
        )
        return {AccountKey(r[0], r[1]) for r in await self._session.execute(statement)}

    async def named(self) -> dict[str, str]:
        statement = select(customers.c.id, customers.c.name).where(
            customers.c.merged_into.is_(None),
            exists().where(customer_members.c.customer_id == customers.c.id),
        )
        return {r[0]: r[1] for r in await self._session.execute(statement)}

    async def get(self, customer_id: str) -> Customer | None:
        loaded = await self._load([customer_id])
        return loaded[0] if loaded else None

    async def of_accounts(self, accounts: Collection[AccountKey]) -> dict[AccountKey, str]:
        result: dict[AccountKey, str] = {}
        for chunk in _chunks(sorted(accounts)):
            keys = [(k.org_id, k.external_id) for k in chunk]
            statement = select(customer_members).where(
                tuple_(customer_members.c.org_id, customer_members.c.external_id).in_(keys)
            )
            for row in await self._session.execute(statement):
                result[AccountKey(row.org_id, row.external_id)] = row.customer_id
        return result

    async def change(self, change_id: str) -> CustomerChange | None:
        row = (
            await self._session.execute(select(customer_changes).where(customer_changes.c.id == change_id))
        ).first()
        return None if row is None else _change_from(row)

    async def relations(self) -> list[CustomerRelation]:
        rows = await self._session.execute(select(customer_relations))
        return sorted(CustomerRelation(r.parent_id, r.child_id, RelationSource(r.source)) for r in rows)

    async def replace_relations(
        self, touching: Collection[str] | None, relations: Collection[CustomerRelation]
    ) -> None:
        if touching is None:
            await self._session.execute(delete(customer_relations))
        elif touching:
            ids = literal(sorted(touching), ARRAY(Text))
            await self._session.execute(
                delete(customer_relations).where(
                    or_(
                        customer_relations.c.parent_id == func.any(ids),
                        customer_relations.c.child_id == func.any(ids),
                    )
                )
            )
        # The table keeps one row per parent and child; the CRM's own word wins over name evidence.
        unique: dict[tuple[str, str], CustomerRelation] = {}
        for relation in sorted(relations, key=lambda r: r.source is not RelationSource.CRM_PARENT):
            unique.setdefault((relation.parent_id, relation.child_id), relation)
        await _insert(
            self._session,
            customer_relations,
            [
                {"parent_id": r.parent_id, "child_id": r.child_id, "source": r.source.value}
                for r in unique.values()
            ],
        )

    async def save(self, items: Sequence[Customer]) -> None:
        if not items:
            return
        ids = [c.id for c in items]
        for chunk in _chunks(ids):
            await self._session.execute(
                delete(customer_members).where(customer_members.c.customer_id.in_(chunk))
            )
        # A moved account may still be filed under a customer not saved here; its key is the primary key.
        keys = [(k.org_id, k.external_id) for c in items for k in c.members]
        for key_chunk in _chunks(keys):
            await self._session.execute(
                delete(customer_members).where(
                    tuple_(customer_members.c.org_id, customer_members.c.external_id).in_(key_chunk)
                )
            )
        for chunk_items in _chunks(items, 5_000):
            rows = [
                {"id": c.id, "name": c.name, "merged_into": c.merged_into, "created_at": c.created_at}
                for c in chunk_items
            ]
            upsert = insert(customers).values(rows)
            await self._session.execute(
                upsert.on_conflict_do_update(
                    index_elements=["id"],
                    set_={"name": upsert.excluded.name, "merged_into": upsert.excluded.merged_into},
                )
            )
        await _insert(
            self._session,
            customer_members,
            [
                {
                    "org_id": m.account.org_id,
                    "external_id": m.account.external_id,
                    "customer_id": c.id,
                    "confidence": m.confidence,
                    "method": m.method.value,
                    "decided_by": m.decided_by,
                    "joined_at": m.joined_at,
                }
                for c in items
                for m in c.members.values()
            ],
        )
        changes = {r.id: r for c in items for r in c.history}
        if changes:
            rows = [
                {
                    "id": r.id,
                    "kind": r.kind.value,
                    "customer_id": r.customer_id,
                    "other_customer_id": r.other_customer_id,
                    "moved": [_membership_json(m) for m in r.moved],
                    "decided_by": r.decided_by,
                    "at": r.at,
                    "undone_by": r.undone_by,
                    "undone_at": r.undone_at,
                }
                for r in changes.values()
            ]
            upsert = insert(customer_changes).values(rows)
            await self._session.execute(
                upsert.on_conflict_do_update(
                    index_elements=["id"],
                    set_={"undone_by": upsert.excluded.undone_by, "undone_at": upsert.excluded.undone_at},
                )
            )


def _pair_row(pair: PairLink) -> dict[str, str]:
    return {
        "left_org_id": pair.left.org_id,
        "left_external_id": pair.left.external_id,
        "right_org_id": pair.right.org_id,
        "right_external_id": pair.right.external_id,
    }


def _pair_of(row: Any) -> PairLink:
    return PairLink(
        AccountKey(row.left_org_id, row.left_external_id), AccountKey(row.right_org_id, row.right_external_id)
    )


def explanation_to_json(explanation: MatchExplanation) -> dict[str, Any]:
    return {
        "prior": explanation.prior,
        "evidence": [[e.field.value, e.level, e.weight] for e in explanation.evidence],
    }


def explanation_from_json(data: dict[str, Any]) -> MatchExplanation:
    return MatchExplanation(
        data["prior"],
        tuple(FieldEvidence(Field(f), int(level), float(w)) for f, level, w in data["evidence"]),
    )


class SqlaMatchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def pairs(self, touching: Collection[AccountKey] | None = None) -> list[ScoredMatch]:
        statement = select(match_pairs)
        if touching is not None:
            if not touching:
                return []
            keys = account_keys(touching)
            c = match_pairs.c
            statement = statement.where(
                or_(
                    _key_in(c.left_org_id, c.left_external_id, keys),
                    _key_in(c.right_org_id, c.right_external_id, keys),
                )
            )
        rows = await self._session.execute(statement)
        return [ScoredMatch(_pair_of(r), r.probability, explanation_from_json(r.explanation)) for r in rows]

    async def linked(self, accounts: Collection[AccountKey], auto_merge: float) -> set[AccountKey]:
        if not accounts:
            return set()
        ordered = sorted(accounts)
        # Edges in both directions, so that the recursive step names the reached table once (as
        # PostgreSQL requires); UNION drops accounts already reached, so the walk ends.
        statement = text(
            """
            WITH RECURSIVE edge(from_org, from_id, to_org, to_id) AS (
                SELECT left_org_id, left_external_id, right_org_id, right_external_id
                FROM match_pairs WHERE probability >= :auto_merge
                UNION ALL
                SELECT right_org_id, right_external_id, left_org_id, left_external_id
                FROM match_pairs WHERE probability >= :auto_merge
                UNION ALL
                SELECT left_org_id, left_external_id, right_org_id, right_external_id
                FROM match_decisions WHERE kind = 'must_link'
                UNION ALL
                SELECT right_org_id, right_external_id, left_org_id, left_external_id
                FROM match_decisions WHERE kind = 'must_link'
            ), reached(org_id, external_id) AS (
                SELECT * FROM unnest(CAST(:orgs AS text[]), CAST(:ids AS text[]))
                UNION
                SELECT e.to_org, e.to_id FROM edge e
                JOIN reached r ON e.from_org = r.org_id AND e.from_id = r.external_id
            )
            SELECT org_id, external_id FROM reached
            """
        )
        rows = await self._session.execute(
            statement,
            {
                "auto_merge": auto_merge,
                "orgs": [k.org_id for k in ordered],
                "ids": [k.external_id for k in ordered],
            },
        )
        return {AccountKey(r[0], r[1]) for r in rows}

    async def replace_block_keys(
        self, touching: Collection[AccountKey] | None, keys: Mapping[AccountKey, Collection[int]]
    ) -> None:
        if touching is None:
            await self._session.execute(text("TRUNCATE account_block_keys"))
        elif touching:
            await self._session.execute(
                delete(account_block_keys).where(
                    _key_in(
                        account_block_keys.c.org_id, account_block_keys.c.external_id, account_keys(touching)
                    )
                )
            )
        rows = [(k.org_id, k.external_id, code) for k, codes in keys.items() for code in codes]
        await copy_rows(self._session, account_block_keys, ["org_id", "external_id", "block_key"], rows)

    async def in_blocks(self, keys: Collection[int]) -> set[AccountKey]:
        if not keys:
            return set()
        c = account_block_keys.c
        statement = (
            select(c.org_id, c.external_id)
            .where(c.block_key == func.any(literal(sorted(keys), ARRAY(account_block_keys.c.block_key.type))))
            .distinct()
        )
        return {AccountKey(r[0], r[1]) for r in await self._session.execute(statement)}

    async def replace_pairs(
        self, touching: Collection[AccountKey] | None, pairs: Sequence[ScoredMatch]
    ) -> None:
        if touching is None:
            await self._session.execute(delete(match_pairs))
        else:
            keys = [(k.org_id, k.external_id) for k in sorted(touching)]
            for chunk in _chunks(keys):
                await self._session.execute(
                    delete(match_pairs).where(
                        or_(
                            tuple_(match_pairs.c.left_org_id, match_pairs.c.left_external_id).in_(chunk),
                            tuple_(match_pairs.c.right_org_id, match_pairs.c.right_external_id).in_(chunk),
                        )
                    )
                )
        unique = {p.pair: p for p in pairs}
        await _insert(
            self._session,
            match_pairs,
            [
                {
                    **_pair_row(p.pair),
                    "probability": p.probability,
                    "explanation": explanation_to_json(p.explanation),
                }
                for p in unique.values()
            ],
        )

    async def decisions(self) -> list[PairDecision]:
        rows = await self._session.execute(select(match_decisions))
        return [
            PairDecision(_pair_of(r), DecisionKind(r.kind), r.decided_by, r.decided_at, r.change_id)
            for r in rows
        ]

    async def add_decisions(self, decisions: Sequence[PairDecision]) -> None:
        latest = {d.pair: d for d in decisions}
        rows = [
            {
                **_pair_row(d.pair),
                "kind": d.kind.value,
                "decided_by": d.decided_by,
                "decided_at": d.decided_at,
                "change_id": d.change_id,
            }
            for d in latest.values()
        ]
        for chunk in _chunks(rows, 3_000):
            statement = insert(match_decisions).values(list(chunk))
            await self._session.execute(
                statement.on_conflict_do_update(
                    index_elements=["left_org_id", "left_external_id", "right_org_id", "right_external_id"],
                    set_={
                        "kind": statement.excluded.kind,
                        "decided_by": statement.excluded.decided_by,
                        "decided_at": statement.excluded.decided_at,
                        "change_id": statement.excluded.change_id,
                    },
                )
            )

    async def remove_decisions(self, change_id: str) -> None:
        await self._session.execute(delete(match_decisions).where(match_decisions.c.change_id == change_id))

    async def forget_decision(self, pair: PairLink) -> None:
        row = _pair_row(pair)
        await self._session.execute(
            delete(match_decisions).where(*(match_decisions.c[name] == value for name, value in row.items()))
        )

    async def state(self) -> ResolutionState:
        row = (
            await self._session.execute(select(resolution_state).where(resolution_state.c.id == 1))
        ).first()
        if row is None or row.statistics is None:
            return ResolutionState(None, None if row is None else row.last_run_at)
        data = row.statistics
        statistics = TermStatistics(data["records"], data["tokens"], data["names"], data["domains"])
        return ResolutionState(statistics, row.last_run_at)

    async def save_state(self, last_run_at: datetime, statistics: TermStatistics | None = None) -> None:
        if statistics is None:
            # The statistics stay as stored: re-encoding them would cost more than an incremental run's
            # other writes together.
            statement = insert(resolution_state).values(id=1, last_run_at=last_run_at)
            await self._session.execute(
                statement.on_conflict_do_update(
                    index_elements=["id"], set_={"last_run_at": statement.excluded.last_run_at}
                )
            )
            return
        data = {
            "records": statistics.records,
            "tokens": statistics.tokens,
            "names": statistics.names,
            "domains": statistics.domains,
        }
        statement = insert(resolution_state).values(id=1, statistics=data, last_run_at=last_run_at)
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=["id"],
                set_={
                    "statistics": statement.excluded.statistics,
                    "last_run_at": statement.excluded.last_run_at,
                },
            )
        )


class SqlaCrosswalkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def load(self) -> ProductCrosswalk:
        crosswalk = ProductCrosswalk()
        for row in await self._session.execute(select(product_families).order_by(product_families.c.id)):
            crosswalk.families[row.id] = ProductFamily(
                row.id, row.name, row.description, row.is_active, row.created_at
            )
        for row in await self._session.execute(select(product_family_mappings)):
            key = ProductKey(row.org_id, row.external_id)
            crosswalk.mappings[key] = FamilyMapping(
                key,
                row.family_id,
                MappingSource(row.source),
                row.confidence,
                row.confirmed,
                row.decided_by,
                row.decided_at,
            )
        return crosswalk

    async def save(self, crosswalk: ProductCrosswalk) -> None:
        for family in crosswalk.families.values():
            statement = insert(product_families).values(
                id=family.id,
                name=family.name,
                description=family.description,
                is_active=family.is_active,
                created_at=family.created_at,
            )
            await self._session.execute(
                statement.on_conflict_do_update(
                    index_elements=["id"],
                    set_={"name": statement.excluded.name, "description": statement.excluded.description},
                )
            )
        await self._session.execute(delete(product_family_mappings))
        await _insert(
            self._session,
            product_family_mappings,
            [
                {
                    "org_id": m.product.org_id,
                    "external_id": m.product.external_id,
                    "family_id": m.family_id,
                    "source": m.source.value,
                    "confidence": m.confidence,
                    "confirmed": m.confirmed,
                    "decided_by": m.decided_by,
                    "decided_at": m.decided_at,
                }
                for m in crosswalk.mappings.values()
            ],
        )

    async def products(self) -> list[ProductRecord]:
        statement = (
            select(products)
            .where(products.c.is_deleted.is_(False))
            .order_by(products.c.org_id, products.c.external_id)
        )
        return [
            ProductRecord(
                ProductKey(r.org_id, r.external_id), r.name, r.product_code, r.family, r.description
            )
            for r in await self._session.execute(statement)
        ]
