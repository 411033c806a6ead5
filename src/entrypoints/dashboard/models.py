"""The Models page: each version's metrics beside the baselines, its calibration, the A/B arms' outcomes,
and (for admins) promote and roll back."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import pandas as pd
import panel as pn
from bokeh.models import Range1d
from bokeh.plotting import figure

from entrypoints.dashboard.api import ApiError, SessionEndedError
from entrypoints.dashboard.context import PageContext

__all__ = ["ModelsPage", "calibration_chart", "metrics_beside_baselines"]

_VERSION_COLUMNS = ("id", "stage", "created_at", "created_by")
_OUTCOME_COLUMNS = (
    "model_version_id",
    "arm",
    "recommendations",
    "accepted",
    "converted",
    "acceptance_rate",
    "conversion_rate",
    "revenue",
)
_NO_MODELS = "No model versions yet: train one with `xsell train` (or `xsell demo`)."
_NOT_ALLOWED = "The Models page is for admins and analysts; ask an admin if you need it."


def metrics_beside_baselines(metrics: dict[str, float | None]) -> pd.DataFrame:
    """One row per metric: the version's validation figure, then each baseline's (blank where unknown).
    Keys are `validation_<metric>` and `baseline_<name>_<metric>` as training registers them."""
    table: dict[str, dict[str, float | None]] = {}
    for key, value in metrics.items():
        if key.startswith("validation_"):
            column, metric = "model", key.removeprefix("validation_")
        elif key.startswith("baseline_") and "_" in key.removeprefix("baseline_"):
            column, metric = key.removeprefix("baseline_").rsplit("_", 1)
        else:
            column, metric = "model", key
        table.setdefault(metric, {})[column] = value
    columns = ["model", *sorted({c for row in table.values() for c in row} - {"model"})]
    rows = [{"metric": metric, **{c: row.get(c) for c in columns}} for metric, row in sorted(table.items())]
    return pd.DataFrame(rows, columns=["metric", *columns])


def calibration_chart(reliability: list[dict[str, Any]]) -> Any:
    """Observed purchase rate against predicted probability per bin; the diagonal is perfect calibration."""
    bins = [b for b in reliability if b.get("count") and b.get("mean_predicted") is not None]
    plot = figure(
        height=320,
        width=420,
        x_range=Range1d(start=0, end=1),
        y_range=Range1d(start=0, end=1),
        title="Calibration (validation)",
        toolbar_location=None,
        tools="",
    )
    plot.line([0, 1], [0, 1], line_dash="dashed", color="#888888", legend_label="perfect")
    plot.line(
        [b["mean_predicted"] for b in bins],
        [b["observed_rate"] for b in bins],
        color="#1565c0",
        line_width=2,
        legend_label="this version",
    )
    plot.scatter(
        [b["mean_predicted"] for b in bins], [b["observed_rate"] for b in bins], color="#1565c0", size=7
    )
    plot.xaxis.axis_label = "Predicted probability"
    plot.yaxis.axis_label = "Observed rate"
    plot.legend.location = "top_left"
    return plot


class ModelsPage:
    """Is the machine healthy: versions, metrics against baselines, calibration, A/B outcomes."""

    def __init__(self, context: PageContext) -> None:
        self._api = context.api
        self._on_session_ended = context.on_session_ended
        self._admin: bool | None = None
        self._listing: dict[str, Any] = {}
        self.message = pn.pane.Alert("", alert_type="warning", visible=False, css_classes=["xsell-message"])
        self.notice = pn.pane.Alert("", alert_type="success", visible=False, css_classes=["xsell-notice"])
        self.empty = pn.pane.Markdown("", visible=False, css_classes=["xsell-empty"])
        self.versions = pn.widgets.Tabulator(
            pd.DataFrame(columns=_VERSION_COLUMNS),
            disabled=True,
            selectable=1,
            show_index=False,
            titles={"id": "Version", "stage": "Stage", "created_at": "Created", "created_by": "By"},
            sizing_mode="stretch_width",
            css_classes=["xsell-versions"],
        )
        self.version_title = pn.pane.Markdown("", css_classes=["xsell-version-title"])
        self.metrics = pn.widgets.Tabulator(
            pd.DataFrame(), disabled=True, show_index=False, width=700, css_classes=["xsell-metrics"]
        )
        # The Bokeh pane keeps its own `visible` in step with the figure's: a Column around it is what hides.
        self.calibration_chart = pn.pane.Bokeh(None)
        self.calibration = pn.Column(self.calibration_chart, visible=False, css_classes=["xsell-calibration"])
        self.calibration_note = pn.pane.Markdown("", visible=False)
        self.policy = pn.pane.Markdown("", css_classes=["xsell-policy"])
        self.outcomes = pn.widgets.Tabulator(
            pd.DataFrame(columns=_OUTCOME_COLUMNS),
            disabled=True,
            show_index=False,
            titles={
                "model_version_id": "Version",
                "arm": "Arm",
                "recommendations": "Offers",
                "accepted": "Accepted",
                "converted": "Converted",
                "acceptance_rate": "Acceptance",
                "conversion_rate": "Conversion",
                "revenue": "Revenue",
            },
            formatters={
                "acceptance_rate": {"type": "progress", "max": 1, "legend": True},
                "conversion_rate": {"type": "progress", "max": 1, "legend": True},
            },
            sizing_mode="stretch_width",
            css_classes=["xsell-outcomes"],
        )
        self.outcomes_note = pn.pane.Markdown("", visible=False)
        self.promote = pn.widgets.Button(name="Promote to champion", button_type="primary", width=180)
        self.challenger = pn.widgets.Button(name="Make challenger", width=160)
        self.roll_back = pn.widgets.Button(name="Roll back champion", button_type="danger", width=180)
        self.admin_actions = pn.Row(
            self.promote, self.challenger, self.roll_back, visible=False, css_classes=["xsell-admin"]
        )
        self.promote.on_click(self._promote)
        self.challenger.on_click(self._make_challenger)
        self.roll_back.on_click(self._roll_back)
        self.versions.param.watch(self._selection_changed, "selection")
        self.body = pn.Column(
            pn.pane.Markdown("### Versions"),
            self.versions,
            self.admin_actions,
            self.version_title,
            pn.Row(self.metrics, pn.Column(self.calibration, self.calibration_note)),
            pn.pane.Markdown("### A/B arms"),
            self.policy,
            self.outcomes_note,
            self.outcomes,
            sizing_mode="stretch_width",
        )
        self.view = pn.Column(
            pn.pane.Markdown("## Models"),
            self.message,
            self.notice,
            self.empty,
            self.body,
            sizing_mode="stretch_width",
        )

    async def load(self) -> None:
        self.message.visible = False
        self.view.loading = True
        try:
            if self._admin is None:
                self._admin = await self._api.is_admin()
            self._listing = await self._api.models()
        except SessionEndedError as exc:
            await self._on_session_ended(str(exc))
            return
        except ApiError as exc:
            self.body.visible = False
            self._warn(_NOT_ALLOWED if "403" in str(exc) else str(exc))
            return
        finally:
            self.view.loading = False
        versions = list(self._listing["versions"])
        self.body.visible = bool(versions)
        self.empty.object = _NO_MODELS
        self.empty.visible = not versions
        self.admin_actions.visible = bool(self._admin)
        self.versions.value = pd.DataFrame(
            [{c: v.get(c) for c in _VERSION_COLUMNS} for v in versions], columns=_VERSION_COLUMNS
        )
        policy = self._listing["serving_policy"]
        self.policy.object = (
            f"The challenger scores **{float(policy['challenger_share']):.0%}** of customers"
            f" (salt `{policy['salt']}`)."
        )
        outcomes = list(self._listing.get("outcomes") or [])
        self.outcomes.value = pd.DataFrame(
            [{c: o.get(c) for c in _OUTCOME_COLUMNS} for o in outcomes], columns=_OUTCOME_COLUMNS
        )
        self.outcomes.visible = bool(outcomes)
        self.outcomes_note.object = (
            "Acceptance and conversion count every org, so only admins see them."
            if not self._admin
            else "No offers from any version yet: outcomes appear once scoring writes offers."
        )
        self.outcomes_note.visible = not outcomes
        if versions:
            serving = next((i for i, v in enumerate(versions) if v["stage"] == "champion"), 0)
            self.versions.selection = [serving]
            await self._show_version(versions[serving]["id"])

    async def _selection_changed(self, _event: Any) -> None:
        if self.versions.selection:
            await self._show_version(str(self._listing["versions"][self.versions.selection[0]]["id"]))

    async def _show_version(self, model_id: str) -> None:
        try:
            detail = await self._api.model(model_id)
        except SessionEndedError as exc:
            await self._on_session_ended(str(exc))
            return
        except ApiError as exc:
            self._warn(str(exc))
            return
        model = detail["model"]
        self.version_title.object = f"### {model['id']} ({model['stage']}): metrics beside the baselines"
        self.metrics.value = metrics_beside_baselines(model.get("metrics") or {})
        reliability = ((detail.get("details") or {}).get("validation") or {}).get("reliability") or []
        has_curve = any(b.get("count") for b in reliability)
        self.calibration_chart.object = calibration_chart(reliability) if has_curve else None
        self.calibration.visible = has_curve
        self.calibration_note.object = "No calibration curve was recorded for this version."
        self.calibration_note.visible = not has_curve
        self.promote.disabled = model["stage"] == "champion"
        self.challenger.disabled = model["stage"] != "candidate"

    def _selected_id(self) -> str | None:
        if not self.versions.selection:
            return None
        return str(self._listing["versions"][self.versions.selection[0]]["id"])

    async def _promote(self, _event: Any) -> None:
        model_id = self._selected_id()
        if model_id is not None:
            await self._change(f"{model_id} is now the champion.", self._api.promote(model_id))

    async def _make_challenger(self, _event: Any) -> None:
        model_id = self._selected_id()
        if model_id is not None:
            await self._change(
                f"{model_id} is now the challenger.", self._api.promote(model_id, challenger=True)
            )

    async def _roll_back(self, _event: Any) -> None:
        await self._change("Rolled back: the previous champion serves again.", self._api.roll_back())

    async def _change(self, done: str, change: Awaitable[dict[str, Any]]) -> None:
        self.notice.visible = self.message.visible = False
        try:
            await change
        except SessionEndedError as exc:
            await self._on_session_ended(str(exc))
            return
        except ApiError as exc:
            self._warn(str(exc))
            return
        await self.load()
        self.notice.object = done
        self.notice.visible = True

    def _warn(self, line: str) -> None:
        self.message.object = line
        self.message.visible = True
