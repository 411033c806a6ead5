"""Shared by the API tests: the real app on the test's loop, seeded orgs and accounts, users and logins."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import redis

from adapters.embedded.services import ServiceUrls
from adapters.persistence.engine import create_engine, create_session_factory
from adapters.persistence.unit_of_work import SqlaUnitOfWork
from adapters.security.tokens import generate_token_key
from application.auth import AddServiceClient, AddUser, NewServiceClient, NewUser
from domain.access import Role
from domain.account import Account
from domain.ids import SalesforceId
from domain.org import Org, OrgKind
from entrypoints.cli.runtime import run_use_case
from entrypoints.http.app import create_app
from entrypoints.settings import Settings

__all__ = ["ORGS", "PASSWORD", "add_client", "add_user", "api_settings", "bearer", "login", "seed", "serving"]

ORGS = ("amer", "emea", "apac")
PASSWORD = "correct horse battery staple"


def api_settings(services: ServiceUrls, database_url: str, data_dir: Path) -> Settings:
    # Each test has a fresh database but the session shares one Redis: cached lists of an earlier
    # test's database must not answer for this one (in production a Redis serves one database).
    client = redis.Redis.from_url(services.redis_url)
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


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real app on the test's own event loop (Litestar's test client would run another loop)."""
    app = create_app(settings)
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://xsell.test") as http,
    ):
        yield http


async def login(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = await http.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return dict(response.json())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
