"""`xsell migrate` and `xsell api`: bring up the database schema and the HTTP API."""

from __future__ import annotations

import click
import uvicorn

from entrypoints.cli.app import cli
from entrypoints.cli.runtime import check_port_free, load_settings, migrated, services
from entrypoints.http.app import create_app, freeze_startup_objects
from entrypoints.settings import Settings

__all__ = ["api", "api_address", "migrate", "serve_api"]


def serve_api(settings: Settings, host: str, port: int) -> None:
    app = create_app(settings)
    freeze_startup_objects()
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="on")
    uvicorn.Server(config).run()


def api_address(settings: Settings, host: str | None, port: int | None) -> tuple[str, int]:
    """The address to serve on (options over settings), checked to be free."""
    host = host or settings.api_host
    port = port or settings.api_port
    check_port_free(host, port)
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
    host, port = api_address(settings, host, port)
    with services(settings) as resolved:
        migrated(resolved)
        click.echo(f"xsell API on http://{host}:{port}  (docs: http://{host}:{port}/schema)", err=True)
        serve_api(resolved, host, port)
