"""`xsell resolve`, `xsell matches review` and `xsell customers export` as a user runs them, on PostgreSQL."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from adapters.embedded.services import ServiceUrls
from adapters.persistence.engine import create_engine, create_session_factory
from adapters.persistence.repositories import SqlaAccountRepository
from adapters.persistence.tables import orgs
from domain.account import Account
from domain.ids import SalesforceId

pytestmark = pytest.mark.timeout(240)

XSELL = str(Path(sys.executable).parent / "xsell")


def _id(n: int) -> str:
    return SalesforceId.parse(f"001A{n:011d}").value


def _account(org: str, n: int, name: str, **fields: Any) -> Account:
    return Account(org_id=org, external_id=_id(n), name=name, currency="USD", **fields)


ACCOUNTS = [
    # One company in two orgs: everything agrees.
    _account(
        "bu1",
        1,
        "Acme Robotics Inc.",
        website="acme-robotics.com",
        phone="+1 212 555 0101",
        billing_street="12 Main Street",
        billing_city="New York",
        billing_country="US",
    ),
    _account(
        "bu2",
        2,
        "ACME ROBOTICS INC",
        website="www.acme-robotics.com",
        phone="(212) 555-0101",
        billing_street="12 Main St.",
        billing_city="New York",
        billing_country="USA",
    ),
    # Same name and city, a street that only looks alike: a person should decide.
    _account(
        "bu1",
        3,
        "Bluefin Logistics GmbH",
        phone="+49 30 1234567",
        billing_street="5 Hauptstrasse",
        billing_city="Berlin",
        billing_country="DE",
    ),
    _account(
        "bu2",
        4,
        "Bluefin Logistics",
        billing_street="5 Hauptstrassen",
        billing_city="Berlin",
        billing_country="Germany",
    ),
    # A parent and its subsidiary in one org (Salesforce ParentId): two customers, one relation.
    _account("bu1", 5, "Corvid Group", website="corvid.com", billing_city="London", billing_country="GB"),
    _account(
        "bu1",
        6,
        "Corvid Europe",
        website="corvid.com",
        billing_city="London",
        billing_country="GB",
        parent_external_id=_id(5),
    ),
]


async def _seed(database_url: str) -> None:
    engine = create_engine(database_url, 2)
    try:
        async with create_session_factory(engine)() as session:
            for org in ("bu1", "bu2"):
                await session.execute(
                    insert(orgs).values(
                        id=org,
                        name=org,
                        kind="memory",
                        business_unit=org,
                        currency="USD",
                        created_at=datetime.now(UTC),
                    )
                )
            await SqlaAccountRepository(session).upsert(ACCOUNTS)
            await session.commit()
    finally:
        await engine.dispose()


def _xsell(*args: str, database_url: str, services: ServiceUrls) -> subprocess.CompletedProcess[str]:
    environment = os.environ | {"DATABASE_URL": database_url, "REDIS_URL": services.redis_url}
    result = subprocess.run([XSELL, *args], env=environment, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


async def test_resolve_review_and_export_through_the_command_line(
    database_url: str, services: ServiceUrls
) -> None:
    await _seed(database_url)

    resolved = _xsell("resolve", database_url=database_url, services=services).stdout
    assert "full run: 6 accounts" in resolved
    assert "5 customers, 1 in several orgs, 1 parent/subsidiary links" in resolved
    assert "1 pairs wait for review" in resolved

    review = _xsell("matches", "review", database_url=database_url, services=services).stdout
    assert f"bu1:{_id(3)}" in review and f"bu2:{_id(4)}" in review
    assert "street similar" in review  # the reviewer sees why
    assert "Bluefin Logistics GmbH  |  Bluefin Logistics" in review  # and what the accounts are called

    exported = _xsell(
        "customers", "export", "--format", "csv", database_url=database_url, services=services
    ).stdout
    rows = list(csv.DictReader(io.StringIO(exported)))
    customer = {(r["org"], r["account_external_id"]): r["customer_id"] for r in rows}
    assert len(rows) == 6
    assert customer["bu1", _id(1)] == customer["bu2", _id(2)]
    assert customer["bu1", _id(3)] != customer["bu2", _id(4)]  # waits for a person, not merged
    assert customer["bu1", _id(5)] != customer["bu1", _id(6)]  # subsidiary kept apart
    assert {r["decided_by"] for r in rows} == {"xsell-resolver"}

    again = _xsell("resolve", database_url=database_url, services=services).stdout
    assert "incremental run: 6 accounts (0 re-scored)" in again
