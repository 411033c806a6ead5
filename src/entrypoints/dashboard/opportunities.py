"""The Opportunities page: the API's recommendations in a table, filtered, sorted and paged by cursor."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from typing import Any

import pandas as pd
import panel as pn

from entrypoints.dashboard.api import ApiError, ApiSession, OfferFilters, OfferPage, SessionEndedError

__all__ = ["COLUMNS", "STATUSES", "OpportunitiesPage", "offer_frame"]

PAGE_SIZE = 50
STATUSES = ("new", "accepted", "dismissed", "converted", "lost")
_ANY = "any"
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


def _names(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))


class OpportunitiesPage:
    """Who to call about what: one page of 50 offers at a time, next and previous by the API's cursor."""

    def __init__(self, api: ApiSession, on_session_ended: Callable[[str], Awaitable[None]]) -> None:
        self._api = api
        self._on_session_ended = on_session_ended
        # The cursor that opened each page seen so far; the last one is the page shown.
        self._cursors: list[str | None] = [None]
        self._next: str | None = None
        self.org = pn.widgets.TextInput(name="Org", placeholder="e.g. emea, apac", width=160)
        self.family = pn.widgets.TextInput(name="Family", placeholder="e.g. analytics", width=160)
        self.status = pn.widgets.Select(name="Status", options=[_ANY, *STATUSES], value=_ANY, width=130)
        self.min_probability = pn.widgets.FloatInput(
            name="Min probability", value=0.0, start=0.0, end=1.0, step=0.05, width=130
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
        for widget in (self.org, self.family, self.status, self.min_probability, self.sort):
            widget.param.watch(self._filters_changed, "value")
        self.previous.on_click(self._previous)
        self.next.on_click(self._next_page)
        self.accept.on_click(self._accept)
        self.dismiss.on_click(self._dismiss)
        self.table.param.watch(self._selection_changed, "selection")
        self.view = pn.Column(
            pn.pane.Markdown("## Opportunities"),
            pn.Row(self.org, self.family, self.status, self.min_probability, self.sort),
            pn.Row(self.accept, self.dismiss, self.export, self.previous, self.next, self.page_label),
            self.message,
            self.empty,
            self.table,
            sizing_mode="stretch_width",
        )

    def filters(self) -> OfferFilters:
        return OfferFilters(
            orgs=_names(self.org.value or ""),
            families=_names(self.family.value or ""),
            status=None if self.status.value == _ANY else self.status.value,
            min_probability=float(self.min_probability.value or 0.0) or None,
            sort=self.sort.value,
        )

    async def load(self) -> None:
        """Fetch the page of the current cursor and show it (a spinner over the table meanwhile)."""
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

    def _show(self, page: OfferPage) -> None:
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
        await self.load()

    async def _next_page(self, _event: Any) -> None:
        if self._next is not None:
            self._cursors.append(self._next)
            await self.load()

    async def _previous(self, _event: Any) -> None:
        if len(self._cursors) > 1:
            self._cursors.pop()
            await self.load()

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
        await self.load()  # the same page again, so the row shows its new status (or leaves the filter)

    async def _export(self) -> io.BytesIO:
        try:
            return io.BytesIO(await self._api.export_csv(self.filters()))
        except SessionEndedError as exc:
            await self._on_session_ended(str(exc))
        except ApiError as exc:
            self._warn(f"Export failed. {exc}")
        return io.BytesIO(b"")

    def _warn(self, line: str) -> None:
        self.message.object = line
        self.message.visible = True
