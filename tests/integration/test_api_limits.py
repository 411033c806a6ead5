"""Limits through the real app: rate limits counted in one Redis across API instances (per principal, and
per client address for sign-in), fail-open when Redis is down, the body-size and page-size limits."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.integration.api_support import PASSWORD, add_user, api_settings, bearer, seed

from adapters.embedded.services import ServiceUrls
from domain.access import Role
from entrypoints.http.app import create_app
from entrypoints.settings import Settings

API = "/api/v1"


@pytest.fixture
async def settings(services: ServiceUrls, database_url: str, tmp_path: Path) -> Settings:
    await seed(database_url, per_org=3)
    settings = dataclasses.replace(
        api_settings(services, database_url, tmp_path), rate_limit_per_minute=6, login_rate_limit_per_minute=3
    )
    await add_user(settings, "ana@example.com", Role.ANALYST, ("amer",))
    await add_user(settings, "bob@example.com", Role.SALES, ("emea",))
    return settings


def _address() -> str:
    # One Redis serves the whole test session: a fresh address per test keeps the login counts apart.
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


@asynccontextmanager
async def _instances(settings: Settings, count: int, address: str) -> AsyncIterator[list[httpx.AsyncClient]]:
    """`count` separate apps (as separate API processes would be) sharing the settings' Redis."""
    async with AsyncExitStack() as stack:
        clients = []
        for _ in range(count):
            app = create_app(settings)
            await stack.enter_async_context(app.lifespan())
            transport = httpx.ASGITransport(app=app, client=(address, 40_000))
            clients.append(
                await stack.enter_async_context(
                    httpx.AsyncClient(transport=transport, base_url="http://xsell.test")
                )
            )
        yield clients


async def _token(http: httpx.AsyncClient, email: str) -> str:
    response = await http.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _too_many(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["RateLimit-Remaining"] == "0"
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.headers["RateLimit-Reset"] == response.headers["Retry-After"]
    body = response.json()
    assert body["status"] == 429
    return dict(body)


async def test_user_limit_is_shared_by_two_api_instances(settings: Settings) -> None:
    async with _instances(settings, 2, _address()) as (first, second):
        ana = bearer(await _token(first, "ana@example.com"))
        remaining = []
        for n in range(6):  # alternating instances: both count into the one Redis window
            response = await (first, second)[n % 2].get(f"{API}/accounts", headers=ana)
            assert response.status_code == 200, response.text
            assert response.headers["RateLimit-Limit"] == "6"
            assert 1 <= int(response.headers["RateLimit-Reset"]) <= 60
            remaining.append(int(response.headers["RateLimit-Remaining"]))
        assert remaining == [5, 4, 3, 2, 1, 0]
        for http in (first, second):
            _too_many(await http.get(f"{API}/accounts", headers=ana))
        # Per principal: another user, from the same address, still has a whole budget.
        bob = bearer(await _token(second, "bob@example.com"))
        response = await first.get(f"{API}/accounts", headers=bob)
        assert response.status_code == 200
        assert response.headers["RateLimit-Remaining"] == "5"
        # Health, readiness and metrics are never limited.
        for _ in range(3):
            assert (await first.get("/health")).status_code == 200
            assert "RateLimit-Limit" not in (await first.get("/health")).headers


async def test_a_list_this_process_answers_from_memory_still_counts(settings: Settings) -> None:
    # The same list again: after the first answer this process serves it from its own copy, before the
    # parameters are parsed; the guard has counted it all the same.
    async with _instances(settings, 1, _address()) as (http,):
        ana = bearer(await _token(http, "ana@example.com"))
        answers = [
            await http.get(f"{API}/recommendations", params={"limit": 2}, headers=ana) for _ in range(6)
        ]
        assert [answer.status_code for answer in answers] == [200] * 6
        assert {answer.content for answer in answers} == {answers[0].content}
        assert [answer.headers["RateLimit-Remaining"] for answer in answers] == ["5", "4", "3", "2", "1", "0"]
        _too_many(await http.get(f"{API}/recommendations", params={"limit": 2}, headers=ana))


async def test_sign_in_is_limited_per_client_address_across_instances(settings: Settings) -> None:
    address = _address()
    async with _instances(settings, 2, address) as (first, second):
        wrong = {"email": "ana@example.com", "password": "wrong password"}
        answers = [
            await first.post(f"{API}/auth/login", json=wrong),
            await second.post(
                f"{API}/auth/token",
                json={"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "x" * 20},
            ),
            await first.post(f"{API}/auth/login", json=wrong, headers={"X-Forwarded-For": "192.0.2.1"}),
        ]
        assert [a.status_code for a in answers] == [401, 401, 401]
        assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
        # Spoofed forwarding headers do not buy a new budget, and the right password does not either.
        for headers in ({}, {"X-Forwarded-For": "192.0.2.7"}, {"Forwarded": "for=192.0.2.8"}):
            right = {"email": "ana@example.com", "password": PASSWORD}
            _too_many(await second.post(f"{API}/auth/login", json=right, headers=headers))
    async with _instances(settings, 1, _address()) as (other,):
        assert (await other.post(f"{API}/auth/login", json=right)).status_code == 200


async def test_the_api_answers_unlimited_when_redis_is_down(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    down = dataclasses.replace(settings, redis_url="unix:///nonexistent/xsell-redis.sock")
    async with _instances(down, 1, _address()) as (http,):
        assert (await http.get("/health")).status_code == 200
        ana = bearer(await _token(http, "ana@example.com"))
        for _ in range(8):  # above the limit of 6: nothing counts them
            response = await http.get(f"{API}/accounts", headers=ana)
            assert response.status_code == 200, response.text
            assert "RateLimit-Limit" not in response.headers
    assert any("rate limits not enforced" in record.getMessage() for record in caplog.records)


async def test_bodies_over_one_mib_answer_413(settings: Settings) -> None:
    async with _instances(settings, 1, _address()) as (http,):
        big = b'{"email": "ana@example.com", "password": "' + b"x" * (1024 * 1024) + b'"}'
        response = await http.post(
            f"{API}/auth/login", content=big, headers={"content-type": "application/json"}
        )
        assert response.status_code == 413, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["status"] == 413


@pytest.mark.parametrize("path", ["/accounts", "/customers", "/recommendations"])
async def test_page_sizes_are_bounded(settings: Settings, path: str) -> None:
    async with _instances(dataclasses.replace(settings, rate_limit_per_minute=100), 1, _address()) as (http,):
        ana = bearer(await _token(http, "ana@example.com"))
        assert (await http.get(f"{API}{path}", params={"limit": 500}, headers=ana)).status_code == 200
        response = await http.get(f"{API}{path}", params={"limit": 501}, headers=ana)
        assert response.status_code == 400, response.text
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_cors_answers_only_the_configured_origins(settings: Settings) -> None:
    allowed = "https://sales.example.com"
    configured = dataclasses.replace(settings, cors_origins=(allowed,))
    async with _instances(configured, 1, _address()) as (http,):
        preflight = {
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        }
        ok = await http.options(f"{API}/accounts", headers={"Origin": allowed, **preflight})
        assert ok.status_code in (200, 204), ok.text
        assert ok.headers["access-control-allow-origin"] == allowed
        assert "authorization" in ok.headers["access-control-allow-headers"].lower()
        assert "access-control-allow-credentials" not in ok.headers
        refused = await http.options(
            f"{API}/accounts", headers={"Origin": "https://evil.example", **preflight}
        )
        assert "access-control-allow-origin" not in refused.headers
        ana = bearer(await _token(http, "ana@example.com"))
        answer = await http.get(f"{API}/accounts", headers={**ana, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in answer.headers
        answer = await http.get(f"{API}/accounts", headers={**ana, "Origin": allowed})
        assert answer.headers["access-control-allow-origin"] == allowed
    async with _instances(settings, 1, _address()) as (http,):  # unset: no origin at all
        answer = await http.get("/health", headers={"Origin": allowed})
        assert "access-control-allow-origin" not in answer.headers
