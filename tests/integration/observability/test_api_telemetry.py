"""The API measured and traced: latency by route template on /metrics, and request → use case → SQL spans."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from tests.integration.api_support import add_user, api_settings, bearer, login, seed, serving
from tests.integration.observability.spans import finished_spans

from adapters.embedded.services import ServiceUrls
from domain.access import Role
from entrypoints.settings import Settings


@pytest.fixture
async def settings(services: ServiceUrls, database_url: str, tmp_path: Path) -> Settings:
    await seed(database_url, per_org=3)
    settings = api_settings(services, database_url, tmp_path)
    await add_user(settings, "admin@example.com", Role.ADMIN)
    return settings


def _sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name} with {labels}")


async def test_metrics_show_latency_by_route_template_not_raw_path(settings: Settings) -> None:
    missing = uuid.uuid4()
    async with serving(settings) as http:
        http.headers.update(bearer((await login(http, "admin@example.com"))["access_token"]))
        for _ in range(2):
            assert (await http.get("/api/v1/accounts")).status_code == 200
        assert (await http.patch(f"/api/v1/users/{missing}", json={"active": False})).status_code == 404
        del http.headers["Authorization"]
        scraped = await http.get("/metrics")  # public, like /health
        schema = (await http.get("/schema/openapi.json")).json()
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    text = scraped.text
    count = "xsell_http_request_duration_seconds_count"
    assert _sample(text, count, route="/api/v1/accounts", method="GET", status="200") >= 2
    assert _sample(text, count, route="/api/v1/users/{user_id}", method="PATCH", status="404") >= 1
    assert (
        _sample(text, "xsell_http_request_duration_seconds_bucket", route="/api/v1/accounts", le="+Inf") >= 2
    )
    assert str(missing) not in text  # ids never become label values
    assert "/metrics" not in schema["paths"]
    for name in ("xsell_sync_records_total", "xsell_jobs_dead_letters_total", "xsell_cache_requests_total"):
        assert re.search(rf"^# TYPE {name.removesuffix('_total')}(_total)? counter", text, re.MULTILINE), name


async def test_a_request_traces_through_the_use_case_to_postgresql(settings: Settings) -> None:
    async with serving(settings) as http:
        http.headers.update(bearer((await login(http, "admin@example.com"))["access_token"]))
        spans = finished_spans()
        assert (await http.get("/api/v1/accounts", params={"limit": "2"})).status_code == 200
    finished = spans.get_finished_spans()
    request = next(s for s in finished if s.name == "GET /api/v1/accounts")
    use_case = next(s for s in finished if s.name == "ListAccounts")
    sql = [s for s in finished if s.name.startswith("postgresql ") and s.parent is not None]
    trace_id = request.context.trace_id
    assert use_case.context.trace_id == trace_id
    assert use_case.parent is not None and use_case.parent.span_id == request.context.span_id
    under_use_case = [s for s in sql if s.parent.span_id == use_case.context.span_id]  # type: ignore[union-attr]
    assert under_use_case, [(s.name, s.parent) for s in sql]
    assert {s.context.trace_id for s in under_use_case} == {trace_id}
    assert any(s.name == "postgresql SELECT" for s in under_use_case)
    assert request.attributes is not None and request.attributes["http.route"] == "/api/v1/accounts"
