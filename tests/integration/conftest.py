"""Real services for integration tests: one embedded PostgreSQL and Redis per run, a new database per test."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from tests.integration.fault_report import fault_report, pytest_terminal_summary

from adapters.embedded.services import ServiceUrls, running_services
from adapters.persistence.migrations import upgrade

__all__ = ["fault_report", "pytest_terminal_summary"]  # the fault report's fixture and table, for every test


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


@pytest.fixture
def empty_database_url(services: ServiceUrls) -> Iterator[str]:
    """A new, empty database on the shared server, dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(services.database_url, f'CREATE DATABASE "{name}"'))
    yield make_url(services.database_url).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_admin(services.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    """A fresh database with every migration applied."""
    upgrade(empty_database_url)
    return empty_database_url
