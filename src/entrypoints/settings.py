"""The one settings object: every environment variable xsell reads, validated at start."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["Settings", "SettingsError"]

T = TypeVar("T")

_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class SettingsError(ValueError):
    """An environment variable has a value xsell cannot use; the message names the variable."""


def _text(name: str, raw: str) -> str:
    if not raw.strip():
        raise SettingsError(f"{name} is set but empty; unset it or give it a value")
    return raw.strip()


def _port(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a port number (1-65535), got {raw!r}") from None
    if not 1 <= value <= 65535:
        raise SettingsError(f"{name} must be a port number (1-65535), got {raw!r}")
    return value


def _positive_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a positive whole number, got {raw!r}") from None
    if value < 1:
        raise SettingsError(f"{name} must be a positive whole number, got {raw!r}")
    return value


def _log_level(name: str, raw: str) -> str:
    value = raw.strip().upper()
    if value not in _LOG_LEVELS:
        raise SettingsError(f"{name} must be one of {', '.join(_LOG_LEVELS)}, got {raw!r}")
    return value


def _database_url(name: str, raw: str) -> str:
    value = _text(name, raw)
    if not value.startswith(("postgresql://", "postgresql+asyncpg://", "postgres://")):
        raise SettingsError(f"{name} must be a postgresql:// URL, got a value starting {value[:12]!r}")
    return value


def _redis_url(name: str, raw: str) -> str:
    value = _text(name, raw)
    if not value.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError(f"{name} must be a redis://, rediss:// or unix:// URL")
    return value


# Each entry: environment variable -> (field, parser, description). The README's table is written from this.
_VARIABLES: dict[str, tuple[str, Callable[[str, str], Any], str]] = {
    "DATABASE_URL": (
        "database_url",
        _database_url,
        "PostgreSQL to use. Unset: xsell starts an embedded PostgreSQL under XSELL_DATA_DIR.",
    ),
    "REDIS_URL": (
        "redis_url",
        _redis_url,
        "Redis to use (cache and job broker). Unset: xsell starts an embedded Redis under XSELL_DATA_DIR.",
    ),
    "XSELL_DATA_DIR": ("data_dir", lambda n, r: Path(_text(n, r)), "Where embedded services keep data."),
    "XSELL_API_HOST": ("api_host", _text, "Address the HTTP API listens on."),
    "XSELL_API_PORT": ("api_port", _port, "Port the HTTP API listens on."),
    "XSELL_DB_POOL_SIZE": ("db_pool_size", _positive_int, "Connections per process to PostgreSQL."),
    "XSELL_LOG_LEVEL": ("log_level", _log_level, "DEBUG, INFO, WARNING or ERROR."),
}


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything configurable, read once from the environment. See the README for each variable."""

    database_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = Path(".xsell")
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    db_pool_size: int = 10
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the environment. Raises SettingsError naming the first bad variable."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for variable, (field_name, parse, _) in _VARIABLES.items():
            raw = env.get(variable)
            if raw is not None:
                values[field_name] = parse(variable, raw)
        return cls(**values)

    @staticmethod
    def documentation() -> list[tuple[str, str, str]]:
        """(variable, default, description) rows for --help and the README."""
        defaults = {f.name: f.default for f in fields(Settings)}
        return [
            (variable, "" if defaults[name] is None else str(defaults[name]), text)
            for variable, (name, _, text) in _VARIABLES.items()
        ]
