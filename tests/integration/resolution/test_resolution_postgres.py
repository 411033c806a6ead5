"""Resolution end to end on PostgreSQL with generated company-group data and its ground truth."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, text, update
from sqlalchemy.ext.asyncio import AsyncEngine
from tests.fakes import FakeClock

from adapters.persistence.engine import create_engine, create_session_factory
from adapters.persistence.repositories import SqlaAccountRepository
from adapters.persistence.resolution_unit_of_work import SqlaResolutionUnitOfWork
from adapters.persistence.tables import accounts, orgs
from adapters.resolution.rapidfuzz_scorer import RapidfuzzPairScorer
from application.resolution.export import ExportCustomers
from application.resolution.resolve import ResolutionReport, ResolveCustomers
from application.resolution.review import MergeCustomers, SplitCustomer, UndoCustomerChange
from domain.account import Account
from domain.resolution.decisions import MatchThresholds
from domain.resolution.hierarchy import RelationSource
from simulators.salesforce.generator import GroupSpec, MemorySink, generate_company_group, read_ground_truth

pytestmark = pytest.mark.timeout(240)


def _load(tmp_path: Path, n: int) -> tuple[list[Account], dict[str, str]]:
    sink = MemorySink()
    truth_path = tmp_path / "truth.jsonl"
    generate_company_group(GroupSpec(orgs=3, accounts=n, seed=11), sink, truth_path)
    truth = {
        a["account_id"]: c["company_id"]
        for c in read_ground_truth(truth_path).companies
        for a in c["accounts"]
    }
    rows = []
    for index, data in sink.data.items():
        table = data.tables["Account"]
        col = table.columns
        for r in table.rows:
            rows.append(
                Account(
                    org_id=f"bu{index + 1}",
                    external_id=r[col["Id"]],
                    name=r[col["Name"]],
                    currency="USD",
                    website=r[col["Website"]],
                    phone=r[col["Phone"]],
                    billing_street=r[col["BillingStreet"]],
                    billing_city=r[col["BillingCity"]],
                    billing_country=r[col["BillingCountry"]],
                    parent_external_id=r[col["ParentId"]],
                )
            )
    return rows, truth


async def _seed(engine: AsyncEngine, rows: list[Account]) -> None:
    factory = create_session_factory(engine)
    async with factory() as session:
        for index in (1, 2, 3):
            await session.execute(
                insert(orgs).values(
                    id=f"bu{index}",
                    name=f"bu{index}",
                    kind="memory",
                    business_unit=f"BU {index}",
                    currency="USD",
                    created_at=datetime.now(UTC),
                )
            )
        await SqlaAccountRepository(session).upsert(rows)
        await session.commit()


async def test_resolution_on_postgres_meets_quality_and_incremental_equals_full(
    database_url: str, tmp_path: Path
) -> None:
    rows, truth = _load(tmp_path, 1200)
    engine = create_engine(database_url, 4)
    factory = create_session_factory(engine)
    clock = FakeClock()
    thresholds = MatchThresholds(0.9, 0.5, 0.001)

    async def run(full: bool = False) -> object:
        async with factory() as session:
            uow = SqlaResolutionUnitOfWork(session)
            return await ResolveCustomers(uow, RapidfuzzPairScorer(), clock, thresholds).execute(full=full)

    async def export() -> dict[tuple[str, str], str]:
        async with factory() as session:
            result = await ExportCustomers(SqlaResolutionUnitOfWork(session)).execute()
        return {(r.org_id, r.account_external_id): r.customer_id for r in result}

    try:
        await _seed(engine, rows)
        await run()
        first = await export()
        assert len(first) == len(rows)
        by_customer: dict[str, list[str]] = {}
        for key, customer in first.items():
            by_customer.setdefault(customer, []).append(key[1])
        predicted = {tuple(sorted(p)) for ids in by_customer.values() for p in itertools.combinations(ids, 2)}
        by_company: dict[str, list[str]] = {}
        for account_id, company in truth.items():
            by_company.setdefault(company, []).append(account_id)
        actual = {tuple(sorted(p)) for ids in by_company.values() for p in itertools.combinations(ids, 2)}
        hits = len(predicted & actual)
        assert hits / len(predicted) >= 0.98
        assert hits / len(actual) >= 0.95

        # Same data again: nothing changes, ids stay.
        clock.advance(minutes=5)
        await run()
        assert await export() == first

        # Change 2% of accounts (renames and new phones), then compare incremental with a full re-run.
        changed = rows[::50]
        async with factory() as session:
            for account in changed:
                await session.execute(
                    update(accounts)
                    .where(accounts.c.org_id == account.org_id, accounts.c.external_id == account.external_id)
                    .values(name=account.name + " Holdings", phone=None)
                )
            await session.commit()
        incremental = await run()
        after_incremental = await export()
        full = await run(full=True)
        assert await export() == after_incremental
        assert incremental.changed_accounts == len(changed)  # type: ignore[attr-defined]
        assert incremental.comparisons < full.comparisons / 5  # type: ignore[attr-defined]

        # A person's merge survives the next run, and its undo restores the customers.
        ids = sorted(set(after_incremental.values()))
        async with factory() as session:
            change = await MergeCustomers(SqlaResolutionUnitOfWork(session), clock).execute(
                ids[0], ids[1], decided_by="ana"
            )
        await run(full=True)
        merged = await export()
        assert len(set(merged.values())) == len(ids) - 1
        async with factory() as session:
            await UndoCustomerChange(SqlaResolutionUnitOfWork(session), clock).execute(
                change.id, decided_by="ana"
            )
        await run(full=True)
        assert await export() == after_incremental
    finally:
        await engine.dispose()


async def test_incremental_runs_equal_a_full_run_through_new_changed_deleted_accounts_and_people(
    database_url: str, tmp_path: Path
) -> None:
    rows, _ = _load(tmp_path, 900)
    # A group and its regional company arrive in two steps: a name relation made by an incremental run.
    group = Account(org_id="bu1", external_id="001ZORBLAX00001", name="Zorblax Group", currency="USD")
    regional = Account(
        org_id="bu2", external_id="001ZORBLAX00002", name="Zorblax Germany GmbH", currency="USD"
    )
    engine = create_engine(database_url, 4)
    factory = create_session_factory(engine)
    clock = FakeClock()
    thresholds = MatchThresholds(0.9, 0.5, 0.001)

    async def run(full: bool = False) -> ResolutionReport:
        clock.advance(minutes=1)
        async with factory() as session:
            uow = SqlaResolutionUnitOfWork(session)
            return await ResolveCustomers(uow, RapidfuzzPairScorer(), clock, thresholds).execute(full=full)

    async def snapshot() -> tuple[object, ...]:
        async with factory() as session:
            uow = SqlaResolutionUnitOfWork(session)
            exported = await ExportCustomers(uow).execute()
        async with factory() as session:
            uow = SqlaResolutionUnitOfWork(session)
            async with uow:
                relations = await uow.customers.relations()
                retired = {(c.id, c.merged_into) for c in await uow.customers.all() if not c.members}
                totals = await uow.totals(thresholds)
        members = [dataclasses.replace(r, confidence=round(r.confidence, 9)) for r in exported]
        return members, relations, retired, totals

    async def equals_full() -> None:
        before = await snapshot()
        full = await run(full=True)
        assert full.customers_changed == 0
        assert await snapshot() == before

    async def change(statement: Any) -> None:
        async with factory() as session:
            await session.execute(statement)
            await session.commit()

    def keyed(account: Account) -> Any:
        return (accounts.c.org_id == account.org_id) & (accounts.c.external_id == account.external_id)

    try:
        await _seed(engine, [*rows, group])
        await run(full=True)

        # New accounts (a copy of a company in another org, the regional company), renamed and deleted
        # ones, then a second incremental run on top of the first.
        copies = [
            dataclasses.replace(a, org_id="bu3", external_id=f"001COPY{n:08d}")
            for n, a in enumerate(rows[:40:4])
        ]
        async with factory() as session:
            await SqlaAccountRepository(session).upsert([*copies, regional])
            await session.commit()
        for account in rows[1::60]:
            await change(update(accounts).where(keyed(account)).values(name=account.name + " Holdings"))
        for account in rows[2::70]:
            await change(update(accounts).where(keyed(account)).values(is_deleted=True))
        first = await run()
        assert 0 < first.changed_accounts < len(rows) / 5
        await change(update(accounts).where(keyed(rows[5])).values(name="Quuxor Dynamics", phone=None))
        await change(update(accounts).where(keyed(rows[2])).values(is_deleted=False))
        second = await run()
        assert second.changed_accounts == 2
        assert second.comparisons < first.comparisons
        relations = await snapshot()
        assert any(r.source is RelationSource.NAME for r in relations[1])  # type: ignore[attr-defined]
        await equals_full()

        # Nothing changed: nothing is redone.
        idle = await run()
        assert (idle.changed_accounts, idle.comparisons, idle.customers_changed) == (0, 0, 0)

        # People: a merge, a split and a rejected pair, then an incremental run, then undoing the merge.
        ids = sorted({r.customer_id for r in (await snapshot())[0]})  # type: ignore[attr-defined]
        async with factory() as session:
            merge = await MergeCustomers(SqlaResolutionUnitOfWork(session), clock).execute(
                ids[3], ids[4], decided_by="ana"
            )
        async with factory() as session:
            several = next(
                c for c in await SqlaResolutionUnitOfWork(session).customers.all() if len(c.members) >= 3
            )
        async with factory() as session:
            await SplitCustomer(SqlaResolutionUnitOfWork(session), clock).execute(
                several.id, [min(several.members)], decided_by="ana"
            )
        await run()
        await equals_full()
        async with factory() as session:
            await UndoCustomerChange(SqlaResolutionUnitOfWork(session), clock).execute(
                merge.id, decided_by="ana"
            )
        await run()
        await equals_full()
    finally:
        await engine.dispose()


async def test_postgres_computes_the_same_fingerprint_as_the_record(database_url: str) -> None:
    odd = Account(
        org_id="bu1",
        external_id="001FINGERPRINT1",
        name="Zürich Straße & Co. — 株式会社",
        currency="USD",
        website=None,
        phone="",
        billing_city="Genève",
        parent_external_id=None,
    )
    engine = create_engine(database_url, 2)
    factory = create_session_factory(engine)
    try:
        await _seed(engine, [odd])
        async with factory() as session:
            uow = SqlaResolutionUnitOfWork(session)
            async with uow:
                [record] = await uow.records()
                await uow.remember(None)
                assert await uow.changed_accounts() == set()
                stored = (
                    await session.execute(text("SELECT fingerprint FROM resolution_fingerprints"))
                ).scalar()
        assert stored == record.fingerprint
    finally:
        await engine.dispose()
