"""The Opportunities page: the API's recommendations in a table, filtered, sorted and paged by cursor."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import panel as pn

from entrypoints.dashboard.api import ApiError, OfferFilters, OfferPage, SessionEndedError
from entrypoints.dashboard.context import PageContext

__all__ = ["COLUMNS", "STATUSES", "OpportunitiesPage", "csv_to_excel", "offer_frame"]

PAGE_SIZE = 50
STATUSES = ("new", "accepted", "dismissed", "converted", "lost")
ARMS = ("champion", "challenger")
_ANY = "any"
_NUMBERS = ("probability", "expected_value")
_SORTS = {"Expected value": "expected_value", "Probability": "probability"}
# Shown columns in order; `id` is kept (hidden) to act on the selected row.
COLUMNS = (
    "customer_id",
    "family_id",
    "target_org_id",
    "probability",
    "expected_value",
    "currency",
    "status",
    "arm",
    "id",
)
_TITLES = {
    "customer_id": "Customer",
    "family_id": "Family",
    "target_org_id": "Org",
    "probability": "Probability",
    "expected_value": "Expected value",
    "currency": "Currency",
    "status": "Status",
    "arm": "Arm",
}
_NOTHING_YET = "No recommendations yet: run `xsell score` (or `xsell demo`) to write some."
_NOTHING_MATCHES = "No recommendations match these filters: clear or widen a filter."


def offer_frame(items: list[dict[str, Any]]) -> pd.DataFrame:
    """The table's rows: one per offer, the API's fields that the table shows (numbers as numbers)."""
    frame = pd.DataFrame(
        [{column: item.get(column) for column in COLUMNS} for item in items], columns=COLUMNS
    )
    frame["probability"] = frame["probability"].astype(float)
    frame["expected_value"] = frame["expected_value"].astype(float)
    return frame


def csv_to_excel(data: bytes) -> bytes:
    """The API's CSV export as an Excel workbook: the same rows and columns, numbers as numbers."""
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    for column in _NUMBERS:
        if column in frame:
            frame[column] = pd.to_numeric(frame[column])
    out = io.BytesIO()
    # Cells the API quoted against formulas (a leading ') stay text: openpyxl writes strings as strings.
    frame.to_excel(out, index=False, sheet_name="Recommendations", engine="openpyxl")
    return out.getvalue()


def _names(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))


class OpportunitiesPage:
    """Who to call about what: one page of 50 offers at a time, next and previous by the API's cursor."""

    def __init__(self, context: PageContext) -> None:
        self._api = context.api
        self._on_session_ended = context.on_session_ended
        self._open_customer = context.open_customer
        self._refresh_s = context.refresh_s
        self._poll: Any = None
        self._latest: tuple[str, str] | None = None
        # The cursor that opened each page seen so far; the last one is the page shown.
        self._cursors: list[str | None] = [None]
        self._next: str | None = None
        self.org = pn.widgets.TextInput(name="Org", placeholder="e.g. emea, apac", width=140)
        self.family = pn.widgets.TextInput(name="Family", placeholder="e.g. analytics", width=140)
        self.industry = pn.widgets.TextInput(name="Industry", placeholder="e.g. Retail", width=140)
        self.status = pn.widgets.Select(name="Status", options=[_ANY, *STATUSES], value=_ANY, width=110)
        self.arm = pn.widgets.Select(name="Arm", options=[_ANY, *ARMS], value=_ANY, width=110)
        self.min_probability = pn.widgets.FloatInput(
            name="Min probability", value=0.0, start=0.0, end=1.0, step=0.05, width=120
        )
        self.min_value = pn.widgets.FloatInput(name="Min value", value=0.0, start=0.0, step=100.0, width=120)
        self.search = pn.widgets.TextInput(
            name="Find a customer", placeholder="Customer name, then Enter", width=220
        )
        self.found = pn.widgets.Tabulator(
            pd.DataFrame(columns=["name", "org_ids", "id"]),
            disabled=True,
            show_index=False,
            hidden_columns=["id"],
            titles={"name": "Customer", "org_ids": "Orgs"},
            visible=False,
            height=160,
            sizing_mode="stretch_width",
            css_classes=["xsell-found"],
        )
        self.sort = pn.widgets.Select(name="Sort by", options=_SORTS, value="expected_value", width=150)
        self.table = pn.widgets.Tabulator(
            offer_frame([]),
            disabled=True,
            selectable=1,
            show_index=False,
            hidden_columns=["id"],
            titles=_TITLES,
            formatters={
                "probability": {"type": "progress", "max": 1, "legend": True},
                "expected_value": {"type": "money", "precision": 2},
            },
            # A header click would sort only the 50 rows shown: the API sorts (the "Sort by" choice).
            configuration={"columnDefaults": {"headerSort": False}},
            sizing_mode="stretch_width",
            css_classes=["xsell-offers"],
        )
        self.empty = pn.pane.Markdown("", visible=False, css_classes=["xsell-empty"])
        self.message = pn.pane.Alert("", alert_type="warning", visible=False)
        self.previous = pn.widgets.Button(name="Previous", disabled=True, width=100)
        self.next = pn.widgets.Button(name="Next", disabled=True, width=100)
        self.page_label = pn.pane.Markdown("Page 1", css_classes=["xsell-page"])
        self.accept = pn.widgets.Button(name="Accept", button_type="success", disabled=True, width=100)
        self.dismiss = pn.widgets.Button(name="Dismiss", button_type="warning", disabled=True, width=100)
        self.export = pn.widgets.FileDownload(
            callback=self._export, filename="recommendations.csv", label="Export CSV", width=130
        )
        self.export_excel = pn.widgets.FileDownload(
            callback=self._export_excel, filename="recommendations.xlsx", label="Export Excel", width=130
        )
        self.refreshed = pn.pane.Markdown("", css_classes=["xsell-refreshed"])
        filters = (
            self.org,
            self.family,
            self.industry,
            self.status,
            self.arm,
            self.min_probability,
            self.min_value,
            self.sort,
        )
        for widget in filters:
            widget.param.watch(self._filters_changed, "value")
        self.search.param.watch(self._search, "value")
        # Panel runs coroutine callbacks on the session's loop; its annotation names plain functions only.
        self.found.on_click(self._found_clicked)  # type: ignore[arg-type]
        self.table.on_click(self._customer_clicked, column="customer_id")  # type: ignore[arg-type]
        self.previous.on_click(self._previous)
        self.next.on_click(self._next_page)
        self.accept.on_click(self._accept)
        self.dismiss.on_click(self._dismiss)
        self.table.param.watch(self._selection_changed, "selection")
        self.view = pn.Column(
            pn.pane.Markdown("## Opportunities"),
            pn.pane.Markdown(
                "Click a customer to open it; click elsewhere in a row to select it for Accept or Dismiss."
            ),
            pn.Row(*filters),
            pn.Row(self.search),
            self.found,
            pn.Row(
                self.accept,
                self.dismiss,
                self.export,
                self.export_excel,
                self.previous,
                self.next,
                self.page_label,
                self.refreshed,
            ),
            self.message,
            self.empty,
            self.table,
            sizing_mode="stretch_width",
        )

    def filters(self) -> OfferFilters:
        return OfferFilters(
            orgs=_names(self.org.value or ""),
            families=_names(self.family.value or ""),
            industry=(self.industry.value or "").strip() or None,
            status=None if self.status.value == _ANY else self.status.value,
            min_probability=float(self.min_probability.value or 0.0) or None,
            min_value=float(self.min_value.value or 0.0) or None,
            arm=None if self.arm.value == _ANY else self.arm.value,
            sort=self.sort.value,
        )

    async def load(self) -> None:
        """Fetch the page of the current cursor and show it (a spinner over the table meanwhile); from
        then on, look for new scores every `refresh_s` seconds."""
        if self._poll is None and pn.state.curdoc is not None:
            # Panel runs a coroutine function as the callback; its annotation names plain functions only.
            self._poll = pn.state.add_periodic_callback(
                self._check_new_scores,  # type: ignore[arg-type]
                period=int(self._refresh_s * 1000),
            )
        await self._fetch()

    def close(self) -> None:
        """Stop looking for new scores (sign-out, or the browser tab closed)."""
        if self._poll is not None:
            self._poll.stop()
            self._poll = None

    async def _check_new_scores(self) -> None:
        """Reload the shown page only when the best offer changed (a scoring run landed); the API caches
        this one-row answer, so the poll costs next to nothing."""
        try:
            latest = await self._api.latest_offer()
        except ApiError:
            return  # the next poll tries again; a session that ended shows at the next click
        marker = None if latest is None else (str(latest["id"]), str(latest["created_at"]))
        if marker == self._latest:
            return
        first = self._latest is None and marker is not None
        self._latest = marker
        if first:
            return
        await self._fetch()
        self.refreshed.object = f"New scores loaded at {datetime.now(UTC):%H:%M:%S} UTC"

    async def _fetch(self) -> None:
        self.table.loading = True
        self.message.visible = False
        try:
            page = await self._api.offers(self.filters(), limit=PAGE_SIZE, cursor=self._cursors[-1])
        except SessionEndedError as exc:
            await self._on_session_ended(str(exc))
            return
        except ApiError as exc:
            self._warn(str(exc))
            return
        finally:
            self.table.loading = False
        self._show(page)
        if (
            len(self._cursors) == 1
            and not self.filters().narrowed
            and self.filters().sort == "expected_value"
        ):
            first = page.items[0] if page.items else None
            self._latest = None if first is None else (str(first["id"]), str(first["created_at"]))

    def _show(self, page: OfferPage) -> None:
        with pn.io.hold():  # the rows, buttons and labels reach the browser in one message
            self._fill(page)

    def _fill(self, page: OfferPage) -> None:
        self._next = page.next_cursor
        self.table.value = offer_frame(page.items)
        self.table.selection = []
        self.empty.object = _NOTHING_MATCHES if self.filters().narrowed else _NOTHING_YET
        self.empty.visible = not page.items
        self.previous.disabled = len(self._cursors) == 1
        self.next.disabled = page.next_cursor is None
        self.page_label.object = f"Page {len(self._cursors)}"

    async def _filters_changed(self, _event: Any) -> None:
        self._cursors = [None]
        await self._fetch()

    async def _next_page(self, _event: Any) -> None:
        if self._next is not None:
            self._cursors.append(self._next)
            await self._fetch()

    async def _previous(self, _event: Any) -> None:
        if len(self._cursors) > 1:
            self._cursors.pop()
            await self._fetch()

    async def _customer_clicked(self, event: Any) -> None:
        if event.row is None:
            return
        await self._open_customer(str(self.table.value.iloc[event.row]["customer_id"]))

    async def _search(self, _event: Any) -> None:
        text = (self.search.value or "").strip()
        if not text:
            self.found.visible = False
            return
        try:
            found = await self._api.customers(text, limit=20)
        except SessionEndedError as exc:
            await self._on_session_ended(str(exc))
            return
        except ApiError as exc:
            self._warn(str(exc))
            return
        if not found:
            self._warn(f"No customer's name contains {text!r}: try part of the name, or another spelling.")
            self.found.visible = False
            return
        self.message.visible = False
        self.found.value = pd.DataFrame(
            [{"name": c["name"], "org_ids": ", ".join(c["org_ids"]), "id": c["id"]} for c in found],
            columns=["name", "org_ids", "id"],
        )
        self.found.visible = True

    async def _found_clicked(self, event: Any) -> None:
        if event.row is not None:
            await self._open_customer(str(self.found.value.iloc[event.row]["id"]))

    def _selection_changed(self, _event: Any) -> None:
        self.accept.disabled = self.dismiss.disabled = not self.table.selection

    def _selected_id(self) -> str | None:
        if not self.table.selection:
            return None
        return str(self.table.value.iloc[self.table.selection[0]]["id"])

    async def _accept(self, _event: Any) -> None:
        await self._decide(self._api.accept)

    async def _dismiss(self, _event: Any) -> None:
        await self._decide(self._api.dismiss)

    async def _decide(self, decide: Callable[[str], Awaitable[dict[str, Any]]]) -> None:
        offer_id = self._selected_id()
        if offer_id is None:
            return
        try:
            await decide(offer_id)
        except SessionEndedError as exc:
            await self._on_session_ended(str(exc))
            return
        except ApiError as exc:
            self._warn(str(exc))
            return
        await self._fetch()  # the same page again, so the row shows its new status (or leaves the filter)

    async def _export(self) -> io.BytesIO:
        try:
            return io.BytesIO(await self._api.export_csv(self.filters()))
        except SessionEndedError as exc:
            await self._on_session_ended(str(exc))
        except ApiError as exc:
            self._warn(f"Export failed. {exc}")
        return io.BytesIO(b"")

    async def _export_excel(self) -> io.BytesIO:
        try:
            return io.BytesIO(csv_to_excel(await self._api.export_csv(self.filters())))
        except SessionEndedError as exc:
            await self._on_session_ended(str(exc))
        except ApiError as exc:
            self._warn(f"Export failed. {exc}")
        return io.BytesIO(b"")

    def _warn(self, line: str) -> None:
        self.message.object = line
        self.message.visible = True
