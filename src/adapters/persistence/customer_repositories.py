"""SQLAlchemy repositories of customers, match pairs and decisions, resolution state and the crosswalk."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.customer_tables import (
    customer_changes,
    customer_members,
    customer_relations,
    customers,
    match_decisions,
    match_pairs,
    product_families,
    product_family_mappings,
    resolution_fingerprints,
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

__all__ = ["SqlaCrosswalkRepository", "SqlaCustomerRepository", "SqlaMatchRepository"]

_MAX_PARAMS = 30_000


async def _insert(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    batch = max(1, _MAX_PARAMS // len(rows[0]))
    for start in range(0, len(rows), batch):
        await session.execute(insert(table).values(list(rows[start : start + batch])))


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
            statement = statement.where(customers.c.id.in_(list(ids)))
        found = {
            row.id: Customer(id=row.id, name=row.name, merged_into=row.merged_into, created_at=row.created_at)
            for row in await self._session.execute(statement)
        }
        if not found:
            return []
        members = select(customer_members)
        changes = select(customer_changes).order_by(customer_changes.c.at, customer_changes.c.id)
        if ids is not None:
            members = members.where(customer_members.c.customer_id.in_(list(found)))
            changes = changes.where(
                or_(
                    customer_changes.c.customer_id.in_(list(found)),
                    customer_changes.c.other_customer_id.in_(list(found)),
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

    async def replace_relations(self, relations: Collection[CustomerRelation]) -> None:
        await self._session.execute(delete(customer_relations))
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

    async def pairs(self) -> list[ScoredMatch]:
        rows = await self._session.execute(select(match_pairs))
        return [ScoredMatch(_pair_of(r), r.probability, explanation_from_json(r.explanation)) for r in rows]

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

    async def state(self) -> ResolutionState:
        row = (
            await self._session.execute(select(resolution_state).where(resolution_state.c.id == 1))
        ).first()
        fingerprints = {
            AccountKey(r.org_id, r.external_id): r.fingerprint
            for r in await self._session.execute(select(resolution_fingerprints))
        }
        if row is None or row.statistics is None:
            return ResolutionState(None, fingerprints, None if row is None else row.last_run_at)
        data = row.statistics
        statistics = TermStatistics(data["records"], data["tokens"], data["names"], data["domains"])
        return ResolutionState(statistics, fingerprints, row.last_run_at)

    async def save_state(self, state: ResolutionState, changed: Collection[AccountKey] | None) -> None:
        stats = state.statistics
        data = (
            None
            if stats is None
            else {
                "records": stats.records,
                "tokens": stats.tokens,
                "names": stats.names,
                "domains": stats.domains,
            }
        )
        statement = insert(resolution_state).values(id=1, statistics=data, last_run_at=state.last_run_at)
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=["id"],
                set_={
                    "statistics": statement.excluded.statistics,
                    "last_run_at": statement.excluded.last_run_at,
                },
            )
        )
        if changed is None:
            await self._session.execute(delete(resolution_fingerprints))
            keys: Collection[AccountKey] = state.fingerprints
        else:
            keys = changed
            rows = [(k.org_id, k.external_id) for k in sorted(changed)]
            for chunk in _chunks(rows):
                await self._session.execute(
                    delete(resolution_fingerprints).where(
                        tuple_(resolution_fingerprints.c.org_id, resolution_fingerprints.c.external_id).in_(
                            chunk
                        )
                    )
                )
        await _insert(
            self._session,
            resolution_fingerprints,
            [
                {"org_id": k.org_id, "external_id": k.external_id, "fingerprint": state.fingerprints[k]}
                for k in sorted(keys)
                if k in state.fingerprints
            ],
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
