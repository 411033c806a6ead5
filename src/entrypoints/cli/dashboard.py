"""`xsell dashboard`: the sales dashboard, a Panel server that talks to the xsell REST API."""

from __future__ import annotations

import click

from entrypoints.cli.app import cli
from entrypoints.cli.runtime import check_port_free, load_settings

__all__ = ["dashboard", "default_api_url"]

_ANY_ADDRESS = {"", "0.0.0.0", "::"}  # noqa: S104  (names of the wildcard address, to avoid calling it)


def default_api_url(api_host: str, api_port: int) -> str:
    """The API's URL from its listen address; a wildcard address is reached on the loopback."""
    host = "127.0.0.1" if api_host in _ANY_ADDRESS else api_host
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{api_port}"


@cli.command()
@click.option("--host", help="Address to listen on (default: XSELL_API_HOST or 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=5006, show_default=True, help="Port.")
@click.option(
    "--api-url",
    help="The xsell API to use (default: http://XSELL_API_HOST:XSELL_API_PORT).",
)
@click.option(
    "--refresh-s",
    type=click.IntRange(2, 3600),
    default=20,
    show_default=True,
    help="How often an open Opportunities page asks whether new scores landed (seconds).",
)
def dashboard(host: str | None, port: int, api_url: str | None, refresh_s: int) -> None:
    """Serve the sales dashboard. It signs each user in at the API and uses only the API, with that user's
    token (kept on the server for the browser session). Stop with Ctrl-C."""
    settings = load_settings()
    host = host or settings.api_host
    api_url = (api_url or default_api_url(settings.api_host, settings.api_port)).rstrip("/")
    try:
        check_port_free(host, port)
    except click.ClickException:
        raise click.ClickException(f"{host}:{port} is not free; choose another with --port") from None
    # Panel and Bokeh take seconds to import: only this command pays for them.
    from entrypoints.dashboard.app import serve_dashboard

    def listening() -> None:
        click.echo(f"xsell dashboard on http://{host}:{port}/  (API {api_url})", err=True)

    serve_dashboard(api_url, host, port, listening, refresh_s=float(refresh_s))
