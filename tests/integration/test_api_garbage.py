"""The list's requests leave no reference cycle behind: what they allocate is freed by reference counting
as they end.

Each cycle a request leaves is work for Python's garbage collector, whose collections pause the whole
process (they came every few requests and took up to 20 ms every few seconds before dishka's request
container was let go of, see `_request_container_released`). The requests go to the real app as a server
would send them, raw ASGI calls on this loop, so nothing of a test client's own is counted. Routes that
open an ORM session still leave SQLAlchemy's own cycles (Session and AsyncSession refer to each other);
the list, the hottest route, reads without one.
"""

from __future__ import annotations

import gc
import json
from collections import Counter
from pathlib import Path
from typing import Any

from litestar import Litestar
from tests.integration.api_support import PASSWORD, add_user, api_settings, seed, seed_offers

from adapters.embedded.services import ServiceUrls
from domain.access import Role
from entrypoints.http.app import create_app

EMAIL = "gc@example.com"
PATHS = (
    "/api/v1/recommendations",  # cached after the first call
    "/api/v1/recommendations?min_probability=0.{n:06d}",  # a miss every time: PostgreSQL and Redis
    "/api/v1/recommendations?family=crm&limit=2",
    "/health",
)


async def _call(app: Litestar, method: str, path: str, token: str | None = None, body: bytes = b"") -> Any:
    target, _, query = path.partition("?")
    headers = [(b"host", b"xsell.test"), (b"content-type", b"application/json")]
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": target,
        "raw_path": target.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("10.20.30.40", 40_000),  # its own sign-in count, apart from other tests on 127.0.0.1
        "server": ("xsell.test", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)  # type: ignore[arg-type]
    status = sent[0]["status"]
    payload = b"".join(message.get("body", b"") for message in sent[1:])
    assert status == 200, (path, status, payload[:300])
    return json.loads(payload)


async def test_requests_leave_no_reference_cycles(
    services: ServiceUrls, database_url: str, tmp_path: Path
) -> None:
    await seed(database_url, per_org=3)
    await seed_offers(database_url)
    settings = api_settings(services, database_url, tmp_path)
    await add_user(settings, EMAIL, Role.ADMIN)
    app = create_app(settings)
    async with app.lifespan():
        login = json.dumps({"email": EMAIL, "password": PASSWORD}).encode()
        token = (await _call(app, "POST", "/api/v1/auth/login", body=login))["access_token"]
        for n in range(5):  # first calls build what every later request reuses
            for path in PATHS:
                await _call(app, "GET", path.format(n=n), token)
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection finds unreachable is kept in gc.garbage
        try:
            for n in range(5, 25):
                for path in PATHS:
                    await _call(app, "GET", path.format(n=n), token)
            gc.collect()
            left = Counter(type(thing).__qualname__ for thing in gc.garbage)
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
    assert not left, (
        f"{sum(left.values())} objects in reference cycles after 80 requests: {left.most_common(8)}"
    )
