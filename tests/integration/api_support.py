"""Shared by the API tests: the real app on the test's loop, seeded orgs, accounts and offers, users and
logins. Passwords and CRM secrets are the canaries (tests/integration/canaries.py), and every response the
clients of `serving` receive is scanned for them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import redis
from sqlalchemy import insert
from tests.integration.canaries import CANARIES, CANARY_CRM_SECRET, CANARY_PASSWORD

from adapters.embedded.services import ServiceUrls
from adapters.persistence.customer_tables import customer_members, customers
from adapters.persistence.engine import create_engine, create_session_factory
from adapters.persistence.recommendation_store import SqlaRecommendationStore
from adapters.persistence.unit_of_work import SqlaUnitOfWork
from adapters.security.tokens import generate_token_key
from application.auth import AddServiceClient, AddUser, NewServiceClient, NewUser
from application.models.scoring import RecommendationBatch
from domain.access import Role
from domain.account import Account
from domain.ids import SalesforceId
from domain.org import Org, OrgKind
from domain.recommendation import Reason, ReasonKind
from entrypoints.cli.runtime import run_use_case
from entrypoints.http.app import create_app
from entrypoints.settings import Settings

__all__ = [
    "CANARY_CRM_SECRET",
    "CANARY_PASSWORD",
    "ORGS",
    "PASSWORD",
    "add_client",
    "add_user",
    "api_settings",
    "bearer",
    "login",
    "problem_body",
    "seed",
    "seed_offers",
    "serving",
    "signed_client",
    "signed_in",
]

ORGS = ("amer", "emea", "apac")
PASSWORD = CANARY_PASSWORD  # every test user's password, so a leak of it anywhere is found


def api_settings(services: ServiceUrls, database_url: str, data_dir: Path) -> Settings:
    # Each test has a fresh database but the session shares one Redis: cached lists of an earlier
    # test's database must not answer for this one (in production a Redis serves one database).
    for url in {services.redis_url, services.cache_redis_url}:
        client = redis.Redis.from_url(url)
        try:
            stale = list(client.scan_iter("xsell:cache:*"))
            if stale:
                client.delete(*stale)
        finally:
            client.close()
    return Settings(
        database_url=database_url,
        redis_url=services.redis_url,
        data_dir=data_dir,
        jwt_keys=(generate_token_key(),),
        # Every test signs in from the same address against one shared Redis; the login limit has its
        # own tests (test_api_limits.py), with their own addresses.
        login_rate_limit_per_minute=100_000,
    )


async def seed(database_url: str, per_org: int = 25) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with SqlaUnitOfWork(create_session_factory(engine)()) as uow:
            for org_id in ORGS:
                await uow.orgs.add(
                    Org(
                        id=org_id,
                        name=org_id.upper(),
                        kind=OrgKind.SALESFORCE,
                        business_unit=org_id,
                        currency="USD",
                    )
                )
            await uow.accounts.upsert(
                [
                    Account(
                        org_id=org_id,
                        external_id=SalesforceId.parse(f"001000000{n:06d}").value,
                        name=f"Company {org_id} {n}",
                        currency="USD",
                        website=f"https://www.company{n}.example",
                    )
                    for org_id in ORGS
                    for n in range(per_org)
                ]
            )
            await uow.commit()
    finally:
        await engine.dispose()


async def add_user(
    settings: Settings, email: str, role: Role, orgs: Sequence[str] = (), password: str = PASSWORD
) -> str:
    new = NewUser(email=email, display_name=email.split("@")[0], role=role, password=password, org_ids=orgs)
    user = await run_use_case(settings, AddUser, lambda use_case: use_case.execute(new))
    return str(user.id)


async def add_client(settings: Settings, client_id: str, role: Role, orgs: Sequence[str] = ()) -> str:
    new = NewServiceClient(id=client_id, name=client_id, role=role, org_ids=orgs)
    _, secret = await run_use_case(settings, AddServiceClient, lambda use_case: use_case.execute(new))
    return secret


async def seed_offers(database_url: str, customers_per_org: int = 4) -> list[str]:
    """Customers (one member account per org, from `seed`) and an open offer of two families for each."""
    at = datetime(2026, 3, 1, 12, tzinfo=UTC)
    members = [(f"c-{org_id}-{n}", org_id, n) for org_id in ORGS for n in range(customers_per_org)]
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as connection:
            for customer_id, org_id, n in members:
                await connection.execute(
                    insert(customers).values(id=customer_id, name=customer_id, created_at=at)
                )
                await connection.execute(
                    insert(customer_members).values(
                        org_id=org_id,
                        external_id=SalesforceId.parse(f"001000000{n:06d}").value,
                        customer_id=customer_id,
                        confidence=0.9,
                        method="model",
                        decided_by="resolver",
                        joined_at=at,
                    )
                )
        rows = [
            (customer_id, family, org_id) for customer_id, org_id, _ in members for family in ("crm", "hr")
        ]
        count = len(rows)
        values = np.linspace(100, 5000, count).round(2)
        await SqlaRecommendationStore(engine).replace_open(
            RecommendationBatch(
                run_id="run-api-seeded-001",
                as_of=date(2026, 3, 1),
                created_at=at,
                group_currency="USD",
                customer_ids=[r[0] for r in rows],
                family_ids=[r[1] for r in rows],
                target_org_ids=[r[2] for r in rows],
                probabilities=np.linspace(0.05, 0.9, count).round(3),
                expected_values=values,
                currencies=["USD"] * count,
                group_values=values,
                ranks=np.ones(count, dtype=np.int32),
                model_version_ids=["m-1"] * count,
                arms=["champion"] * count,
                reasons=[(Reason(ReasonKind.ACTIVITY, "Activity doubled in the last 30 days", 0.4),)] * count,
            )
        )
    finally:
        await engine.dispose()
    return [r[0] for r in rows]


class _ScannedTransport(httpx.AsyncBaseTransport):
    """The app's transport, with every response searched for the canary secrets before the test sees it."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        body = await response.aread()
        CANARIES.scan_response(
            f"{request.method} {request.url}", response.status_code, response.headers.raw, body
        )
        return httpx.Response(
            response.status_code, headers=response.headers, content=body, extensions=response.extensions
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real app on the test's own event loop (Litestar's test client would run another loop)."""
    app = create_app(settings)
    transport = _ScannedTransport(httpx.ASGITransport(app=app))
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://xsell.test") as http:
        yield http


async def login(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = await http.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return dict(response.json())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def signed_client(http: httpx.AsyncClient, email: str) -> httpx.AsyncClient:
    """A client of the same app signed in as `email` (it shares the app, its loop and its transport)."""
    tokens = await login(http, email)
    return httpx.AsyncClient(
        transport=http._transport, base_url=http.base_url, headers=bearer(tokens["access_token"])
    )


@asynccontextmanager
async def signed_in(settings: Settings, emails: Iterable[str]) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """One app; per email a client signed in as that user."""
    async with serving(settings) as http:
        signed = {email: await signed_client(http, email) for email in emails}
        try:
            yield signed
        finally:
            for client in signed.values():
                await client.aclose()


def problem_body(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem+json body of a response that must have this status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return dict(response.json())
