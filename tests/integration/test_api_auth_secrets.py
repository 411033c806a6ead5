"""A canary password and the issued tokens never reach the logs, and the password never a response."""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.api_support import add_user, api_settings, bearer, login, seed, serving

from adapters.embedded.services import ServiceUrls
from adapters.observability.logging import configure_logging
from domain.access import Role


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Every log record at DEBUG, rendered by xsell's one logging setup, into a buffer."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    configure_logging("DEBUG", stream=stream)
    try:
        yield stream
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)


async def test_canary_password_appears_nowhere(
    services: ServiceUrls, database_url: str, tmp_path: Path, captured_logs: io.StringIO
) -> None:
    canary = f"CANARY-{uuid.uuid4()}"
    await seed(database_url, per_org=2)
    settings = api_settings(services, database_url, tmp_path)
    await add_user(settings, "admin@example.com", Role.ADMIN)
    await add_user(settings, "canary@example.com", Role.SALES, ("emea",), password=canary)
    responses: list[str] = []
    tokens: list[str] = []
    async with serving(settings) as http:
        admin = bearer((await login(http, "admin@example.com"))["access_token"])
        attempts = [
            {"email": "canary@example.com", "password": canary},  # right
            {"email": "canary@example.com", "password": canary + "x"},  # wrong
            {"email": "nobody@example.com", "password": canary},  # unknown user
            {"email": "canary@example.com", "password": canary, "extra": canary},  # rejected body
            {"email": canary, "password": canary},  # malformed email
            {"email": "canary@example.com", "password": 42, "note": canary},  # wrong type
        ]
        for body in attempts:
            response = await http.post("/api/v1/auth/login", json=body)
            responses.append(f"{response.headers}\n{response.text}")
            if response.status_code == 200:
                tokens += [response.json()["access_token"], response.json()["refresh_token"]]
        raw = await http.post(
            "/api/v1/auth/login", content=b'{"email": "canary@example.com", "password": "' + canary.encode()
        )
        responses.append(f"{raw.headers}\n{raw.text}")
        created = await http.post(
            "/api/v1/users",
            json={"email": "c2@example.com", "display_name": "C2", "role": "sales", "password": canary},
            headers=admin,
        )
        responses.append(f"{created.headers}\n{created.text}")
        assert created.status_code == 201
        refreshed = await http.post("/api/v1/auth/refresh", json={"refresh_token": tokens[1]})
        responses.append(refreshed.text)
        tokens += [refreshed.json()["access_token"], refreshed.json()["refresh_token"]]
        accounts = await http.get("/api/v1/accounts", headers=bearer(tokens[2]))
        responses.append(accounts.text)
        await http.post("/api/v1/auth/refresh", json={"refresh_token": tokens[1]})  # reuse
        await http.post("/api/v1/auth/logout", json={"refresh_token": tokens[3]})
    assert tokens and accounts.status_code == 200
    logged = captured_logs.getvalue()
    # The access log did write these requests (so the zero counts below are not vacuous).
    assert '"path": "/api/v1/auth/login"' in logged and '"status": 401' in logged
    assert logged.count(canary) == 0
    assert sum(response.count(canary) for response in responses) == 0
    for token in tokens:
        assert token not in logged
        assert token.split(".")[2] not in logged  # not even the signature
