"""Readiness probe for PostgreSQL."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from application.errors import DependencyUnavailableError

__all__ = ["PostgresProbe"]


class PostgresProbe:
    name = "postgresql"

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def check(self) -> None:
        try:
            async with self._engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:  # driver errors vary (OSError, asyncpg, SQLAlchemy); all mean "not ready"
            raise DependencyUnavailableError(f"PostgreSQL does not answer: {type(exc).__name__}") from exc
