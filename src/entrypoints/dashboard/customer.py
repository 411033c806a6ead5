"""The Customer page: one customer across the orgs the user may read, its history, and its open offers
with their reasons, to act on (accept, dismiss, mark converted, write back to Salesforce)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd
import panel as pn
from bokeh.models import ColumnDataSource, FactorRange
from bokeh.plotting import figure

from entrypoints.dashboard.api import ApiError, SessionEndedError, WrittenBack
from entrypoints.dashboard.context import PageContext

__all__ = ["CustomerPage", "contribution_chart", "reason_lines"]

_ACCOUNT_COLUMNS = ("org_id", "id", "name", "industry", "match_confidence", "method")
_OFFER_COLUMNS = ("family_id", "target_org_id", "probability", "expected_value", "currency", "status", "id")
_TIMELINE_COLUMNS = ("at", "org_id", "kind", "title", "detail")
_NO_CUSTOMER = "No customer open. Click a customer on the **Opportunities** page, or find one there by name."
_NO_OFFERS = (
    "No open recommendations for this customer: accepted, new ones appear here after the next scoring"
    " run (`xsell score`)."
)
_LABEL_CHARS = 60


def reason_lines(offer: dict[str, Any]) -> str:
    """The offer's reasons as sentences, strongest first, with their direction."""
    lines = []
    for reason in offer.get("reasons") or []:
        sign = "raises" if float(reason["contribution"]) >= 0 else "lowers"
        lines.append(f"- {reason['text']}. *({sign} the score by {abs(float(reason['contribution'])):.2f})*")
    return "\n".join(lines) or "The model gave no reasons for this offer."


def contribution_chart(offer: dict[str, Any]) -> Any:
    """A horizontal bar per reason: how much it pushed the score up (green) or down (red)."""
    reasons = list(reversed(offer.get("reasons") or []))  # bokeh draws the first category at the bottom
    # Numbered, strongest first: two reasons with the same words must still be two bars.
    labels = [f"{len(reasons) - i}. {_short(str(r['text']))}" for i, r in enumerate(reasons)]
    values = [float(r["contribution"]) for r in reasons]
    source = ColumnDataSource(
        {
            "label": labels,
            "value": values,
            "color": ["#2e7d32" if v >= 0 else "#c62828" for v in values],
        }
    )
    plot = figure(
        y_range=FactorRange(factors=labels),
        height=60 + 40 * max(len(labels), 1),
        width=700,
        title="Contribution to the score",
        toolbar_location=None,
        tools="",
    )
    plot.hbar(y="label", right="value", height=0.6, color="color", source=source)
    plot.xaxis.axis_label = "Contribution"
    return plot


def _short(text: str) -> str:
    return text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "…"


class CustomerPage:
    """Who the customer is in each org, what it owns and did, and what to offer it now."""

    def __init__(self, context: PageContext) -> None:
        self._api = context.api
        self._on_session_ended = context.on_session_ended
        self.customer_id: str | None = None
        self._offers: list[dict[str, Any]] = []
        self._selected: dict[str, Any] | None = None
        # One key per offer while the page shows it: a second click retries, it does not write twice.
        self._write_keys: dict[str, str] = {}
        self.title = pn.pane.Markdown("## Customer", css_classes=["xsell-customer-title"])
        self.message = pn.pane.Alert("", alert_type="warning", visible=False, css_classes=["xsell-message"])
        self.notice = pn.pane.Alert("", alert_type="success", visible=False, css_classes=["xsell-notice"])
        self.accounts = pn.widgets.Tabulator(
            pd.DataFrame(columns=_ACCOUNT_COLUMNS),
            disabled=True,
            show_index=False,
            titles={
                "org_id": "Org",
                "id": "Account id",
                "name": "Name",
                "industry": "Industry",
                "match_confidence": "Match confidence",
                "method": "Matched by",
            },
            formatters={"match_confidence": {"type": "progress", "max": 1, "legend": True}},
            sizing_mode="stretch_width",
            css_classes=["xsell-accounts"],
        )
        self.families = pn.pane.Markdown("", css_classes=["xsell-families"])
        self.timeline = pn.widgets.Tabulator(
            pd.DataFrame(columns=_TIMELINE_COLUMNS),
            disabled=True,
            show_index=False,
            titles={"at": "When", "org_id": "Org", "kind": "What", "title": "Subject", "detail": "Detail"},
            height=260,
            sizing_mode="stretch_width",
            css_classes=["xsell-timeline"],
        )
        self.timeline_note = pn.pane.Markdown("", visible=False, css_classes=["xsell-timeline-note"])
        self.offers = pn.widgets.Tabulator(
            pd.DataFrame(columns=_OFFER_COLUMNS),
            disabled=True,
            selectable=1,
            show_index=False,
            hidden_columns=["id"],
            titles={
                "family_id": "Family",
                "target_org_id": "Org",
                "probability": "Probability",
                "expected_value": "Expected value",
                "currency": "Currency",
                "status": "Status",
            },
            formatters={
                "probability": {"type": "progress", "max": 1, "legend": True},
                "expected_value": {"type": "money", "precision": 2},
            },
            sizing_mode="stretch_width",
            css_classes=["xsell-customer-offers"],
        )
        self.no_offers = pn.pane.Markdown(_NO_OFFERS, visible=False, css_classes=["xsell-empty"])
        self.offer_title = pn.pane.Markdown("", css_classes=["xsell-offer-title"])
        self.reasons = pn.pane.Markdown("", css_classes=["xsell-reasons"])
        # The Bokeh pane keeps its own `visible` in step with the figure's: a Column around it is what hides.
        self.chart_pane = pn.pane.Bokeh(None)
        self.chart = pn.Column(self.chart_pane, visible=False, css_classes=["xsell-chart"])
        self.accept = pn.widgets.Button(name="Accept", button_type="success", width=110)
        self.dismiss = pn.widgets.Button(name="Dismiss", button_type="warning", width=110)
        self.amount = pn.widgets.TextInput(name="Amount won", placeholder="e.g. 15000.00", width=140)
        self.convert = pn.widgets.Button(name="Mark converted", button_type="primary", width=140)
        self.write_back = pn.widgets.Button(name="Write back to Salesforce", width=200)
        self.accept.on_click(self._accept)
        self.dismiss.on_click(self._dismiss)
        self.convert.on_click(self._convert)
        self.write_back.on_click(self._write_back)
        self.offers.param.watch(self._selection_changed, "selection")
        self.detail = pn.Column(
            self.offer_title,
            self.reasons,
            self.chart,
            pn.Row(self.accept, self.dismiss, self.amount, self.convert, self.write_back),
            visible=False,
            sizing_mode="stretch_width",
            css_classes=["xsell-offer-detail"],
        )
        self.body = pn.Column(
            pn.pane.Markdown("### Accounts across orgs"),
            self.accounts,
            pn.pane.Markdown("### Families owned"),
            self.families,
            pn.pane.Markdown("### Timeline"),
            self.timeline_note,
            self.timeline,
            pn.pane.Markdown("### Recommendations"),
            self.no_offers,
            self.offers,
            self.detail,
            sizing_mode="stretch_width",
        )
        self.empty = pn.pane.Markdown(_NO_CUSTOMER, css_classes=["xsell-empty"])
        self.view = pn.Column(
            self.title, self.message, self.notice, self.empty, self.body, sizing_mode="stretch_width"
        )

    async def load(self) -> None:
        """Fetch the open customer (nothing to fetch when none is open)."""
        self.message.visible = self.notice.visible = False
        self.body.visible = self.customer_id is not None
        self.empty.visible = self.customer_id is None
        if self.customer_id is None:
            self.title.object = "## Customer"
            return
        self.view.loading = True
        try:
            customer = await self._api.customer(self.customer_id)
            timeline, timeline_error = await self._timeline(self.customer_id)
        except SessionEndedError as exc:
            await self._on_session_ended(str(exc))
            return
        except ApiError as exc:
            self.body.visible = False
            self._warn(str(exc))
            return
        finally:
            self.view.loading = False
        self._show(customer, timeline, timeline_error)

    async def _timeline(self, customer_id: str) -> tuple[list[dict[str, Any]], str | None]:
        """The timeline, or the reason it is missing (the rest of the page still shows)."""
        try:
            return await self._api.timeline(customer_id), None
        except SessionEndedError:
            raise
        except ApiError as exc:
            return [], str(exc)

    def _show(
        self, customer: dict[str, Any], timeline: list[dict[str, Any]], timeline_error: str | None
    ) -> None:
        self.title.object = f"## {customer['name']}  \n`{customer['id']}`"
        self.accounts.value = pd.DataFrame(
            [{c: account.get(c) for c in _ACCOUNT_COLUMNS} for account in customer["accounts"]],
            columns=_ACCOUNT_COLUMNS,
        )
        owned = customer.get("families_by_org") or {}
        self.families.object = (
            "\n".join(f"- **{org}**: {', '.join(families)}" for org, families in sorted(owned.items()))
            or "No product families owned in the orgs you may read (no won opportunity mapped to a family)."
        )
        self.timeline.value = pd.DataFrame(
            [{c: event.get(c) for c in _TIMELINE_COLUMNS} for event in timeline], columns=_TIMELINE_COLUMNS
        )
        if timeline_error is not None:
            self.timeline_note.object = f"The timeline could not be loaded. {timeline_error}"
        else:
            self.timeline_note.object = "No opportunities or activities synced for this customer yet."
        self.timeline_note.visible = timeline_error is not None or not timeline
        self.timeline.visible = bool(timeline)
        self._offers = list(customer.get("open_recommendations") or [])
        frame = pd.DataFrame(
            [{c: offer.get(c) for c in _OFFER_COLUMNS} for offer in self._offers], columns=_OFFER_COLUMNS
        )
        frame["probability"] = frame["probability"].astype(float)
        frame["expected_value"] = frame["expected_value"].astype(float)
        self.offers.value = frame
        self.offers.visible = bool(self._offers)
        self.no_offers.visible = not self._offers
        keep = self._selected["id"] if self._selected else None
        index = next((i for i, o in enumerate(self._offers) if o["id"] == keep), 0)
        self.offers.selection = [index] if self._offers else []
        self._select(self._offers[index] if self._offers else None)

    def _selection_changed(self, _event: Any) -> None:
        if self.offers.selection:
            self._select(self._offers[self.offers.selection[0]])

    def _select(self, offer: dict[str, Any] | None) -> None:
        self._selected = offer
        self.detail.visible = offer is not None
        if offer is None:
            return
        self.offer_title.object = (
            f"#### {offer['family_id']} through {offer['target_org_id']}: "
            f"{float(offer['probability']):.0%} likely, expected {float(offer['expected_value']):,.2f}"
            f" {offer['currency']} ({offer['status']})"
        )
        self.reasons.object = reason_lines(offer)
        self.chart_pane.object = contribution_chart(offer) if offer.get("reasons") else None
        self.chart.visible = bool(offer.get("reasons"))
        self.accept.disabled = self.dismiss.disabled = offer["status"] != "new"
        self.convert.disabled = offer["status"] != "accepted"

    async def _accept(self, _event: Any) -> None:
        await self._act("Accepted.", self._api.accept)

    async def _dismiss(self, _event: Any) -> None:
        await self._act("Dismissed: it is not offered again for 180 days.", self._api.dismiss)

    async def _convert(self, _event: Any) -> None:
        text = (self.amount.value_input or self.amount.value or "").strip().replace(",", "")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            amount = Decimal(0)
        if not amount.is_finite() or amount <= 0:
            self._warn("Enter the amount won (more than 0, e.g. 15000.00), then click Mark converted.")
            return

        async def convert(offer_id: str) -> dict[str, Any]:
            return await self._api.convert(offer_id, str(amount))

        await self._act(f"Marked converted for {amount:,}.", convert)
        self.amount.value = self.amount.value_input = ""

    async def _write_back(self, _event: Any) -> None:
        offer = self._selected
        if offer is None:
            return
        key = self._write_keys.setdefault(offer["id"], uuid.uuid4().hex)

        async def write(offer_id: str) -> WrittenBack:
            try:
                return await self._api.write_back(offer_id, key)
            except SessionEndedError:
                raise
            except ApiError as exc:
                raise ApiError(f"Nothing was written to Salesforce. {exc}") from None

        await self._act(_written_back, write, reload=False)

    async def _act(
        self,
        done: str | Callable[[Any], str],
        action: Callable[[str], Awaitable[Any]],
        *,
        reload: bool = True,
    ) -> None:
        """Run the action on the selected offer; `done` is the notice, or makes it from the API's answer."""
        offer = self._selected
        if offer is None:
            return
        self.message.visible = self.notice.visible = False
        try:
            answer = await action(str(offer["id"]))
        except SessionEndedError as exc:
            await self._on_session_ended(str(exc))
            return
        except ApiError as exc:
            self._warn(str(exc))
            return
        if reload:
            await self.load()
        self.notice.object = done if isinstance(done, str) else done(answer)
        self.notice.visible = True

    def _warn(self, line: str) -> None:
        self.message.object = line
        self.message.visible = True


def _written_back(answer: WrittenBack) -> str:
    """The notice for a write-back: the record it names, and whether this click wrote it or an earlier one."""
    record = f"{answer.body.get('salesforce_id')} in org {answer.body.get('org_id')}"
    if answer.replayed:
        return f"Already written back to Salesforce as a task ({record}); nothing new was written."
    return f"Written back to Salesforce as a task ({record})."
