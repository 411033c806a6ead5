"""Builds the async engine from a PostgreSQL URL (external or embedded) for the asyncpg driver."""

from __future__ import annotations

import asyncio

import asyncpg
import msgspec
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

__all__ = ["ReadPool", "asyncpg_url", "create_engine", "create_session_factory", "sync_url"]


def asyncpg_url(database_url: str) -> URL:
    """The URL with the asyncpg driver; accepts postgres://, postgresql:// and unix-socket `?host=` forms."""
    url = make_url(database_url)
    return url.set(drivername="postgresql+asyncpg")


def sync_url(database_url: str) -> URL:
    """The same database for synchronous tools that need psycopg (for example Optuna's storage)."""
    return make_url(database_url).set(drivername="postgresql+psycopg")


# Every asyncpg connection xsell opens, through SQLAlchemy or a ReadPool: connect and statement timeouts,
# and the name PostgreSQL shows for it.
_CONNECTION_OPTIONS = {"timeout": 10, "command_timeout": 60, "server_settings": {"application_name": "xsell"}}


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
        connect_args=_CONNECTION_OPTIONS,
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker:  # type: ignore[type-arg]
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


class _ReadConnection(asyncpg.Connection):  # type: ignore[misc]
    def get_reset_query(self) -> str:
        # The reads of a ReadPool run one statement outside a transaction and change no session state,
        # so there is nothing to reset: no reset round trip on every release.
        return ""


class ReadPool:
    """Connections for reads of one statement outside a transaction (the recommendation list's page),
    from asyncpg's own pool: no ping on checkout and no reset on release, which SQLAlchemy's pool and
    asyncpg's default add to every read (together about 40% of the list read's CPU in the API process).
    Opened on first use, at most `max_size` connections, kept open while in use. A reader that finds a
    connection dead terminates it, and the pool opens a new one in its place (see `offer_documents`)."""

    def __init__(self, database_url: str, max_size: int, acquire_timeout_s: float = 10.0) -> None:
        """`acquire_timeout_s`: how long a read waits for a connection to come free (all `max_size`
        busy, or a new one slow to open) before it fails."""
        self._dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.max_size = max_size
        self.acquire_timeout_s = acquire_timeout_s
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        dsn=self._dsn,
                        min_size=0,
                        max_size=self.max_size,
                        connection_class=_ReadConnection,
                        **_CONNECTION_OPTIONS,
                    )
        return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()
