"""`xsell migrate`, `xsell api` and `xsell demo`: bring up the database schema and the HTTP API."""

from __future__ import annotations

import errno
import socket

import click
import uvicorn

from entrypoints.cli.app import cli
from entrypoints.cli.runtime import load_settings, migrated, services
from entrypoints.http.app import create_app
from entrypoints.settings import Settings

__all__ = ["api", "demo", "migrate"]


def _check_port_free(host: str, port: int) -> None:
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


def _serve(settings: Settings, host: str, port: int) -> None:
    app = create_app(settings)
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="on")
    uvicorn.Server(config).run()


def _options(settings: Settings, host: str | None, port: int | None) -> tuple[str, int]:
    host = host or settings.api_host
    port = port or settings.api_port
    _check_port_free(host, port)
    return host, port


@cli.command()
def migrate() -> None:
    """Create or upgrade the database schema to the newest version."""
    settings = load_settings()
    with services(settings) as resolved:
        migrated(resolved)
    click.echo("database schema is up to date")


@cli.command()
@click.option("--host", help="Address to listen on (default: XSELL_API_HOST or 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: XSELL_API_PORT or 8000).")
def api(host: str | None, port: int | None) -> None:
    """Serve the REST API (OpenAPI at /schema). Stop with Ctrl-C."""
    settings = load_settings()
    host, port = _options(settings, host, port)
    with services(settings) as resolved:
        migrated(resolved)
        click.echo(f"xsell API on http://{host}:{port}  (docs: http://{host}:{port}/schema)", err=True)
        _serve(resolved, host, port)


@cli.command()
@click.option("--host", help="Address to listen on (default: XSELL_API_HOST or 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="API port (default: XSELL_API_PORT or 8000).")
def demo(host: str | None, port: int | None) -> None:
    """Run everything on this machine: embedded PostgreSQL and Redis, migrations, and the API.

    Data stays in XSELL_DATA_DIR (default ./.xsell), so a second run picks up where the first ended.
    """
    settings = load_settings()
    host, port = _options(settings, host, port)
    click.echo("xsell demo", err=True)
    with services(settings) as resolved:
        migrated(resolved)
        base = f"http://{host}:{port}"
        click.echo(
            "\n".join(
                [
                    "",
                    f"  API          {base}/api/v1/accounts",
                    f"  API docs     {base}/schema",
                    f"  Health       {base}/health   Readiness {base}/ready",
                    f"  Data folder  {settings.data_dir.resolve()}",
                    "",
                    "  Press Ctrl-C to stop; the embedded servers stop with it.",
                    "",
                ]
            ),
            err=True,
        )
        _serve(resolved, host, port)
