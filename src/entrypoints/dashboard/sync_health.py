"""The Sync health page: per org its last sync run, today's API budget, the run's errors and the org's
state; a live reconciliation against the CRM and "Sync now" on demand."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import panel as pn

from entrypoints.dashboard.api import ApiError, ApiSession, SessionEndedError
from entrypoints.dashboard.context import PageContext

__all__ = [
    "OrgCard",
    "SyncHealthPage",
    "budget_line",
    "error_line",
    "reconciliation_table",
    "run_line",
    "state_line",
]

Badge = Literal["success", "info", "warning", "danger"]
# Background and text colour of the state line per badge.
_BADGE_COLOURS: dict[str, tuple[str, str]] = {
    "success": ("#e8f5e9", "#1b5e20"),
    "info": ("#e3f2fd", "#0d47a1"),
    "warning": ("#fff8e1", "#8a5300"),
    "danger": ("#ffebee", "#b71c1c"),
}
_NO_ORGS = "No orgs yet: add one with `xsell orgs add`, then sync it with `xsell sync`."
_NEVER_SYNCED = "Never synced: press **Sync now**, or wait for its schedule."
_FORBIDDEN = "403"
_NOT_ALLOWED_SYNC = "Syncing on demand is for admins and analysts; ask one of them."
_NOT_ALLOWED_CHECK = "Reconciliation is for admins and analysts; ask one of them."


def _when(value: str | None) -> str:
    if not value:
        return "-"
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M UTC")


def _duration(started: str | None, finished: str | None) -> str:
    if not started or not finished:
        return "still running"
    seconds = int((datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def run_line(run: dict[str, Any] | None) -> str:
    """The last run in one sentence: when, how it ended, how many records it wrote, how long it took."""
    if run is None:
        return _NEVER_SYNCED
    records = sum(int(n) for counts in (run.get("counts") or {}).values() for n in counts.values())
    kind = "full" if run.get("full") else "incremental"
    reason = f" ({run['status_reason']})" if run.get("status_reason") else ""
    return (
        f"Last run ({kind}, {run.get('trigger', '-')}): started {_when(run.get('started_at'))},"
        f" **{run.get('status', '-')}**{reason}; {records:,} records in"
        f" {_duration(run.get('started_at'), run.get('finished_at'))}."
    )


def budget_line(org: dict[str, Any], run: dict[str, Any] | None) -> str:
    """Today's API requests against the org's daily limit (as the org last reported them)."""
    used, limit = org.get("api_used"), org.get("api_max")
    if used is None and run is not None:
        used, limit = run.get("api_used"), run.get("api_max")
    if used is None:
        return "API budget: not reported yet."
    if not limit:
        return "API budget: this org has no daily API limit."
    return f"API budget: {int(used):,} of {int(limit):,} requests today ({int(used) / int(limit):.1%} used)."


def state_line(org: dict[str, Any]) -> tuple[str, Badge]:
    """The org's state for a person (ok / paused / needs attention) and the colour of its badge."""
    state, reason = org.get("sync_state"), org.get("sync_reason")
    why = f": {reason}" if reason else ""
    if state == "paused":
        return f"Paused: API budget{why}. The next run resumes.", "warning"
    if state == "parked":
        return f"Paused: Salesforce API limit reached{why}. The next run tries again.", "warning"
    if state == "attention":
        return f"Needs attention{why}.", "danger"
    if state == "running":
        return "OK: syncing now.", "info"
    return "OK.", "success"


def mismatch_line(mismatches: list[dict[str, Any]]) -> str:
    """What the count check right after the run found (the run stores only the objects that differed)."""
    if not mismatches:
        return "After the run: every object's count matched the org's."
    objects = ", ".join(
        f"{m['sobject']} (xsell {int(m['xsell_count']):,}, org {int(m['crm_count']):,})" for m in mismatches
    )
    return f"After the run these counts differed from the org's: {objects}."


def reconciliation_table(result: dict[str, Any]) -> str:
    """Per object: xsell's count, the org's count, and whether they match (Markdown)."""
    lines = [
        "| Object | xsell | Org | Match |",
        "|---|---:|---:|---|",
    ]
    for row in result.get("objects") or []:
        difference = int(row["difference"])
        match = "yes" if difference == 0 else f"no ({difference:+,})"
        lines.append(
            f"| {row['sobject']} | {int(row['xsell_count']):,} | {int(row['crm_count']):,} | {match} |"
        )
    checked = [row["checked_at"] for row in result.get("objects") or [] if row.get("checked_at")]
    when = f" (counted {_when(max(checked))})" if checked else ""
    verdict = (
        f"**In step**{when}: every object's counts match."
        if result.get("in_step")
        else f"**Out of step**{when}: records changed in the org since the last sync show as differences"
        " until the next sync brings them."
    )
    return verdict + "\n\n" + "\n".join(lines)


def error_line(error: dict[str, Any]) -> str:
    """One error of a run as a list item: the object it hit (if any), its code and message."""
    where = f"{error['object']}: " if error.get("object") else ""
    code = f"`{error['code']}` " if error.get("code") else ""
    return f"- {where}{code}{error.get('message') or ''}".rstrip()


class OrgCard:
    """One org: its state, last run, budget and errors, and its two actions."""

    def __init__(self, api: ApiSession, page: SyncHealthPage, org: dict[str, Any]) -> None:
        self._api, self._page, self.org_id = api, page, str(org["id"])
        self.badge: Badge = "success"
        self.state = pn.pane.Markdown("", css_classes=["xsell-sync-state"], margin=(0, 10))
        self.run = pn.pane.Markdown("", css_classes=["xsell-sync-run"])
        self.budget = pn.pane.Markdown("", css_classes=["xsell-sync-budget"])
        self.errors = pn.pane.Markdown("", visible=False, css_classes=["xsell-sync-errors"])
        self.after_run = pn.pane.Markdown("", visible=False, css_classes=["xsell-sync-after-run"])
        self.check = pn.widgets.Button(name="Check reconciliation", width=190)
        self.sync = pn.widgets.Button(name="Sync now", button_type="primary", width=120)
        self.result = pn.pane.Markdown("", visible=False, css_classes=["xsell-reconciliation"])
        self.line = pn.pane.Alert("", alert_type="warning", visible=False, css_classes=["xsell-org-message"])
        self.job = pn.pane.Alert("", alert_type="success", visible=False, css_classes=["xsell-sync-job"])
        self.check.on_click(self._check)
        self.sync.on_click(self._sync)
        self.view = pn.Column(
            pn.pane.Markdown(f"### {org['name']} (`{self.org_id}`, {org.get('kind', '-')})"),
            self.state,
            self.run,
            self.budget,
            self.after_run,
            self.errors,
            pn.Row(self.check, self.sync),
            self.line,
            self.job,
            self.result,
            sizing_mode="stretch_width",
            css_classes=["xsell-org"],
            styles={"border": "1px solid #ddd", "border-radius": "6px", "padding": "8px"},
        )

    def show(self, org: dict[str, Any], run: dict[str, Any] | None) -> None:
        self.state.object, self.badge = state_line(org)
        background, colour = _BADGE_COLOURS[self.badge]
        self.state.styles = {
            "background": background,
            "color": colour,
            "padding": "0 10px",
            "border-radius": "4px",
        }
        self.run.object = run_line(run)
        self.budget.object = budget_line(org, run)
        errors = list((run or {}).get("errors") or [])
        self.errors.object = "**Errors of the last run:**\n\n" + "\n".join(map(error_line, errors))
        self.errors.visible = bool(errors)
        mismatches = list((run or {}).get("reconciliation_mismatches") or [])
        self.after_run.object = mismatch_line(mismatches) if run else ""
        self.after_run.visible = run is not None and run.get("status") != "running"

    async def _check(self, _event: Any) -> None:
        self.line.visible = self.result.visible = False
        self.check.disabled, self.check.name = True, "Counting…"
        try:
            result = await self._api.reconciliation(self.org_id)
        except SessionEndedError as exc:
            await self._page.session_ended(str(exc))
            return
        except ApiError as exc:
            self._warn(_NOT_ALLOWED_CHECK if _FORBIDDEN in str(exc) else str(exc))
            return
        finally:
            self.check.disabled, self.check.name = False, "Check reconciliation"
        self.result.object = reconciliation_table(result)
        self.result.visible = True

    async def _sync(self, _event: Any) -> None:
        self.line.visible = self.job.visible = False
        self.sync.disabled = True
        try:
            job = await self._api.sync_now(self.org_id)
        except SessionEndedError as exc:
            await self._page.session_ended(str(exc))
            return
        except ApiError as exc:
            self._warn(_NOT_ALLOWED_SYNC if _FORBIDDEN in str(exc) else str(exc))
            return
        finally:
            self.sync.disabled = False
        self.job.object = (
            f"Sync queued: job `{job.get('id')}` is {job.get('status')}. Reload this page to see its run."
        )
        self.job.visible = True

    def _warn(self, line: str) -> None:
        self.line.object = line
        self.line.visible = True


class SyncHealthPage:
    """Is every org's sync healthy: one card per org the user may read."""

    def __init__(self, context: PageContext) -> None:
        self._api = context.api
        self._on_session_ended = context.on_session_ended
        self.cards: dict[str, OrgCard] = {}
        self.message = pn.pane.Alert("", alert_type="warning", visible=False, css_classes=["xsell-message"])
        self.empty = pn.pane.Markdown(_NO_ORGS, visible=False, css_classes=["xsell-empty"])
        self.reload = pn.widgets.Button(name="Reload", width=100)
        self.reload.on_click(self._reload)
        self.orgs = pn.Column(sizing_mode="stretch_width", css_classes=["xsell-orgs"])
        self.view = pn.Column(
            pn.pane.Markdown("## Sync health"),
            pn.pane.Markdown(
                "Each org's last sync, today's share of its API budget, and any errors. *Check"
                " reconciliation* counts every object in the org and in xsell now (one API call each)."
            ),
            self.reload,
            self.message,
            self.empty,
            self.orgs,
            sizing_mode="stretch_width",
        )

    async def load(self) -> None:
        self.message.visible = False
        self.orgs.loading = True
        try:
            orgs = await self._api.orgs()
            # One after the other: concurrent requests could each try to renew the same refresh token.
            runs = {str(org["id"]): await self._last_run(org) for org in orgs}
        except SessionEndedError as exc:
            await self.session_ended(str(exc))
            return
        except ApiError as exc:
            self.message.object = str(exc)
            self.message.visible = True
            return
        finally:
            self.orgs.loading = False
        self.empty.visible = not orgs
        cards = []
        for org in orgs:
            card = self.cards.get(str(org["id"])) or OrgCard(self._api, self, org)
            card.show(org, runs[card.org_id])
            cards.append(card)
        self.cards = {card.org_id: card for card in cards}
        self.orgs.objects = [card.view for card in cards]

    async def session_ended(self, line: str) -> None:
        await self._on_session_ended(line)

    async def _last_run(self, org: dict[str, Any]) -> dict[str, Any] | None:
        if org.get("last_run_started_at") is None:
            return None  # never synced: no need to ask
        runs = await self._api.sync_runs(str(org["id"]), limit=1)
        return runs[0] if runs else None

    async def _reload(self, _event: Any) -> None:
        await self.load()
