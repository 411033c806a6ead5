"""Real services for integration tests: one embedded PostgreSQL and Redis per run, a new database per test.

Also the canary scan (tests/integration/canaries.py): every test's captured output and logs, and the Redis
after every test that used it, are searched for the canary secrets; a test that leaks one errors.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from tests.integration.canaries import CANARIES
from tests.integration.fault_report import fault_report, write_fault_report

from adapters.embedded.services import ServiceUrls, running_services
from adapters.persistence.migrations import upgrade

__all__ = ["fault_report"]  # the fault report's fixture, for every test


@pytest.fixture(scope="session")
def services() -> Iterator[ServiceUrls]:
    # Not under pytest's basetemp: pytest prunes old basetemps, and a concurrent session could delete
    # the data folder of a server that is still running.
    with (
        tempfile.TemporaryDirectory(prefix="xsell-test-") as data_dir,
        running_services(None, None, Path(data_dir)) as urls,
    ):
        yield urls


def _asyncpg_dsn(database_url: str) -> dict[str, object]:
    url = make_url(database_url)
    return {
        "user": url.username,
        "password": url.password,
        "host": url.host or url.query.get("host"),
        "port": url.port,
        "database": url.database,
    }


async def _admin(database_url: str, statement: str) -> None:
    connection = await asyncpg.connect(**_asyncpg_dsn(database_url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _new_database(services: ServiceUrls) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(services.database_url, f'CREATE DATABASE "{name}"'))
    yield make_url(services.database_url).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_admin(services.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def empty_database_url(services: ServiceUrls) -> Iterator[str]:
    """A new, empty database on the shared server, dropped after the test."""
    yield from _new_database(services)


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    """A fresh database with every migration applied."""
    upgrade(empty_database_url)
    return empty_database_url


@pytest.fixture(scope="module")
def module_database_url(services: ServiceUrls) -> Iterator[str]:
    """A migrated database shared by one module's tests (for seeding once what many tests only read)."""
    for url in _new_database(services):
        upgrade(url)
        yield url


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Sections accumulate over setup, call and teardown: scan only the phase this report is about.
    for title, text in report.sections:
        if title.endswith(f" {report.when}"):
            CANARIES.scan(f"{title.lower()} of {report.nodeid}", text)


@pytest.fixture(autouse=True)
def no_canary_leaks(request: pytest.FixtureRequest) -> Iterator[None]:
    """Errors the test when a canary secret showed up in its output, its responses or the Redis."""
    before = len(CANARIES.leaks)
    yield
    if "services" in request.fixturenames:
        services: ServiceUrls = request.getfixturevalue("services")
        for url in {services.redis_url, services.cache_redis_url}:  # jobs' and the cache's
            CANARIES.scan_redis(url, request.node.nodeid)
    leaks = CANARIES.leaks[before:]
    if request.node.get_closest_marker("canary_planted"):
        del CANARIES.leaks[before:]  # the scan's own test puts canaries there on purpose
        return
    assert not leaks, f"canary secrets leaked: {leaks}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    write_fault_report(terminalreporter)
    # Leaks seen after a test's own check (in its teardown output) are reported here, and fail the run.
    if CANARIES.leaks:
        terminalreporter.section("canary secrets leaked", red=True)
        for leak in CANARIES.leaks:
            terminalreporter.line(f"{leak.canary} in {leak.where}")
    elif CANARIES.scanned:
        terminalreporter.line("canary scan: 0 canary secrets in logs, responses and Redis")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if CANARIES.leaks and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
