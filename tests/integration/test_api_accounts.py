"""The read path end to end: HTTP -> use case -> repository -> PostgreSQL, with problem+json on bad input."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from tests.integration.api_support import add_user, api_settings, bearer, login, seed
from tests.integration.api_support import serving as support_serving

from adapters.embedded.services import ServiceUrls
from domain.access import Role
from entrypoints.settings import Settings


@pytest.fixture
async def settings(services: ServiceUrls, database_url: str, tmp_path: Path) -> Settings:
    await seed(database_url)
    settings = api_settings(services, database_url, tmp_path)
    await add_user(settings, "admin@example.com", Role.ADMIN)
    return settings


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app, with every request signed in as an admin."""
    async with support_serving(settings) as http:
        tokens = await login(http, "admin@example.com")
        http.headers.update(bearer(tokens["access_token"]))
        yield http


async def test_paginates_all_accounts_in_stable_order(settings: Settings) -> None:
    async with serving(settings) as client:
        seen: list[tuple[str, str]] = []
        cursor = None
        while True:
            params = {"limit": "20"} | ({"cursor": cursor} if cursor else {})
            response = await client.get("/api/v1/accounts", params=params)
            assert response.status_code == 200
            body = response.json()
            seen += [(item["org_id"], item["id"]) for item in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == 75
        assert seen == sorted(set(seen))


async def test_filter_by_org_and_wire_shape(settings: Settings) -> None:
    async with serving(settings) as client:
        response = await client.get("/api/v1/accounts", params={"org": "emea", "limit": "5"})
        body = response.json()
        assert [item["org_id"] for item in body["items"]] == ["emea"] * 5
        first = body["items"][0]
        assert len(first["id"]) == 18
        assert first["domain"].startswith("company") and first["domain"].endswith(".example")
        assert first["created_at"].endswith("Z") or "+00:00" in first["created_at"]


async def test_several_orgs(settings: Settings) -> None:
    async with serving(settings) as client:
        response = await client.get("/api/v1/accounts?org=emea&org=amer&limit=500")
        assert {item["org_id"] for item in response.json()["items"]} == {"emea", "amer"}


async def test_an_unknown_org_is_a_404_problem(settings: Settings) -> None:
    async with serving(settings) as client:
        response = await client.get("/api/v1/accounts?org=nowhere")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("orgg=emea", "unknown query parameter(s): orgg"),
        ("cursor=bm9wZQ", "cursor"),
        ("cursor=%25%25%25", "cursor"),
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("limit=100000", "limit"),
    ],
)
async def test_bad_input_is_a_400_problem(settings: Settings, query: str, fragment: str) -> None:
    async with serving(settings) as client:
        response = await client.get(f"/api/v1/accounts?{query}")
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["status"] == 400
        assert fragment in (body.get("detail", "") + str(body.get("errors", "")))


async def test_health_ready_and_openapi(settings: Settings) -> None:
    async with serving(settings) as client:
        assert (await client.get("/health")).json() == {"status": "ok"}
        ready = await client.get("/ready")
        assert ready.status_code == 200
        assert ready.json() == {"ready": True, "status": "ok", "checks": {"postgresql": "ok", "redis": "ok"}}
        spec = (await client.get("/schema/openapi.json")).json()
        operation = spec["paths"]["/api/v1/accounts"]["get"]
        assert operation["description"]
        assert {p["name"] for p in operation["parameters"]} == {"org", "limit", "cursor"}


async def test_unknown_route_is_a_problem(settings: Settings) -> None:
    async with serving(settings) as client:
        response = await client.get("/api/v1/nothing-here")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("broken", "redis_servers", "code", "status"),
    [
        ("redis", 1, 200, "degraded"),
        ("redis", 2, 200, "degraded"),
        ("queue", 2, 200, "degraded"),
        ("postgresql", 2, 503, "unavailable"),
    ],
)
async def test_ready_gives_the_reason_when_a_dependency_is_down(
    services: ServiceUrls,
    database_url: str,
    broken: str,
    redis_servers: int,
    code: int,
    status: str,
    tmp_path: Path,
) -> None:
    settings = Settings(database_url=database_url, redis_url=services.redis_url, data_dir=tmp_path)
    if redis_servers == 2:  # the cache on a Redis of its own: /ready probes both
        settings = dataclasses.replace(settings, cache_redis_url=services.cache_redis_url)
    nowhere = "unix:///nonexistent/xsell-redis.sock"
    if broken == "redis":
        settings = dataclasses.replace(
            settings, **{"cache_redis_url" if redis_servers == 2 else "redis_url": nowhere}
        )
    elif broken == "queue":
        settings = dataclasses.replace(settings, redis_url=nowhere)
    else:
        settings = dataclasses.replace(settings, database_url="postgresql://nobody@127.0.0.1:1/none")
    async with support_serving(settings) as http:
        response = await http.get("/ready")
    assert response.status_code == code
    assert response.json()["status"] == status
    checks = response.json()["checks"]
    assert set(checks) == {"postgresql", "redis", *(["queue"] if redis_servers == 2 else [])}
    assert checks[broken] != "ok"
    assert all(state == "ok" for name, state in checks.items() if name != broken)
