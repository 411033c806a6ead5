"""Alembic environment: runs migrations on an async engine, or on a connection handed in by xsell."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from adapters.persistence.engine import create_engine
from adapters.persistence.schema import metadata

config = context.config

# API, workers and scheduler each migrate at start; they may start together. One transaction-scoped
# advisory lock makes them take turns: the first applies what is missing, the others then find the
# schema at head (alembic reads the version only after the lock is held).
_MIGRATION_LOCK = 0x78_73_65_6C_6C  # "xsell"


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        context.run_migrations()


async def _run_async(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def _online() -> None:
    # xsell hands over its own connection when it migrates from inside a running event loop.
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    database_url = config.attributes.get("database_url") or os.environ.get("DATABASE_URL")
    if not database_url:
        raise SystemExit("DATABASE_URL is not set; run `xsell migrate` to use the embedded PostgreSQL")
    asyncio.run(_run_async(database_url))


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run against a database")
_online()
