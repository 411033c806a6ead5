"""Builds the async engine from a PostgreSQL URL (external or embedded) for the asyncpg driver."""

from __future__ import annotations

import msgspec
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

__all__ = ["asyncpg_url", "create_engine", "create_session_factory", "sync_url"]


def asyncpg_url(database_url: str) -> URL:
    """The URL with the asyncpg driver; accepts postgres://, postgresql:// and unix-socket `?host=` forms."""
    url = make_url(database_url)
    return url.set(drivername="postgresql+asyncpg")


def sync_url(database_url: str) -> URL:
    """The same database for synchronous tools that need psycopg (for example Optuna's storage)."""
    return make_url(database_url).set(drivername="postgresql+psycopg")


def create_engine(database_url: str, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        asyncpg_url(database_url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,  # a connection killed server-side is replaced, not handed to a request
        pool_timeout=10,
        # Errors then show the statement but not its values (password hashes, emails) in logs (LOG-*).
        hide_parameters=True,
        # JSONB values (reasons, record fields) decode several times faster than with the json module.
        json_deserializer=msgspec.json.decode,
        connect_args={"timeout": 10, "command_timeout": 60, "server_settings": {"application_name": "xsell"}},
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker:  # type: ignore[type-arg]
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
