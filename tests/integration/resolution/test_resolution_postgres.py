"""Resolution end to end on PostgreSQL with generated company-group data and its ground truth."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncEngine
from tests.fakes import FakeClock

from adapters.persistence.engine import create_engine, create_session_factory
from adapters.persistence.repositories import SqlaAccountRepository
from adapters.persistence.resolution_unit_of_work import SqlaResolutionUnitOfWork
from adapters.persistence.tables import accounts, orgs
from adapters.resolution.rapidfuzz_scorer import RapidfuzzPairScorer
from application.resolution.export import ExportCustomers
from application.resolution.resolve import ResolveCustomers
from application.resolution.review import MergeCustomers, UndoCustomerChange
from domain.account import Account
from domain.resolution.decisions import MatchThresholds
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
