"""One browser session of the dashboard (sign-in, then the pages) and the Panel server that hosts them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import panel as pn

from entrypoints.dashboard.api import ApiSession
from entrypoints.dashboard.context import Closable, Page, PageContext, PageFactory
from entrypoints.dashboard.customer import CustomerPage
from entrypoints.dashboard.login import LoginPage
from entrypoints.dashboard.match_review import MatchReviewPage
from entrypoints.dashboard.models import ModelsPage
from entrypoints.dashboard.opportunities import OpportunitiesPage
from entrypoints.dashboard.panel_writes import mend_panel_writes
from entrypoints.dashboard.sync_health import SyncHealthPage
from entrypoints.dashboard.whitespace import WhitespacePage

__all__ = ["PAGES", "DashboardSession", "serve_dashboard", "slug"]

# The navigation, in order: adding a page is one line here (a class built from a PageContext).
PAGES: list[tuple[str, PageFactory]] = [
    ("Opportunities", OpportunitiesPage),
    ("Customer", CustomerPage),
    ("Whitespace", WhitespacePage),
    ("Models", ModelsPage),
    ("Match review", lambda context: MatchReviewPage(context.api, context.on_session_ended)),
    ("Sync health", SyncHealthPage),
]
_CUSTOMER = "Customer"

_closing: set[asyncio.Task[None]] = set()


def slug(label: str) -> str:
    """The page's name in the address (?page=...), so that a link opens it after sign-in."""
    return label.lower().replace(" ", "-")


class DashboardSession:
    """The state of one browser session, kept on the server: its ApiSession (the user's tokens) and the
    page it shows. Nothing here is sent to the browser but the widgets' contents."""

    def __init__(self, api_url: str, *, refresh_s: float = 20.0) -> None:
        self.api = ApiSession(api_url)
        self._refresh_s = refresh_s
        self._pages: dict[str, Page] = {}
        self.nav = pn.Row(css_classes=["xsell-nav"], visible=False)
        self._buttons: dict[str, pn.widgets.Button] = {}
        for label, _factory in PAGES:
            button = pn.widgets.Button(name=label, button_type="light", width=140)
            button.on_click(self._nav_handler(label))
            self._buttons[label] = button
        self.nav.objects = list(self._buttons.values())
        self.user = pn.pane.Markdown("", css_classes=["xsell-user"])
        self.sign_out = pn.widgets.Button(name="Sign out", visible=False, width=100)
        self.sign_out.on_click(self._sign_out)
        self.login = pn.Column(sizing_mode="stretch_width")
        # Every page built so far, the shown one visible: switching pages only flips visibility, and the
        # browser keeps each page's widgets (and their filters) instead of rebuilding them.
        self.content = pn.Column(sizing_mode="stretch_width")
        self.view = pn.Column(
            pn.Row(
                pn.pane.Markdown("# xsell"),
                pn.Spacer(),
                self.user,
                self.sign_out,
                sizing_mode="stretch_width",
            ),
            self.nav,
            self.login,
            self.content,
            sizing_mode="stretch_width",
        )
        self._show_login()

    def _show_login(self, notice: str = "") -> None:
        self._forget_pages()
        self.user.object = ""
        self.sign_out.visible = False
        self.nav.visible = False
        self.login.objects = [LoginPage(self.api, self._signed_in, notice).view]
        self.login.visible = True
        # The first page is built (hidden) while the user signs in, so that the browser has its widgets
        # ready and the sign-in only fills the table: most of the first render's time was building them.
        self.content.objects = []
        self._page(PAGES[0][0])

    async def _signed_in(self) -> None:
        self.login.visible = False
        self.login.objects = []
        self.user.object = f"Signed in as **{self.api.email}**"
        self.sign_out.visible = True
        self.nav.visible = True
        # A link such as /?page=customer&customer=c-1 opens that page once signed in.
        query = _query_params()
        labels = {slug(label): label for label, _factory in PAGES}
        customer_id = query.get("customer")
        if customer_id:
            await self.open_customer(customer_id)
        else:
            await self.show(labels.get(query.get("page", ""), PAGES[0][0]))

    async def show(self, label: str) -> None:
        """Show the page of this navigation label (built on first use, then kept with its filters)."""
        page = self._page(label)
        # The page's requests go out first; the widgets change while the API answers.
        loading = asyncio.ensure_future(page.load())
        await asyncio.sleep(0)
        with pn.io.hold():  # one message to the browser for all of these
            for name, button in self._buttons.items():
                button.button_type = "primary" if name == label else "light"
            for built in self._pages.values():
                built.view.visible = built is page
            customer_id = page.customer_id if isinstance(page, CustomerPage) else None
            _set_query(slug(label), customer_id)
        await loading

    async def open_customer(self, customer_id: str) -> None:
        page = self._page(_CUSTOMER)
        if isinstance(page, CustomerPage):
            page.customer_id = customer_id
        await self.show(_CUSTOMER)

    def _page(self, label: str) -> Page:
        if label not in self._pages:
            factory = dict(PAGES)[label]
            context = PageContext(
                api=self.api,
                on_session_ended=self._session_ended,
                open_customer=self.open_customer,
                refresh_s=self._refresh_s,
            )
            page = factory(context)
            page.view.visible = False  # until `show` flips the pages in one message
            self._pages[label] = page
            self.content.append(page.view)
        return self._pages[label]

    def _nav_handler(self, label: str) -> Callable[[Any], Awaitable[None]]:
        async def navigate(_event: Any) -> None:
            await self.show(label)

        return navigate

    def _forget_pages(self) -> None:
        for page in self._pages.values():
            if isinstance(page, Closable):
                page.close()
        self._pages.clear()

    async def _session_ended(self, notice: str) -> None:
        await self.api.sign_out()
        self._show_login(notice)

    async def _sign_out(self, _event: Any) -> None:
        await self.api.sign_out()
        self._show_login()

    def close(self) -> None:
        """Forget the tokens and close the HTTP client when the browser session ends."""
        self._forget_pages()
        task = asyncio.get_running_loop().create_task(self._close())
        _closing.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(_closing.discard)

    async def _close(self) -> None:
        await self.api.sign_out()
        await self.api.aclose()


def _query_params() -> dict[str, str]:
    location = pn.state.location
    if location is None:
        return {}
    return {str(k): str(v) for k, v in (location.query_params or {}).items() if v is not None}


def _set_query(page: str, customer_id: str | None) -> None:
    """Keep the address in step with the page shown (no reload), so that it can be copied as a link."""
    location = pn.state.location
    if location is None:
        return
    location.search = "?" + urlencode({"page": page} | ({"customer": customer_id} if customer_id else {}))


def _session_factory(api_url: str, refresh_s: float) -> Callable[[], pn.viewable.Viewable]:
    def create() -> pn.viewable.Viewable:
        # Loaded per session so that the JavaScript of tables and charts is on the page before sign-in.
        pn.extension("tabulator", notifications=False)
        session = DashboardSession(api_url, refresh_s=refresh_s)
        pn.state.on_session_destroyed(lambda _context: session.close())
        return session.view

    return create


def serve_dashboard(
    api_url: str, host: str, port: int, on_listening: Callable[[], None], *, refresh_s: float = 20.0
) -> None:
    """Serve the dashboard at http://host:port/ until interrupted; `on_listening` runs once the port is
    bound (browsers' connections then wait in its backlog)."""
    origins = sorted({f"{host}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"})
    mend_panel_writes()
    server = pn.serve(
        {"/": _session_factory(api_url, refresh_s)},
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
