"""The Whitespace page: industries (or top customers) x product families, each cell owned, offered or
empty, with the open offers' expected value and totals."""

from __future__ import annotations

from typing import Any

import pandas as pd
import panel as pn
from bokeh.models import ColumnDataSource, FactorRange
from bokeh.plotting import figure

from entrypoints.dashboard.api import ApiError, SessionEndedError
from entrypoints.dashboard.context import PageContext

__all__ = ["WhitespacePage", "heatmap", "totals_frame"]

_AXES = {"Industries": "industry", "Top customers": "customer"}
_OWNED = "#90caf9"
_EMPTY = "#f5f5f5"
_TOTAL = "Total"
_NOTHING = (
    "Nothing to map yet: sync an org (`xsell sync`), resolve customers (`xsell resolve`) and score them"
    " (`xsell score`); owned families and open offers then appear here."
)


def _money(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 1_000:
        return f"{value / 1_000:.1f}k"
    return f"{value:.0f}"


def _offer_colour(share: float) -> str:
    """Light to dark green as the cell's value nears the largest cell's."""
    low, high = (232, 245, 233), (27, 94, 32)
    r, g, b = (round(lo + (hi - lo) * share) for lo, hi in zip(low, high, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap(whitespace: dict[str, Any]) -> Any:
    """One square per row x family: green by offered value, blue where only owned, grey where empty;
    each says how many customers own it / are offered it and the value."""
    rows = [r["label"] for r in whitespace["rows"]]
    keys = {r["key"]: r for r in whitespace["rows"]}
    families = list(whitespace["families"])
    cells = {(c["row"], c["family_id"]): c for c in whitespace["cells"]}
    top = max((c["expected_value"] for c in whitespace["cells"]), default=0.0) or 1.0
    data: dict[str, list[Any]] = {"row": [], "family": [], "colour": [], "text": []}
    for key, row in keys.items():
        for family in families:
            cell = cells.get((key, family))
            owned = cell["owned"] if cell else 0
            offered = cell["recommended"] if cell else 0
            value = float(cell["expected_value"]) if cell else 0.0
            if offered:
                colour, text = _offer_colour(0.15 + 0.85 * value / top), f"offered {offered}\n{_money(value)}"
            elif owned:
                colour, text = _OWNED, "owned"
            else:
                colour, text = _EMPTY, "empty"
            if owned and offered:
                text = f"owned {owned}\n" + text
            elif owned and whitespace["by"] == "industry":
                text = f"owned {owned}"
            data["row"].append(row["label"])
            data["family"].append(family)
            data["colour"].append(colour)
            data["text"].append(text)
    source = ColumnDataSource(data)
    plot = figure(
        x_range=FactorRange(factors=families),
        y_range=FactorRange(factors=list(reversed(rows))),
        height=80 + 48 * max(len(rows), 1),
        width=160 + 120 * max(len(families), 1),
        title="Owned (blue), offered (green, darker = more value), empty (grey)",
        toolbar_location=None,
        tools="",
        x_axis_location="above",
    )
    plot.rect(
        x="family", y="row", width=0.95, height=0.9, fill_color="colour", line_color="white", source=source
    )
    plot.text(
        x="family",
        y="row",
        text="text",
        text_align="center",
        text_baseline="middle",
        text_font_size="9pt",
        source=source,
    )
    plot.grid.visible = False
    return plot


def totals_frame(whitespace: dict[str, Any]) -> pd.DataFrame:
    """Expected value of open offers per row and family, with a total column and a total row."""
    families = list(whitespace["families"])
    cells = {(c["row"], c["family_id"]): c for c in whitespace["cells"]}
    rows = []
    for row in whitespace["rows"]:
        line: dict[str, Any] = {"row": row["label"], "customers": row["customers"]}
        for family in families:
            cell = cells.get((row["key"], family))
            line[family] = float(cell["expected_value"]) if cell else 0.0
        line[_TOTAL] = float(row["expected_value"])
        rows.append(line)
    totals: dict[str, Any] = {"row": _TOTAL, "customers": sum(r["customers"] for r in whitespace["rows"])}
    totals |= {family: float(whitespace["family_totals"].get(family, 0.0)) for family in families}
    totals[_TOTAL] = float(whitespace["total"])
    return pd.DataFrame([*rows, totals], columns=["row", "customers", *families, _TOTAL])


class WhitespacePage:
    """Where to sell next: which families each industry (or top customer) lacks, and what offers are worth."""

    def __init__(self, context: PageContext) -> None:
        self._api = context.api
        self._on_session_ended = context.on_session_ended
        self.axis = pn.widgets.Select(name="Rows", options=_AXES, value="industry", width=160)
        self.message = pn.pane.Alert("", alert_type="warning", visible=False, css_classes=["xsell-message"])
        self.empty = pn.pane.Markdown(_NOTHING, visible=False, css_classes=["xsell-empty"])
        self.chart = pn.pane.Bokeh(None, css_classes=["xsell-heatmap"])
        self.currency = pn.pane.Markdown("", css_classes=["xsell-currency"])
        # Rebuilt with each answer: its columns are the families, which change from one answer to the next.
        self.totals = pn.Column(sizing_mode="stretch_width")
        self.axis.param.watch(self._axis_changed, "value")
        self.body = pn.Column(self.chart, self.currency, self.totals, sizing_mode="stretch_width")
        self.view = pn.Column(
            pn.pane.Markdown("## Whitespace"),
            self.axis,
            self.message,
            self.empty,
            self.body,
            sizing_mode="stretch_width",
        )

    async def load(self) -> None:
        self.message.visible = False
        self.view.loading = True
        try:
            whitespace = await self._api.whitespace(self.axis.value)
        except SessionEndedError as exc:
            await self._on_session_ended(str(exc))
            return
        except ApiError as exc:
            self.body.visible = False
            self.message.object = str(exc)
            self.message.visible = True
            return
        finally:
            self.view.loading = False
        nothing = not whitespace["rows"] or not whitespace["families"]
        self.empty.visible = nothing
        self.body.visible = not nothing
        if nothing:
            return
        self.chart.object = heatmap(whitespace)
        currency = whitespace.get("currency")
        self.currency.object = (
            f"Expected value of open offers{f' in {currency}' if currency else ''}, per row and family:"
        )
        frame = totals_frame(whitespace)
        money = [column for column in frame.columns if column not in ("row", "customers")]
        self.totals.objects = [
            pn.widgets.Tabulator(
                frame,
                disabled=True,
                show_index=False,
                titles={
                    "row": "Industry" if whitespace["by"] == "industry" else "Customer",
                    "customers": "Customers",
                },
                formatters={column: {"type": "money", "precision": 0} for column in money},
                sizing_mode="stretch_width",
                css_classes=["xsell-totals"],
            )
        ]

    async def _axis_changed(self, _event: Any) -> None:
        await self.load()
