"""Start-up check that PostgreSQL answers, turning driver errors into one readable sentence."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from adapters.persistence.engine import asyncpg_url, create_engine
from application.errors import DependencyUnavailableError

__all__ = ["check_database"]


def _describe(database_url: str) -> str:
    url = asyncpg_url(database_url)
    where = url.host or url.query.get("host") or "localhost"
    return f"{where}:{url.port or 5432}/{url.database or ''}"


async def _ping(database_url: str, seconds: float) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with asyncio.timeout(seconds), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


def check_database(database_url: str, timeout: float = 10.0) -> None:
    """Raise DependencyUnavailableError (credentials never in the message) when PostgreSQL does not answer."""
    try:
        asyncio.run(_ping(database_url, timeout))
    except TimeoutError:
        raise DependencyUnavailableError(
            f"PostgreSQL at {_describe(database_url)} did not answer within {timeout:g} s"
        ) from None
    except Exception as exc:  # asyncpg, OSError and SQLAlchemy errors all mean the same to the user
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DependencyUnavailableError(
            f"cannot reach PostgreSQL at {_describe(database_url)}: {reason}"
        ) from None
