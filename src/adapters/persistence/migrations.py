"""Applies the alembic migrations in `migrations/` to a database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

__all__ = ["MIGRATIONS_DIR", "alembic_config", "upgrade"]


def _find_migrations() -> Path:
    # A source checkout keeps them beside src/; an installed image keeps them in its working directory.
    for candidate in (Path(__file__).resolve().parents[3] / "migrations", Path.cwd() / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError(
        "the migrations folder was not found beside the source or in the working directory"
    )


MIGRATIONS_DIR = _find_migrations()


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as an attribute, not an ini option: ini interpolation chokes on the %2F of socket URLs.
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema to `revision` (blocking; call from a thread when an event loop runs)."""
    command.upgrade(alembic_config(database_url), revision)
