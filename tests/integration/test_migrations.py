"""Migrations: empty to head, every revision up-down-up (stairway), and no drift from the mapped tables."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from adapters.persistence.engine import create_engine
from adapters.persistence.migrations import alembic_config
from adapters.persistence.schema import metadata


async def _inspect(database_url: str, fn: Any) -> Any:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(fn)
    finally:
        await engine.dispose()


def _tables(database_url: str) -> set[str]:
    return set(asyncio.run(_inspect(database_url, lambda c: inspect(c).get_table_names())))


def test_upgrade_from_empty_to_head(empty_database_url: str) -> None:
    assert _tables(empty_database_url) == set()
    command.upgrade(alembic_config(empty_database_url), "head")
    assert {"orgs", "accounts", "alembic_version"} <= _tables(empty_database_url)
    version = asyncio.run(
        _inspect(
            empty_database_url, lambda c: c.execute(text("SELECT version_num FROM alembic_version")).scalar()
        )
    )
    head = ScriptDirectory.from_config(alembic_config(empty_database_url)).get_current_head()
    assert version == head


def test_stairway_each_revision_up_down_up(empty_database_url: str) -> None:
    config = alembic_config(empty_database_url)
    revisions = list(reversed(list(ScriptDirectory.from_config(config).walk_revisions())))
    assert revisions, "no migrations found"
    for revision in revisions:
        command.upgrade(config, revision.revision)
        after_up = _tables(empty_database_url)
        command.downgrade(config, revision.down_revision or "base")
        command.upgrade(config, revision.revision)
        assert _tables(empty_database_url) == after_up, f"revision {revision.revision} is not reversible"
    command.downgrade(config, "base")
    assert _tables(empty_database_url) <= {"alembic_version"}


def test_mapped_tables_match_what_migrations_create(database_url: str) -> None:
    differences = asyncio.run(
        _inspect(database_url, lambda c: compare_metadata(MigrationContext.configure(c), metadata))
    )
    assert differences == []


def test_there_is_exactly_one_head(empty_database_url: str) -> None:
    heads = ScriptDirectory.from_config(alembic_config(empty_database_url)).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}; merge them"


def test_processes_that_migrate_at_the_same_time_take_turns(empty_database_url: str) -> None:
    import subprocess
    import sys

    # API, worker and scheduler each migrate at start; three at once must all succeed, once each.
    code = (
        "import sys; from adapters.persistence.migrations import upgrade; upgrade(sys.argv[1]); print('ok')"
    )
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", code, empty_database_url], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(3)
    ]
    results = [run.communicate(timeout=180) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], [err.decode()[-2000:] for _, err in results]
    head = ScriptDirectory.from_config(alembic_config(empty_database_url)).get_current_head()
    versions = asyncio.run(
        _inspect(
            empty_database_url, lambda c: c.execute(text("SELECT version_num FROM alembic_version")).all()
        )
    )
    assert [row[0] for row in versions] == [head]
