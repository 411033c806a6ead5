"""One browser session of the dashboard (sign-in, then the pages) and the Panel server that hosts them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import panel as pn

from entrypoints.dashboard.api import ApiSession
from entrypoints.dashboard.login import LoginPage
from entrypoints.dashboard.match_review import MatchReviewPage
from entrypoints.dashboard.opportunities import OpportunitiesPage

__all__ = ["DashboardSession", "serve_dashboard"]

_closing: set[asyncio.Task[None]] = set()


class DashboardSession:
    """The state of one browser session, kept on the server: its ApiSession (the user's tokens) and the
    page it shows. Nothing here is sent to the browser but the widgets' contents."""

    def __init__(self, api_url: str, start_page: str = "") -> None:
        self.api = ApiSession(api_url)
        self._start_page = start_page
        self.user = pn.pane.Markdown("", css_classes=["xsell-user"])
        self.sign_out = pn.widgets.Button(name="Sign out", visible=False, width=100)
        self.sign_out.on_click(self._sign_out)
        self.content = pn.Column(sizing_mode="stretch_width")
        self.view = pn.Column(
            pn.Row(
                pn.pane.Markdown("# xsell"),
                pn.Spacer(),
                self.user,
                self.sign_out,
                sizing_mode="stretch_width",
            ),
            self.content,
            sizing_mode="stretch_width",
        )
        self._show_login()

    def _show_login(self, notice: str = "") -> None:
        self.user.object = ""
        self.sign_out.visible = False
        self.content.objects = [LoginPage(self.api, self._signed_in, notice).view]

    async def _signed_in(self) -> None:
        self.user.object = f"Signed in as **{self.api.email}**"
        self.sign_out.visible = True
        # `?page=matches` opens Match review first.
        opening = MatchReviewPage if self._start_page == "matches" else OpportunitiesPage
        page = opening(self.api, self._session_ended)
        self.content.objects = [page.view]
        await page.load()

    async def _session_ended(self, notice: str) -> None:
        await self.api.sign_out()
        self._show_login(notice)

    async def _sign_out(self, _event: Any) -> None:
        await self.api.sign_out()
        self._show_login()

    def close(self) -> None:
        """Forget the tokens and close the HTTP client when the browser session ends."""
        task = asyncio.get_running_loop().create_task(self._close())
        _closing.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(_closing.discard)

    async def _close(self) -> None:
        await self.api.sign_out()
        await self.api.aclose()


def _session_factory(api_url: str) -> Callable[[], pn.viewable.Viewable]:
    def create() -> pn.viewable.Viewable:
        # Loaded per session so that the Tabulator's JavaScript is on the page before sign-in shows it.
        pn.extension("tabulator", notifications=False)
        start = pn.state.session_args.get("page", [b""])[0].decode("utf-8", "replace")
        session = DashboardSession(api_url, start)
        pn.state.on_session_destroyed(lambda _context: session.close())
        return session.view

    return create


def serve_dashboard(api_url: str, host: str, port: int, on_listening: Callable[[], None]) -> None:
    """Serve the dashboard at http://host:port/ until interrupted; `on_listening` runs once the port is
    bound (browsers' connections then wait in its backlog)."""
    origins = sorted({f"{host}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"})
    server = pn.serve(
        {"/": _session_factory(api_url)},
        port=port,
        address=host,
        websocket_origin=origins,
        show=False,
        start=False,
        verbose=False,
        title="xsell",
    )
    on_listening()
    server.start()
    server.io_loop.start()
