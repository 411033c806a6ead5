"""What every server-side command does first: settings, logging, and the database and Redis to use."""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import getpass
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from typing import Any, TypeVar

import click
from dishka import AsyncContainer

from adapters.embedded.postgres import EmbeddedServiceError
from adapters.embedded.services import running_services
from adapters.observability.logging import configure_logging
from adapters.observability.tracing import configure_tracing
from adapters.persistence.migrations import upgrade
from adapters.persistence.preflight import check_database
from application.errors import ApplicationError, DependencyUnavailableError
from domain.errors import DomainError
from entrypoints.container import make_container
from entrypoints.settings import Settings, SettingsError

__all__ = [
    "BY_OPTION",
    "actor",
    "app_container",
    "check_port_free",
    "load_settings",
    "migrated",
    "progress",
    "run_command",
    "run_use_case",
    "services",
]


T = TypeVar("T")
R = TypeVar("R")


@asynccontextmanager
async def app_container(settings: Settings) -> AsyncIterator[AsyncContainer]:
    """The application container for one command, closed (engine, Redis) when the command ends."""
    container = make_container(settings)
    try:
        yield container
    finally:
        await container.close()


async def run_use_case(settings: Settings, use: type[T], call: Callable[[T], Awaitable[R]]) -> R:
    """Resolve one use case in a request scope and run `call` on it."""
    async with app_container(settings) as container, container() as request:
        return await call(await request.get(use))


def check_port_free(host: str, port: int) -> None:
    """Fail with one line, before anything starts, when the API could not listen there."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = (
                "is already in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror})"
            )
            raise click.ClickException(
                f"{host}:{port} {reason}; choose another with --port or XSELL_API_PORT"
            ) from None


def load_settings() -> Settings:
    """Settings from the environment, or a one-line error naming the bad variable."""
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(f"configuration: {exc}") from None
    configure_logging(settings.log_level)
    context = click.get_current_context(silent=True)
    command = context.info_name if context is not None and context.info_name else "cli"
    configure_tracing(
        f"xsell-{command}", mode=settings.traces_mode(command), otlp_endpoint=settings.otlp_endpoint
    )
    return settings


@contextmanager
def progress(step: str) -> Iterator[None]:
    """Print a step, then how long it took (or that it failed)."""
    click.echo(f"  {step} ...", nl=False, err=True)
    started = time.monotonic()
    try:
        yield
    except BaseException:
        click.echo(" failed", err=True)
        raise
    click.echo(f" ok ({time.monotonic() - started:.1f} s)", err=True)


@contextmanager
def services(settings: Settings) -> Iterator[Settings]:
    """Settings with DATABASE_URL and both Redis URLs resolved, embedded servers running for the block."""
    label = []
    if settings.database_url is None:
        label.append("PostgreSQL")
    if settings.redis_url is None:
        label.append("Redis")
    step = (
        f"starting embedded {' and '.join(label)} in {settings.data_dir}"
        if label
        else "using external services"
    )
    with ExitStack() as stack:
        try:
            with progress(step):
                urls = stack.enter_context(
                    running_services(
                        settings.database_url, settings.redis_url, settings.data_dir, settings.cache_redis_url
                    )
                )
        except EmbeddedServiceError as exc:
            raise click.ClickException(str(exc)) from None
        try:
            check_database(urls.database_url)
        except DependencyUnavailableError as exc:
            raise click.ClickException(str(exc)) from None
        yield dataclasses.replace(
            settings,
            database_url=urls.database_url,
            redis_url=urls.redis_url,
            cache_redis_url=urls.cache_redis_url,
        )


def migrated(settings: Settings) -> None:
    """Bring the schema to the newest revision, with a one-line error when that fails."""
    assert settings.database_url is not None
    try:
        with progress("applying database migrations"):
            upgrade(settings.database_url)
    except Exception as exc:  # alembic wraps driver errors in many types; the user needs one sentence
        raise click.ClickException(f"migrations failed: {str(exc).splitlines()[0]}") from None


def actor() -> str:
    """Who runs the command, for the history of decisions: the login name, or `cli` where there is none."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "cli"


BY_OPTION = click.option(
    "--by",
    "decided_by",
    default=actor,
    show_default="your login name",
    help="Who decides (kept in history).",
)


def run_command(use: type[T], call: Callable[[T], Awaitable[Any]], *, migrate: bool = True) -> Any:
    """Start services, build the container, run one use case, and turn its errors into one line."""
    settings = load_settings()
    with services(settings) as resolved:
        if migrate:
            migrated(resolved)
        try:
            return asyncio.run(_call(resolved, use, call))
        except (DomainError, ApplicationError) as exc:
            raise click.ClickException(str(exc)) from None


async def _call(settings: Settings, use: type[T], call: Callable[[T], Awaitable[Any]]) -> Any:
    async with app_container(settings) as container, container() as request:
        try:
            use_case = await request.get(use)
        except DomainError as exc:  # e.g. match thresholds out of order in the environment
            raise click.ClickException(f"configuration: {exc}") from None
        return await call(use_case)
