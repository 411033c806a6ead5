"""The dashboard in a real browser (Debian's chromium, headless, driven by Playwright): sign in, page, filter,
accept, export; against the real API on a seeded database, with `xsell dashboard` as its own process."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import openpyxl
import pytest
import uvicorn
from redis.asyncio import Redis as AsyncRedis
from sqlalchemy import insert
from tests.integration.api_support import ORGS, PASSWORD, add_user, api_settings, bearer
from tests.integration.test_api_recommendations import FAMILIES
from tests.integration.test_api_recommendations import _seed as seed_offers
from tests.integration.test_api_write_back import _seed as seed_write_back

from adapters.cache.redis_cache import RedisGeneration
from adapters.embedded.services import ServiceUrls
from adapters.persistence.engine import create_engine, create_session_factory
from adapters.persistence.recommendation_store import SqlaRecommendationStore
from adapters.persistence.repositories import SqlaAccountRepository
from adapters.persistence.resolution_unit_of_work import SqlaResolutionUnitOfWork
from adapters.persistence.tables import sync_runs
from adapters.persistence.unit_of_work import SqlaUnitOfWork
from application.models.scoring import RecommendationBatch
from application.resolution.ports import ScoredMatch
from domain.access import Role
from domain.account import Account
from domain.customer import Customer, MatchMethod, Membership
from domain.ids import SalesforceId
from domain.org import Org, OrgKind
from domain.recommendation import Reason, ReasonKind
from domain.resolution.clustering import PairLink
from domain.resolution.model import Field, FieldEvidence, MatchExplanation, MatchModel
from entrypoints.http.app import create_app
from entrypoints.providers.models import RECOMMENDATIONS_GENERATION_KEY
from simulators.salesforce import FakeSalesforceServer, ServerSettings
from simulators.salesforce.generator import GroupSpec, MemorySink, generate_company_group

EMAIL = "admin@example.com"
TIMEOUT_MS = 20_000
REFRESH_S = 2
FIRST_RENDER_BUDGET_S = 3.0
WRITE_BACK = "write-back"
MARKER = "[xsell write-back "


def _missing(tool: str) -> None:
    """Fail in CI (the browser tests must run there); skip only where a developer allowed missing tools."""
    message = (
        f"{tool} is not installed; .ci/run installs it (apt-get install chromium, pip install -e .[dev])"
    )
    if os.environ.get("XSELL_ALLOW_MISSING_TOOLS") == "1" and not os.environ.get("CI"):
        pytest.skip(message)
    pytest.fail(message)


try:
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError:  # pragma: no cover - the dev extras install it
    sync_playwright = None  # type: ignore[assignment]


def _chromium() -> str | None:
    """Debian's chromium (or Ubuntu's chromium-browser); XSELL_CHROMIUM names another binary."""
    for candidate in (
        os.environ.get("XSELL_CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _score_anew(
    database_url: str, redis_url: str, n: int, *, run: str, top_value: float = 5_000.0
) -> list[str]:
    """A scoring run as `xsell score` lands it: `n` new offers replace the undecided ones in one COPY, and
    the API's cached lists are retired. Returns the new offers' customer ids, best first."""
    customers = [f"c-run-{i:06d}" for i in range((n + len(FAMILIES) - 1) // len(FAMILIES))]
    rows = [(customer, family) for customer in customers for family in FAMILIES][:n]
    values = np.round(np.linspace(top_value, 1.0, n), 2)
    batch = RecommendationBatch(
        run_id=run,
        as_of=date(2026, 3, 2),
        created_at=datetime(2026, 3, 2, 6, tzinfo=UTC),
        group_currency="USD",
        customer_ids=[c for c, _f in rows],
        family_ids=[f for _c, f in rows],
        target_org_ids=[ORGS[i % len(ORGS)] for i in range(n)],
        probabilities=np.round(np.linspace(0.9, 0.01, n), 3),
        expected_values=values,
        currencies=["USD"] * n,
        group_values=values,
        ranks=np.ones(n, dtype=np.int32),
        model_version_ids=["m-1"] * n,
        arms=["challenger" if i % 4 == 0 else "champion" for i in range(n)],
        reasons=[(Reason(ReasonKind.ACTIVITY, "Activity in the last 30 days is 2 times its usual", 0.3),)]
        * n,
    )
    engine = create_engine(database_url, 1)
    try:
        await SqlaRecommendationStore(engine).replace_open(batch)
    finally:
        await engine.dispose()
    client = AsyncRedis.from_url(redis_url)
    try:
        await RedisGeneration(client, RECOMMENDATIONS_GENERATION_KEY).changed()
    finally:
        await client.aclose()
    return [c for c, _f in rows]


@pytest.fixture
def fake_salesforce() -> Iterator[FakeSalesforceServer]:
    """One generated org served over real HTTP, with its admin API (what xsell wrote is read from it)."""
    sink = MemorySink()
    generate_company_group(GroupSpec(orgs=1, accounts=6, seed=3), sink)
    with FakeSalesforceServer(sink.orgs(), ServerSettings(page_size=50, admin=True)) as running:
        yield running


@pytest.fixture
def api_url(
    request: pytest.FixtureRequest, services: ServiceUrls, database_url: str, tmp_path: Path
) -> Iterator[str]:
    """The real API over HTTP (uvicorn in a thread) on a seeded database with one admin; parametrized
    indirectly with a number, that many offers of one scoring run replace the seed's new ones; with
    WRITE_BACK, the seed is instead an org connected to the fake Salesforce server (`fake_salesforce`) and
    a customer with an account there and three offers, as tests/integration/test_api_write_back.py seeds."""
    param = getattr(request, "param", None)
    settings = api_settings(services, database_url, tmp_path)
    if param == WRITE_BACK:
        server: FakeSalesforceServer = request.getfixturevalue("fake_salesforce")
        settings = dataclasses.replace(settings, salesforce_host_map=tuple(server.host_map().items()))
        asyncio.run(seed_write_back(settings, server))
    else:
        asyncio.run(seed_offers(database_url))
        if param:
            asyncio.run(_score_anew(database_url, services.redis_url, int(param), run="run-big-000000001"))
    asyncio.run(add_user(settings, EMAIL, Role.ADMIN))
    # Bound before the thread starts: connections queue in the backlog, so nothing has to wait for it.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), log_config=None, access_log=False, lifespan="on")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


@pytest.fixture
def dashboard_url(api_url: str, tmp_path: Path) -> Iterator[str]:
    """`xsell dashboard` as its own process; ready once it says where it listens. Its stderr is copied to
    dashboard.log by a thread, so that a full pipe never stalls it."""
    port = _free_port()
    xsell = str(Path(sys.executable).parent / "xsell")
    log = tmp_path / "dashboard.log"
    listening = threading.Event()
    child = subprocess.Popen(
        [xsell, "dashboard", "--port", str(port), "--api-url", api_url, "--refresh-s", str(REFRESH_S)],
        stdin=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )

    def copy() -> None:
        assert child.stderr is not None
        with log.open("w") as out:
            for line in child.stderr:
                out.write(line)
                out.flush()
                if "xsell dashboard on" in line:
                    listening.set()

    threading.Thread(target=copy, daemon=True).start()
    try:
        assert listening.wait(60), f"the dashboard did not start; see {log}"
        yield f"http://127.0.0.1:{port}/"
    finally:
        child.terminate()
        try:
            child.wait(20)
        except subprocess.TimeoutExpired:
            child.kill()


@pytest.fixture
def browser_page(dashboard_url: str) -> Iterator[Page]:
    """A headless chromium page. Started after the servers: Playwright's sync API runs an event loop in
    this thread, and the seeding needs asyncio.run. (Not pytest-playwright's `page`, which would download
    its own browser.)"""
    if sync_playwright is None:
        _missing("playwright")
    chromium = _chromium()
    if chromium is None:
        _missing("chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        try:
            context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(TIMEOUT_MS)
            # Assertions wait as long as actions: the test machine is shared, a render can lag seconds.
            expect.set_options(timeout=TIMEOUT_MS)
            yield context.new_page()
        finally:
            browser.close()


def _offers(api_url: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The API's own answer for these filters (every page), to compare the browser's with."""
    with httpx.Client(base_url=api_url, timeout=15) as http:
        tokens = http.post("/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD}).json()
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            response = http.get(
                "/api/v1/recommendations",
                params=params | {"limit": 500} | ({"cursor": cursor} if cursor else {}),
                headers=bearer(tokens["access_token"]),
            )
            assert response.status_code == 200, response.text
            items += response.json()["items"]
            cursor = response.json()["next_cursor"]
            if cursor is None:
                return items


def _cells(page: Page, field: str) -> Any:
    return page.locator(f".tabulator-row .tabulator-cell[tabulator-field='{field}']")


def test_sign_in_filter_accept_and_export(
    browser_page: Page, dashboard_url: str, api_url: str, tmp_path: Path
) -> None:
    page = browser_page
    shots = tmp_path / "screenshots"
    shots.mkdir()

    def shot(name: str) -> str:
        path = shots / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        return f"(screenshot: {path})"

    page.goto(dashboard_url)
    # A wrong password: one friendly line, still on the sign-in page.
    page.get_by_placeholder("you@example.com").fill(EMAIL)
    page.get_by_placeholder("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Wrong email or password.")).to_be_visible()
    shot("wrong-password")

    page.get_by_placeholder("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {EMAIL}")).to_be_visible()

    # First page: 50 offers, best expected value first, as the API lists them.
    everything = _offers(api_url, {})
    assert len(everything) > 50, "the seed must fill more than one page"
    customers = _cells(page, "customer_id")
    expect(customers).to_have_count(50)
    first = everything[0]
    expect(customers.first).to_have_text(first["customer_id"])
    shot("first-page")

    page.get_by_role("button", name="Next").click()
    expect(customers).to_have_count(len(everything) - 50)
    expect(page.get_by_text("Page 2")).to_be_visible()
    page.get_by_role("button", name="Previous").click()
    expect(customers).to_have_count(50)

    # Accept the first row (a click outside the Customer column selects it): its status changes in place.
    _cells(page, "family_id").first.click()
    page.get_by_role("button", name="Accept").click()
    statuses = _cells(page, "status")
    expect(statuses.first).to_have_text("accepted")
    accepted = _offers(api_url, {"status": "accepted"})
    assert [offer["id"] for offer in accepted] == [first["id"]], shot("accepted")

    # Filter by status: only that offer is left.
    page.get_by_label("Status").select_option("accepted")
    expect(customers).to_have_count(1)
    expect(statuses).to_have_text(["accepted"])
    shot("filtered-accepted")

    # Filter by org and status new, then export: the file holds exactly the API's filtered list.
    page.get_by_label("Status").select_option("new")
    org = page.get_by_placeholder("e.g. emea, apac")
    org.fill("emea")
    org.press("Enter")
    expected = _offers(api_url, {"status": "new", "org": "emea"})
    expect(customers).to_have_count(min(len(expected), 50))
    expect(_cells(page, "target_org_id")).to_have_text(["emea"] * min(len(expected), 50))
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    saved = tmp_path / "export.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text())))
    where = shot("exported")
    assert [row["id"] for row in rows] == [offer["id"] for offer in expected], f"{saved} {where}"
    assert {row["status"] for row in rows} == {"new"}, where

    # A filter that matches nothing says what to do.
    page.get_by_label("Min probability").fill("0.99")
    page.get_by_label("Min probability").press("Enter")
    expect(page.get_by_text("No recommendations match these filters")).to_be_visible()
    shot("empty")


def _shooter(page: Page, tmp_path: Path) -> Any:
    shots = tmp_path / "screenshots"
    shots.mkdir(exist_ok=True)

    def shot(name: str) -> str:
        path = shots / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        return f"(screenshot: {path})"

    return shot


def _sign_in(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_placeholder("you@example.com").fill(EMAIL)
    page.get_by_placeholder("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {EMAIL}")).to_be_visible()


def _api_get(api_url: str, path: str, params: dict[str, Any] | None = None) -> Any:
    with httpx.Client(base_url=api_url, timeout=15) as http:
        tokens = http.post("/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD}).json()
        response = http.get(f"/api/v1{path}", params=params, headers=bearer(tokens["access_token"]))
        assert response.status_code == 200, response.text
        return response.json()


def test_customer_page_accept_and_convert(
    browser_page: Page, dashboard_url: str, api_url: str, tmp_path: Path
) -> None:
    page = browser_page
    shot = _shooter(page, tmp_path)
    _sign_in(page, dashboard_url)
    first = _offers(api_url, {})[0]
    customer = _api_get(api_url, f"/customers/{first['customer_id']}")

    # A click on the customer opens its page: accounts with match confidence, owned families, timeline,
    # open offers with their reasons as sentences and a contribution chart.
    _cells(page, "customer_id").first.click()
    expect(page.locator(".xsell-customer-title")).to_contain_text(customer["name"])
    assert "page=customer" in page.url and f"customer={first['customer_id']}" in page.url, page.url
    accounts = page.locator(".xsell-accounts .tabulator-row")
    expect(accounts).to_have_count(len(customer["accounts"]))
    expect(page.locator(".xsell-accounts .tabulator-cell[tabulator-field='org_id']")).to_have_text(
        [a["org_id"] for a in customer["accounts"]]
    )
    offers = page.locator(".xsell-customer-offers .tabulator-row")
    expect(offers).to_have_count(len(customer["open_recommendations"]))
    expect(page.locator(".xsell-reasons")).to_contain_text(
        "Activity in the last 30 days is 3.1 times its usual"
    )
    expect(page.locator(".xsell-chart canvas").first).to_be_visible()
    expect(page.get_by_text("No opportunities or activities synced for this customer yet.")).to_be_visible()
    shot("customer")

    # The best offer is selected: accept it, then record the amount won.
    page.locator(".xsell-customer-offers .tabulator-cell[tabulator-field='family_id']").first.click()
    selected = customer["open_recommendations"][0]
    page.get_by_role("button", name="Accept").click()
    expect(page.locator(".xsell-notice")).to_contain_text("Accepted.")
    assert _api_get(api_url, f"/recommendations/{selected['id']}")["status"] == "accepted", shot("accepted")
    page.get_by_placeholder("e.g. 15000.00").fill("15000.50")
    page.get_by_role("button", name="Mark converted").click()
    expect(page.locator(".xsell-notice")).to_contain_text("Marked converted")
    converted = _api_get(api_url, f"/recommendations/{selected['id']}")
    assert (converted["status"], converted["converted_amount"]) == ("converted", "15000.50"), shot(
        "converted"
    )

    # A link to the customer opens it straight after sign-in.
    page.get_by_role("button", name="Sign out").click()
    _sign_in(page, f"{dashboard_url}?customer={first['customer_id']}")
    expect(page.locator(".xsell-customer-title")).to_contain_text(customer["name"])


def _tasks_written(server: FakeSalesforceServer) -> list[dict[str, Any]]:
    """The Tasks xsell wrote into the fake org (its marker in the Description), read on the server's side."""
    with server.lock:
        table = server.org("bu1").data.tables["Task"]
        rows = [table.as_dict(row) for row in table.rows]
    return [r for r in rows if MARKER in str(r.get("Description") or "") and not r.get("IsDeleted")]


@pytest.mark.parametrize("api_url", [WRITE_BACK], indirect=True)
def test_customer_page_write_back_makes_one_task(
    fake_salesforce: FakeSalesforceServer,
    browser_page: Page,
    dashboard_url: str,
    api_url: str,
    tmp_path: Path,
) -> None:
    page = browser_page
    shot = _shooter(page, tmp_path)
    _sign_in(page, dashboard_url)
    customer = _api_get(api_url, "/customers/c1")
    offer = customer["open_recommendations"][0]
    assert (offer["family_id"], offer["target_org_id"]) == ("analytics", "bu1")
    expect(_cells(page, "customer_id").first).to_have_text("c1")
    _cells(page, "customer_id").first.click()
    expect(page.locator(".xsell-customer-title")).to_contain_text("Customer c1")
    family = page.locator(".xsell-customer-offers .tabulator-cell[tabulator-field='family_id']")
    expect(family.first).to_have_text("analytics")
    write_back = page.get_by_role("button", name="Write back to Salesforce")

    # Not accepted yet: the API refuses, and the page says nothing was written, in the API's words.
    write_back.click()
    expect(page.locator(".xsell-message")).to_contain_text(
        "Nothing was written to Salesforce. The API answered 409: "
        f"recommendation {offer['id']} is new: only an accepted offer is written back to the CRM"
    )
    where = shot("write-back-refused")
    assert _tasks_written(fake_salesforce) == [], where

    # Accepted, then written back: one Task on the customer's account, and the page names it.
    page.get_by_role("button", name="Accept").click()
    expect(page.locator(".xsell-notice")).to_contain_text("Accepted.")
    write_back.click()
    expect(page.locator(".xsell-notice")).to_contain_text("Written back to Salesforce as a task")
    where = shot("written-back")
    listed = _api_get(api_url, f"/recommendations/{offer['id']}/write-backs")
    assert [(w["kind"], w["status"], w["org_id"]) for w in listed] == [("task", "done", "bu1")], where
    salesforce_id = listed[0]["salesforce_id"]
    tasks = _tasks_written(fake_salesforce)
    assert [t["Id"] for t in tasks] == [salesforce_id], where
    assert tasks[0]["WhatId"] == listed[0]["account_id"], where
    assert f"[xsell write-back {listed[0]['id']}]" in tasks[0]["Description"], where
    expect(page.locator(".xsell-notice")).to_have_text(
        f"Written back to Salesforce as a task ({salesforce_id} in org bu1)."
    )

    # A second click sends the same Idempotency-Key: the API replays its answer, nothing new is written.
    write_back.click()
    expect(page.locator(".xsell-notice")).to_have_text(
        f"Already written back to Salesforce as a task ({salesforce_id} in org bu1); nothing new was written."
    )
    where = shot("written-back-again")
    assert [t["Id"] for t in _tasks_written(fake_salesforce)] == [salesforce_id], where
    assert _api_get(api_url, f"/recommendations/{offer['id']}/write-backs") == listed, where


def test_filters_search_and_excel_export(
    browser_page: Page, dashboard_url: str, api_url: str, tmp_path: Path
) -> None:
    page = browser_page
    shot = _shooter(page, tmp_path)
    _sign_in(page, dashboard_url)
    customers = _cells(page, "customer_id")
    expect(customers).to_have_count(50)

    industry = page.get_by_placeholder("e.g. Retail")
    industry.fill("retail")
    industry.press("Enter")
    page.get_by_label("Arm").select_option("champion")
    page.get_by_label("Min value").fill("1000")
    page.get_by_label("Min value").press("Enter")
    expected = _offers(api_url, {"industry": "retail", "arm": "champion", "min_value": 1000})
    assert 0 < len(expected) < 50, "the seed must leave a few offers for these filters"
    expect(customers).to_have_text([o["customer_id"] for o in expected])
    expect(_cells(page, "arm")).to_have_text(["champion"] * len(expected))
    shot("filtered")

    with page.expect_download() as download:
        page.get_by_role("button", name="Export Excel").click()
    saved = tmp_path / "export.xlsx"
    download.value.save_as(saved)
    sheet = openpyxl.load_workbook(saved).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    got = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    assert [r["id"] for r in got] == [o["id"] for o in expected], saved
    assert all(float(r["expected_value"]) >= 1000 and r["arm"] == "champion" for r in got)

    # Find a customer by name and open it.
    page.get_by_placeholder("Customer name, then Enter").fill("zeta")
    page.get_by_placeholder("Customer name, then Enter").press("Enter")
    found = page.locator(".xsell-found .tabulator-cell[tabulator-field='name']")
    expect(found).to_have_text(["Zeta Multi"])
    found.first.click()
    expect(page.locator(".xsell-customer-title")).to_contain_text("Zeta Multi")
    shot("found")


def test_new_scores_refresh_the_list_by_themselves(
    browser_page: Page, dashboard_url: str, api_url: str, database_url: str, services: ServiceUrls
) -> None:
    page = browser_page
    _sign_in(page, dashboard_url)
    customers = _cells(page, "customer_id")
    expect(customers).to_have_count(50)
    before = customers.first.inner_text()
    landed: list[list[str]] = []
    worker = threading.Thread(  # Playwright's loop runs in this thread
        target=lambda: landed.append(
            asyncio.run(
                _score_anew(database_url, services.redis_url, 60, run="run-new-000000002", top_value=9e6)
            )
        )
    )
    worker.start()
    worker.join(60)
    assert landed, "the new scoring run was not written"
    # No click: the page notices the new run within a few polls and shows it.
    expect(customers.first).to_have_text(landed[0][0], timeout=REFRESH_S * 5_000)
    assert landed[0][0] != before
    expect(page.locator(".xsell-refreshed")).to_contain_text("New scores loaded")


def test_whitespace_and_models_pages(
    browser_page: Page, dashboard_url: str, api_url: str, tmp_path: Path
) -> None:
    page = browser_page
    shot = _shooter(page, tmp_path)
    _sign_in(page, dashboard_url)

    page.get_by_role("button", name="Whitespace").click()
    whitespace = _api_get(api_url, "/whitespace")
    expect(page.locator(".xsell-heatmap canvas").first).to_be_visible()
    rows = page.locator(".xsell-totals .tabulator-cell[tabulator-field='row']")
    expect(rows).to_have_text([r["label"] for r in whitespace["rows"]] + ["Total"])
    assert "page=whitespace" in page.url
    shot("whitespace")
    page.get_by_label("Rows").select_option("Top customers")
    top = _api_get(api_url, "/whitespace", {"by": "customer"})
    expect(rows).to_have_text([r["label"] for r in top["rows"]] + ["Total"])
    shot("whitespace-customers")

    page.get_by_role("button", name="Models").click()
    versions = page.locator(".xsell-versions .tabulator-cell[tabulator-field='id']")
    expect(versions).to_have_text(["m-2", "m-1"])
    expect(page.locator(".xsell-version-title")).to_contain_text("m-1 (champion)")
    expect(page.locator(".xsell-metrics .tabulator-cell[tabulator-field='metric']")).to_have_text(["auc"])
    expect(page.get_by_text("No calibration curve was recorded for this version.")).to_be_visible()
    expect(page.locator(".xsell-outcomes .tabulator-row").first).to_be_visible()
    shot("models")
    # Admin: promote m-2, then roll back to m-1.
    versions.first.click()
    expect(page.locator(".xsell-version-title")).to_contain_text("m-2 (candidate)")
    page.get_by_role("button", name="Promote to champion").click()
    expect(page.locator(".xsell-notice")).to_contain_text("m-2 is now the champion.")
    stages = {v["id"]: v["stage"] for v in _api_get(api_url, "/models")["versions"]}
    assert stages == {"m-2": "champion", "m-1": "archived"}
    page.get_by_role("button", name="Roll back champion").click()
    expect(page.locator(".xsell-notice")).to_contain_text("Rolled back")
    stages = {v["id"]: v["stage"] for v in _api_get(api_url, "/models")["versions"]}
    assert stages == {"m-2": "archived", "m-1": "champion"}

    # A link to a page opens it after sign-in.
    page.get_by_role("button", name="Sign out").click()
    _sign_in(page, f"{dashboard_url}?page=models")
    expect(versions).to_have_count(2)


@pytest.mark.parametrize("api_url", [100_000], indirect=True)
def test_first_render_with_100k_recommendations_is_measured(
    browser_page: Page, dashboard_url: str, api_url: str, record_property: Any
) -> None:
    """The figure against the 3 s target is printed and kept in the JUnit properties, not asserted: on a
    shared machine it follows the load (speed targets are read from figures, never from timed tests)."""
    page = browser_page
    page.goto(dashboard_url)
    page.get_by_placeholder("you@example.com").fill(EMAIL)
    page.get_by_placeholder("Password").fill(PASSWORD)
    started = time.perf_counter()
    page.get_by_role("button", name="Sign in").click()
    expect(_cells(page, "customer_id")).to_have_count(50)
    took = time.perf_counter() - started
    load = os.getloadavg()[0]
    print(
        f"\nOpportunities first render with 100,000 recommendations: {took:.2f} s from the sign-in click to"
        f" the rows (target {FIRST_RENDER_BUDGET_S:g} s; load average {load:.1f} on {os.cpu_count()} CPUs)"
    )
    record_property("first_render_s", round(took, 2))
    expect(_cells(page, "customer_id").first).to_have_text("c-run-000000")


# -- match review ------------------------------------------------------------------------------------

NOW_UTC = datetime(2026, 3, 1, 12, tzinfo=UTC)
BLUEFIN = (
    Account(
        org_id="amer",
        external_id=SalesforceId.parse("001B00000000003").value,
        name="Bluefin Logistics GmbH",
        currency="USD",
        billing_street="5 Hauptstrasse",
        billing_city="Berlin",
    ),
    Account(
        org_id="emea",
        external_id=SalesforceId.parse("001B00000000004").value,
        name="Bluefin Logistics",
        currency="USD",
        billing_street="5 Hauptstrassen",
        billing_city="Berlin",
    ),
)


async def _seed_review_pair(database_url: str) -> None:
    """Two accounts in two customers and the resolver's unsure score for them, as a run leaves it."""
    engine = create_engine(database_url, 1)
    factory = create_session_factory(engine)
    try:
        async with factory() as session:
            await SqlaAccountRepository(session).upsert(list(BLUEFIN))
            await session.commit()
        async with SqlaResolutionUnitOfWork(factory()) as uow:
            keys = [account.key for account in BLUEFIN]
            await uow.customers.save(
                [
                    Customer(
                        id=f"c-bluefin-{key.org_id}",
                        name="Bluefin Logistics",
                        members={key: Membership(key, 1.0, MatchMethod.MODEL, "xsell-resolver", NOW_UTC)},
                        created_at=NOW_UTC,
                    )
                    for key in keys
                ]
            )
            explanation = MatchExplanation(
                MatchModel.default().prior,
                (
                    FieldEvidence(Field.NAME, 5, 8.1),
                    FieldEvidence(Field.STREET, 2, 4.3),
                    FieldEvidence(Field.CITY, 2, 1.9),
                ),
            )
            pair = ScoredMatch(PairLink.of(*keys), explanation.probability, explanation)
            await uow.matches.replace_pairs(keys, [pair])
            await uow.commit()
    finally:
        await engine.dispose()


@pytest.fixture
def review_pair(api_url: str, database_url: str) -> str:
    """Seeded before the browser starts (its event loop would refuse asyncio.run)."""
    asyncio.run(_seed_review_pair(database_url))
    return api_url


def _api(api_url: str, path: str) -> httpx.Response:
    with httpx.Client(base_url=api_url, timeout=15) as http:
        tokens = http.post("/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD}).json()
        return http.get(f"/api/v1{path}", headers=bearer(tokens["access_token"]))


def _queue(api_url: str) -> list[dict[str, Any]]:
    response = _api(api_url, "/matches")
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _customers(api_url: str) -> list[set[str]]:
    """The Bluefin customers as GET /customers/{id} shows them (a customer merged away answers 404)."""
    found = []
    for customer_id in ("c-bluefin-amer", "c-bluefin-emea"):
        response = _api(api_url, f"/customers/{customer_id}")
        if response.status_code == 200:
            found.append({a["name"] for a in response.json()["accounts"]})
    return found


def test_review_a_match_merge_undo_and_keep_apart(
    review_pair: str, browser_page: Page, dashboard_url: str, tmp_path: Path
) -> None:
    api_url, page = review_pair, browser_page
    shots = tmp_path / "screenshots"
    shots.mkdir()

    def shot(name: str) -> str:
        path = shots / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        return f"(screenshot: {path})"

    page.goto(dashboard_url + "?page=match-review")
    page.get_by_placeholder("you@example.com").fill(EMAIL)
    page.get_by_placeholder("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Match review")).to_be_visible(timeout=TIMEOUT_MS)

    # The pair with its evidence.
    cards = page.locator(".xsell-match")
    expect(cards).to_have_count(1)
    card = cards.first
    expect(card).to_contain_text("Bluefin Logistics GmbH")
    expect(card).to_contain_text("street similar")
    expect(card).to_contain_text("Match probability")
    shot("match-review")

    # Merge: the pair leaves the queue, the customers are one, and the page says what to do next.
    card.get_by_role("button", name="Merge").click()
    expect(page.get_by_text("Merged Bluefin Logistics GmbH and Bluefin Logistics.")).to_be_visible()
    expect(cards).to_have_count(0)
    expect(page.get_by_text("No pairs wait for review")).to_be_visible()
    where = shot("match-merged")
    assert _queue(api_url) == [], where
    assert _customers(api_url) == [{"Bluefin Logistics GmbH", "Bluefin Logistics"}], where

    # Undo: the customers part again and the pair waits once more.
    page.get_by_role("button", name="Undo last decision").click()
    expect(cards).to_have_count(1)
    assert _customers(api_url) == [{"Bluefin Logistics GmbH"}, {"Bluefin Logistics"}]

    # Keep apart, then undo it too.
    cards.first.get_by_role("button", name="Keep apart").click()
    expect(cards).to_have_count(0)
    assert _queue(api_url) == [], shot("match-kept-apart")
    page.get_by_role("button", name="Undo last decision").click()
    expect(cards).to_have_count(1)
    expect(page.get_by_role("button", name="Undo last decision")).to_be_disabled()
    shot("match-undone")


CSV_ACCOUNTS = ("001000000900001", "001000000900002", "001000000900003")


async def _seed_synced_csv_org(database_url: str, folder: Path) -> None:
    """A CSV org (its exports in `folder`: a CRM the API can count) whose accounts xsell holds, and the
    completed sync run that brought them."""
    engine = create_engine(database_url, 1)
    try:
        async with SqlaUnitOfWork(create_session_factory(engine)()) as uow:
            await uow.orgs.add(
                Org(
                    id="files",
                    name="Files Co",
                    kind=OrgKind.CSV,
                    business_unit="files",
                    currency="USD",
                    instance_url=str(folder),
                )
            )
            await uow.accounts.upsert(
                [
                    Account(
                        org_id="files",
                        external_id=SalesforceId.parse(i).value,
                        name=f"Files Co {n}",
                        currency="USD",
                    )
                    for n, i in enumerate(CSV_ACCOUNTS)
                ]
            )
            await uow.commit()
        async with engine.begin() as connection:
            await connection.execute(
                insert(sync_runs).values(
                    id=uuid.uuid4(),
                    org_id="files",
                    trigger="manual",
                    full=True,
                    status="completed",
                    started_at=NOW_UTC,
                    finished_at=NOW_UTC + timedelta(minutes=2, seconds=5),
                    counts={"Account": {"upserted": 3, "deleted": 0}},
                    errors=[],
                    api_used=1_500,
                    api_max=15_000,
                )
            )
    finally:
        await engine.dispose()


@pytest.fixture
def synced_org(api_url: str, database_url: str, tmp_path: Path) -> str:
    """Seeded before the browser starts (its event loop would refuse asyncio.run)."""
    folder = tmp_path / "csv-org"
    folder.mkdir()
    rows = "".join(f"{i},Files Co {n},2026-03-01T06:00:00.000+0000\n" for n, i in enumerate(CSV_ACCOUNTS))
    (folder / "Account.csv").write_text("Id,Name,SystemModstamp\n" + rows, encoding="utf-8")
    asyncio.run(_seed_synced_csv_org(database_url, folder))
    return api_url


def test_sync_health_shows_the_run_the_budget_and_reconciles(
    synced_org: str, browser_page: Page, dashboard_url: str, tmp_path: Path
) -> None:
    page = browser_page
    shot = _shooter(page, tmp_path)
    _sign_in(page, dashboard_url + "?page=sync-health")
    expect(page.get_by_role("heading", name="Sync health")).to_be_visible()

    # One card per org: the seeded Salesforce orgs never synced, the CSV org has its run and budget.
    cards = page.locator(".xsell-org")
    expect(cards).to_have_count(4)
    card = cards.filter(has_text="Files Co (files, csv)")
    expect(card.locator(".xsell-sync-run")).to_contain_text(
        "Last run (full, manual): started 2026-03-01 12:00 UTC, completed; 3 records in 2 min 5 s."
    )
    expect(card.locator(".xsell-sync-budget")).to_contain_text("1,500 of 15,000 requests today (10.0% used)")
    expect(card.locator(".xsell-sync-state")).to_contain_text("OK.")
    expect(card.locator(".xsell-sync-after-run")).to_contain_text("every object's count matched the org's")
    expect(cards.filter(has_text="AMER (amer, salesforce)")).to_contain_text("Never synced")
    shot("sync-health")

    # The live count against the CSV exports: every object matches.
    card.get_by_role("button", name="Check reconciliation").click()
    result = card.locator(".xsell-reconciliation")
    expect(result).to_contain_text("In step")
    account = result.locator("tr").filter(has=page.get_by_role("cell", name="Account", exact=True))
    expect(account.locator("td")).to_have_text(["Account", "3", "3", "yes"])
    shot("sync-health-reconciled")

    # Sync now queues a job and says which.
    card.get_by_role("button", name="Sync now").click()
    expect(card.locator(".xsell-sync-job")).to_contain_text("Sync queued: job")
    jobs = [j for j in _api_get(synced_org, "/jobs")["items"] if j["org_id"] == "files"]
    assert [(j["kind"], j["status"]) for j in jobs] == [("sync", "queued")], shot("sync-health-queued")
    expect(card.locator(".xsell-sync-job")).to_contain_text(jobs[0]["id"])
