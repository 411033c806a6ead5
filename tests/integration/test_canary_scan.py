"""The canary scan finds a planted canary in each place it searches: responses, Redis (dead letters), logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import redis
from tests.integration.api_support import CANARY_CRM_SECRET, CANARY_PASSWORD, add_user, api_settings, serving
from tests.integration.canaries import CANARIES, CanaryScan

from adapters.embedded.services import ServiceUrls
from domain.access import Role

pytestmark = pytest.mark.canary_planted


async def test_the_scan_finds_planted_canaries(
    services: ServiceUrls, database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    before = len(CANARIES.leaks)
    settings = api_settings(services, database_url, tmp_path)
    # An email is returned by the API: a canary put there must be seen in the response.
    await add_user(settings, "planted@example.com", Role.ADMIN)
    await add_user(settings, f"{CANARY_CRM_SECRET}@example.com", Role.SALES)
    async with serving(settings) as http:
        login = await http.post(
            "/api/v1/auth/login", json={"email": "planted@example.com", "password": CANARY_PASSWORD}
        )
        assert login.status_code == 200
        users = await http.get(
            "/api/v1/users", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
        )
        assert users.status_code == 200
    responses = [leak for leak in CANARIES.leaks[before:] if leak.where.startswith("response")]
    assert [leak.canary for leak in responses] == ["CANARY_CRM_SECRET"], CANARIES.leaks[before:]

    # A dead letter in dramatiq's key space, as a worker would leave it.
    client = redis.Redis.from_url(services.redis_url)
    try:
        client.hset("dramatiq:default.DQ.msgs", "m-1", f'{{"args": ["{CANARY_PASSWORD}"]}}')
        scan = CanaryScan()
        scan.scan_redis(services.redis_url, "planted")
    finally:
        client.delete("dramatiq:default.DQ.msgs")
    assert [(leak.canary, leak.where.split()[1]) for leak in scan.leaks] == [
        ("CANARY_PASSWORD", "dramatiq:default.DQ.msgs")
    ]

    # A log record, as pytest captures it for the scan of this test's report.
    logging.getLogger("xsell.planted").warning("login for %s", CANARY_PASSWORD)
    scan = CanaryScan()
    scan.scan("captured log call", caplog.text)
    assert [leak.canary for leak in scan.leaks] == ["CANARY_PASSWORD"]


def test_the_scan_finds_nothing_in_clean_text() -> None:
    assert CanaryScan().scan("clean", b'{"title": "Not authenticated", "status": 401}') == []
