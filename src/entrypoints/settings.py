"""The one settings object: every environment variable xsell reads, validated at start."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["Settings", "SettingsError", "cache_redis_url", "queue_redis_url"]

T = TypeVar("T")

_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_MIN_JWT_KEY_BYTES = 32  # RFC 8725 3.5 / RFC 7518 3.2: an HS256 key has at least 256 random bits


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


def _share(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number above 0 and at most 1, got {raw!r}") from None
    if not 0 < value <= 1:
        raise SettingsError(f"{name} must be a number above 0 and at most 1, got {raw!r}")
    return value


def _probability(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a probability strictly between 0 and 1, got {raw!r}") from None
    if not 0 < value < 1:
        raise SettingsError(f"{name} must be a probability strictly between 0 and 1, got {raw!r}")
    return value


def _secret_keys(name: str, raw: str) -> tuple[str, ...]:
    keys = tuple(part.strip() for part in raw.split(",") if part.strip())
    if not keys:
        raise SettingsError(f"{name} is set but holds no key; unset it or list keys, newest first")
    return keys


def _jwt_keys(name: str, raw: str) -> tuple[str, ...]:
    keys = _secret_keys(name, raw)
    for index, key in enumerate(keys):
        try:
            decoded = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
        except (ValueError, binascii.Error):
            raise SettingsError(f"{name}: key #{index + 1} is not URL-safe base64") from None
        if len(decoded) < _MIN_JWT_KEY_BYTES:
            raise SettingsError(
                f"{name}: key #{index + 1} decodes to {len(decoded)} bytes; use at least"
                f" {_MIN_JWT_KEY_BYTES} random bytes"
            )
    return keys


def _origins(name: str, raw: str) -> tuple[str, ...]:
    origins = tuple(part.strip().rstrip("/") for part in raw.split(",") if part.strip())
    for origin in origins:
        scheme, sep, host = origin.partition("://")
        if origin == "*" or not sep or scheme not in ("http", "https") or not host or "/" in host:
            raise SettingsError(
                f"{name} lists origins like https://sales.example.com (scheme and host, no path, no *),"
                f" got {origin!r}"
            )
    return origins


def _host_map(name: str, raw: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for part in raw.split(","):
        host, sep, target = part.strip().partition("=")
        if not sep or not host or not target:
            raise SettingsError(f"{name} must look like host=address:port,host=address:port")
        pairs.append((host.strip(), target.strip()))
    return tuple(pairs)


def _currency(name: str, raw: str) -> str:
    value = raw.strip().upper()
    if len(value) != 3 or not value.isalpha():
        raise SettingsError(f"{name} must be a three-letter ISO 4217 currency code, got {raw!r}")
    return value


def _rates(name: str, raw: str) -> tuple[tuple[str, float], ...]:
    pairs = []
    for part in raw.split(","):
        code, sep, rate = part.strip().partition("=")
        try:
            value = float(rate)
        except ValueError:
            value = -1.0
        if not sep or len(code.strip()) != 3 or not code.strip().isalpha() or not value > 0:
            raise SettingsError(
                f"{name} must look like EUR=1.08,GBP=1.27 (group-currency units per unit),"
                f" got {part.strip()!r}"
            )
        pairs.append((code.strip().upper(), value))
    return tuple(pairs)


def _horizon(name: str, raw: str) -> int:
    value = _positive_int(name, raw)
    if not 7 <= value <= 730:
        raise SettingsError(f"{name} must be 7 to 730 days, got {raw!r}")
    return value


def _log_level(name: str, raw: str) -> str:
    value = raw.strip().upper()
    if value not in _LOG_LEVELS:
        raise SettingsError(f"{name} must be one of {', '.join(_LOG_LEVELS)}, got {raw!r}")
    return value


def _traces(name: str, raw: str) -> str:
    value = raw.strip().lower()
    if value not in ("off", "console"):
        raise SettingsError(f"{name} must be off or console, got {raw!r}")
    return value


def _http_url(name: str, raw: str) -> str:
    value = _text(name, raw)
    if not value.startswith(("http://", "https://")):
        raise SettingsError(f"{name} must be an http:// or https:// URL")
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
        "Redis for the job queue and online features (and the cache unless XSELL_CACHE_REDIS_URL is set)."
        " Unset: xsell starts embedded Redis servers under XSELL_DATA_DIR.",
    ),
    "XSELL_CACHE_REDIS_URL": (
        "cache_redis_url",
        _redis_url,
        "Redis for the cache and rate-limit counts: data xsell can lose, so it needs no persistence."
        " Unset: REDIS_URL, or with REDIS_URL unset too, an embedded Redis that writes nothing to disk.",
    ),
    "XSELL_DATA_DIR": ("data_dir", lambda n, r: Path(_text(n, r)), "Where embedded services keep data."),
    "XSELL_API_HOST": ("api_host", _text, "Address the HTTP API listens on."),
    "XSELL_API_PORT": ("api_port", _port, "Port the HTTP API listens on."),
    "XSELL_DB_POOL_SIZE": (
        "db_pool_size",
        _positive_int,
        "Connections per process to PostgreSQL: its pool (twice as many under load); an API process"
        " keeps as many again for the recommendation list's reads.",
    ),
    "XSELL_LOG_LEVEL": ("log_level", _log_level, "DEBUG, INFO, WARNING or ERROR."),
    "XSELL_TRACES": (
        "traces",
        _traces,
        "off or console (print every finished span to stdout, one JSON line each). Unset: console for "
        "the long-running processes (api, worker, scheduler) unless OTEL_EXPORTER_OTLP_ENDPOINT is set, "
        "off for one-shot commands and the demo.",
    ),
    "OTEL_EXPORTER_OTLP_ENDPOINT": (
        "otlp_endpoint",
        _http_url,
        "Send traces over OTLP/HTTP to this collector (e.g. http://otel-collector:4318). Unset: none sent.",
    ),
    "XSELL_SECRET_KEYS": (
        "secret_keys",
        _secret_keys,
        "Keys sealing org credentials, comma-separated, newest first. Unset: one kept in XSELL_DATA_DIR.",
    ),
    "XSELL_JWT_KEYS": (
        "jwt_keys",
        _jwt_keys,
        "Keys signing API tokens (HS256, >= 32 random bytes each), comma-separated, newest first."
        " Unset: one kept in XSELL_DATA_DIR.",
    ),
    "XSELL_LOGIN_CONCURRENCY": (
        "login_concurrency",
        _positive_int,
        "Password hashes (logins, client tokens) computed at once per process; others wait.",
    ),
    "XSELL_CORS_ORIGINS": (
        "cors_origins",
        _origins,
        "Browser origins allowed to call the API from their pages (CORS), comma-separated, e.g."
        " https://sales.example.com. Unset: none (the dashboard calls the API from its server).",
    ),
    "XSELL_RATE_LIMIT_PER_MINUTE": (
        "rate_limit_per_minute",
        _positive_int,
        "API requests per minute per signed-in user or service client, counted across processes in Redis.",
    ),
    "XSELL_LOGIN_RATE_LIMIT_PER_MINUTE": (
        "login_rate_limit_per_minute",
        _positive_int,
        "Sign-in attempts (login, client token) per minute per client address, across processes.",
    ),
    "XSELL_SYNC_BUDGET_SHARE": (
        "sync_budget_share",
        _share,
        "Share of an org's daily API budget a sync may use before it pauses.",
    ),
    "XSELL_SYNC_LOOKBACK_S": (
        "sync_lookback_s",
        _positive_int,
        "Seconds an incremental sync re-reads before its cursor.",
    ),
    "XSELL_SYNC_BULK_THRESHOLD": (
        "sync_bulk_threshold",
        _positive_int,
        "Records above which a first load uses Bulk API 2.0.",
    ),
    "XSELL_SYNC_THREADS": (
        "sync_threads",
        _positive_int,
        "Threads for blocking Salesforce calls per process.",
    ),
    "XSELL_SYNC_ORG_CONCURRENCY": (
        "sync_org_concurrency",
        _positive_int,
        "Salesforce calls in flight at once per org.",
    ),
    "XSELL_SYNC_TIMEOUT_S": ("sync_timeout_s", _positive_int, "Timeout of each Salesforce HTTP call."),
    "XSELL_SYNC_SCHEDULE": ("sync_schedule", _text, "Default cron schedule of an org's syncs (UTC)."),
    "XSELL_SALESFORCE_HOST_MAP": (
        "salesforce_host_map",
        _host_map,
        "Send Salesforce hosts elsewhere over plain HTTP (host=127.0.0.1:PORT,...), e.g. the fake server.",
    ),
    "XSELL_WORKER_MAX_ATTEMPTS": (
        "worker_max_attempts",
        _positive_int,
        "Deliveries of a job before it is quarantined as crashing its worker.",
    ),
    "XSELL_MATCH_AUTO_MERGE": (
        "match_auto_merge",
        _probability,
        "Match probability at or above which two accounts join one customer automatically.",
    ),
    "XSELL_MATCH_REVIEW": (
        "match_review",
        _probability,
        "Match probability at or above which a pair waits in the review queue (below auto-merge).",
    ),
    "XSELL_MATCH_CANNOT_LINK": (
        "match_cannot_link",
        _probability,
        "Match probability below which a pair is evidence of two companies and blocks chaining.",
    ),
    "XSELL_GROUP_CURRENCY": (
        "group_currency",
        _currency,
        "Currency in which recommendations from every org are also valued, to compare them.",
    ),
    "XSELL_EXCHANGE_RATES": (
        "exchange_rates",
        _rates,
        "Group-currency units per unit of each org currency (EUR=1.08,GBP=1.27). Missing: no group value.",
    ),
    "XSELL_MODEL_HORIZON_DAYS": (
        "model_horizon_days",
        _horizon,
        "Days after a cutoff within which a purchase counts for training and scoring.",
    ),
}


SERVICE_PROCESSES = frozenset({"api", "worker", "scheduler"})


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything configurable, read once from the environment. See the README for each variable."""

    database_url: str | None = None
    redis_url: str | None = None
    cache_redis_url: str | None = None
    data_dir: Path = Path(".xsell")
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    db_pool_size: int = 10
    log_level: str = "INFO"
    traces: str | None = None  # None: chosen per process by `traces_mode`
    otlp_endpoint: str | None = None
    secret_keys: tuple[str, ...] | None = field(default=None, repr=False)  # never printed
    jwt_keys: tuple[str, ...] | None = field(default=None, repr=False)  # never printed
    cors_origins: tuple[str, ...] = ()
    login_concurrency: int = 4
    rate_limit_per_minute: int = 600
    login_rate_limit_per_minute: int = 10
    sync_budget_share: float = 0.8
    sync_lookback_s: int = 900
    sync_bulk_threshold: int = 10_000
    sync_threads: int = 8
    sync_org_concurrency: int = 4
    sync_timeout_s: int = 60
    sync_schedule: str = "*/15 * * * *"
    worker_max_attempts: int = 3
    match_auto_merge: float = 0.9
    match_review: float = 0.5
    match_cannot_link: float = 0.001
    salesforce_host_map: tuple[tuple[str, str], ...] | None = None
    group_currency: str = "USD"
    exchange_rates: tuple[tuple[str, float], ...] = ()
    model_horizon_days: int = 180

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

    def traces_mode(self, process: str) -> str:
        """Where this process prints spans: XSELL_TRACES when set; otherwise `console` for the processes
        that run until stopped (their stdout is a service log), unless spans already go to an OTLP
        collector, and `off` for one-shot commands and the demo, whose stdout is what the user reads."""
        if self.traces is not None:
            return self.traces
        return "console" if process in SERVICE_PROCESSES and self.otlp_endpoint is None else "off"

    @staticmethod
    def documentation() -> list[tuple[str, str, str]]:
        """(variable, default, description) rows for --help and the README."""
        defaults = {f.name: f.default for f in fields(Settings)}
        return [
            (variable, "" if defaults[name] is None else str(defaults[name]), text)
            for variable, (name, _, text) in _VARIABLES.items()
        ]


def queue_redis_url(settings: Settings) -> str:
    """REDIS_URL: the Redis that keeps what must survive (the job queue, the online features)."""
    if settings.redis_url is None:
        raise RuntimeError("the container needs a resolved REDIS_URL (embedded services start first)")
    return settings.redis_url


def cache_redis_url(settings: Settings) -> str:
    """XSELL_CACHE_REDIS_URL, or REDIS_URL when there is one Redis for everything."""
    return settings.cache_redis_url or queue_redis_url(settings)
