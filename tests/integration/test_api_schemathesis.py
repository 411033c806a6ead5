"""Schemathesis over the app's whole OpenAPI document: every operation, generated input, 0 failures.

The schema is read from the app itself (built at collection with settings that connect to nothing), so a
route added later is covered without editing this file. The app under test runs in-process (ASGI, through
schemathesis' own client) on real PostgreSQL and Redis, with orgs, accounts, customers and offers seeded
so that some ids exist, and every request is signed as an admin (the broadest reader). Each operation gets
a small fixed budget of derandomized examples, so the run is the same every time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from litestar import Litestar
from litestar.types import Receive, Scope, Send
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    ignored_auth,
    response_schema_conformance,
    status_code_conformance,
)
from tests.integration.api_support import PASSWORD, add_user, api_settings, seed, seed_offers
from tests.integration.canaries import CANARIES

from adapters.embedded.services import ServiceUrls
from domain.access import Role
from entrypoints.http.app import create_app
from entrypoints.settings import Settings

_CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, ignored_auth]
_ADMIN = "fuzz-admin@example.com"


# The document depends on the routes only: nothing here is connected to (the container is lazy).
_DOCUMENT = create_app(
    Settings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none", redis_url="redis://127.0.0.1:1")
).openapi_schema.to_schema()


class _AppUnderTest:
    """The ASGI app schemathesis calls, bound at collection; the real app (on the test database) is plugged
    in by the `api` fixture. Schemathesis sends every request, its own probes included, through it."""

    def __init__(self) -> None:
        self.app: Litestar | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None, "the api fixture plugs the app in"
        await self.app(scope, receive, send)


_APP = _AppUnderTest()
schema = schemathesis.openapi.from_dict(_DOCUMENT)
schema.app = _APP


@dataclasses.dataclass(frozen=True)
class Api:
    client: asgi.ASGIClient
    headers: dict[str, str]


@pytest.fixture(scope="module")
def api(services: ServiceUrls, module_database_url: str) -> Iterator[Api]:
    asyncio.run(seed(module_database_url, per_org=5))
    asyncio.run(seed_offers(module_database_url))
    with tempfile.TemporaryDirectory(prefix="xsell-fuzz-") as data_dir:
        # One admin signs every request: generated input must not run into the per-user limit.
        config = dataclasses.replace(
            api_settings(services, module_database_url, Path(data_dir)), rate_limit_per_minute=1_000_000
        )
        asyncio.run(add_user(config, _ADMIN, Role.ADMIN))
        _APP.app = create_app(config)
        try:
            with asgi.get_client(_APP) as client:
                response = client.post("/api/v1/auth/login", json={"email": _ADMIN, "password": PASSWORD})
                assert response.status_code == 200, response.text
                yield Api(client, {"Authorization": f"Bearer {response.json()['access_token']}"})
        finally:
            asgi.shutdown_lifespans()  # the app's pools close before their database is dropped
            _APP.app = None


@schema.parametrize()
@settings(
    max_examples=8, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
def test_every_operation_answers_within_its_schema(case: schemathesis.Case, api: Api) -> None:
    response = case.call(headers=api.headers, timeout=60)  # two shared cores: be patient
    head = [(name.encode(), value.encode()) for name, values in response.headers.items() for value in values]
    CANARIES.scan_response(
        f"{case.method} {case.formatted_path}", response.status_code, head, response.content
    )
    case.validate_response(response, checks=_CHECKS, headers=api.headers)


def test_the_schema_is_the_served_one(api: Api) -> None:
    # The fuzzed document is the one the app serves, and it is not empty (a run over nothing passes).
    served = api.client.get("/schema/openapi.json")
    assert served.status_code == 200
    assert served.json()["paths"].keys() == _DOCUMENT["paths"].keys()
    assert len(_DOCUMENT["paths"]) >= 20
