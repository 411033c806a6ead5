"""The Match review page: pairs of accounts the resolver is unsure about, with its evidence; merge, keep
apart, and undo the last decision, all through the REST API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import panel as pn

from entrypoints.dashboard.api import ApiError, ApiSession, SessionEndedError

__all__ = ["MatchReviewPage", "describe_pair"]

PAGE_SIZE = 20
_NOTHING_TO_REVIEW = (
    "No pairs wait for review. New ones appear after the next resolution run (`xsell resolve`, or"
    " `xsell demo` for sample data); pairs in orgs you were not granted are not shown."
)


@dataclass(frozen=True, slots=True)
class _Decision:
    """What the Undo button takes back: a merge (by its change id) or a keep-apart (by its pair)."""

    kind: str
    label: str
    left: dict[str, Any]
    right: dict[str, Any]
    change_id: str | None = None


def _account(side: dict[str, Any]) -> str:
    name = side.get("name") or "(deleted account)"
    return f"**{name}** · {side['org_id']} · `{side['id']}`"


def describe_pair(item: dict[str, Any]) -> str:
    """The pair as a reviewer reads it: both accounts, how likely a match, and each field's evidence."""
    lines = [
        f"{_account(item['left'])}  \n{_account(item['right'])}",
        f"Match probability **{float(item['probability']):.0%}**",
    ]
    evidence = [
        f"{e['field']} {e['level']} ({float(e['weight']):+.1f})"
        for e in item.get("evidence", [])
        if e.get("level") != "missing"
    ]
    lines.append("Evidence: " + (", ".join(evidence) or "no comparable fields"))
    return "\n\n".join(lines)


def _label(item: dict[str, Any]) -> str:
    return " and ".join(str(item[side].get("name") or item[side]["id"]) for side in ("left", "right"))


class MatchReviewPage:
    """One card per uncertain pair with Merge and Keep apart; Undo takes back the last decision made here."""

    def __init__(self, api: ApiSession, on_session_ended: Callable[[str], Awaitable[None]]) -> None:
        self._api = api
        self._on_session_ended = on_session_ended
        self._last: _Decision | None = None
        self.pairs = pn.Column(sizing_mode="stretch_width", css_classes=["xsell-matches"])
        self.empty = pn.pane.Markdown(_NOTHING_TO_REVIEW, visible=False, css_classes=["xsell-empty"])
        self.message = pn.pane.Alert("", alert_type="warning", visible=False)
        self.done = pn.pane.Alert("", alert_type="success", visible=False)
        self.undo = pn.widgets.Button(name="Undo last decision", disabled=True, width=170)
        self.refresh = pn.widgets.Button(name="Refresh", width=100)
        self.undo.on_click(self._undo)
        self.refresh.on_click(self._refresh)
        self.view = pn.Column(
            pn.pane.Markdown("## Match review"),
            pn.pane.Markdown(
                "Accounts in different customers that may be one company. Merge them, or keep them"
                " apart for good; either way the pair leaves this list."
            ),
            pn.Row(self.undo, self.refresh),
            self.done,
            self.message,
            self.empty,
            self.pairs,
            sizing_mode="stretch_width",
        )

    async def load(self) -> None:
        """Fetch the queue and show it (a spinner over the list meanwhile)."""
        self.pairs.loading = True
        self.message.visible = False
        try:
            items = await self._api.review_queue(limit=PAGE_SIZE)
        except SessionEndedError as exc:
            await self._on_session_ended(str(exc))
            return
        except ApiError as exc:
            self._warn(str(exc))
            return
        finally:
            self.pairs.loading = False
        self.pairs.objects = [self._card(item) for item in items]
        self.empty.visible = not items

    def _card(self, item: dict[str, Any]) -> pn.viewable.Viewable:
        merge = pn.widgets.Button(name="Merge", button_type="success", width=110)
        keep = pn.widgets.Button(name="Keep apart", button_type="warning", width=110)

        async def merged(_event: Any) -> None:
            await self._decide(item, "merge")

        async def kept(_event: Any) -> None:
            await self._decide(item, "keep_apart")

        merge.on_click(merged)
        keep.on_click(kept)
        return pn.Column(
            pn.pane.Markdown(describe_pair(item)),
            pn.Row(merge, keep),
            css_classes=["xsell-match"],
            styles={"border": "1px solid #ddd", "border-radius": "6px", "padding": "4px 12px"},
            sizing_mode="stretch_width",
        )

    async def _decide(self, item: dict[str, Any], decision: str) -> None:
        self.done.visible = self.message.visible = False
        try:
            answer = await self._api.decide_match(item["left"], item["right"], decision)
        except SessionEndedError as exc:
            await self._on_session_ended(str(exc))
            return
        except ApiError as exc:
            self._warn(str(exc))
            return
        change_id = (answer.get("change") or {}).get("id")
        verb = "Merged" if decision == "merge" else "Kept apart"
        label = f"{verb} {_label(item)}"
        # A merge of accounts already in one customer changed nothing a person could take back.
        undoable = decision == "keep_apart" or change_id is not None
        self._last = _Decision(decision, label, item["left"], item["right"], change_id) if undoable else None
        self._say(f"{label}.")
        await self.load()

    async def _undo(self, _event: Any) -> None:
        last = self._last
        if last is None:
            return
        self.done.visible = self.message.visible = False
        try:
            if last.change_id is not None:
                await self._api.undo_change(last.change_id)
            elif last.kind == "keep_apart":
                await self._api.reopen_match(last.left, last.right)
        except SessionEndedError as exc:
            await self._on_session_ended(str(exc))
            return
        except ApiError as exc:
            self._warn(f"Undo failed. {exc}")
            return
        self._last = None
        self._say(f"Undone: {last.label[0].lower()}{last.label[1:]}.")
        await self.load()

    async def _refresh(self, _event: Any) -> None:
        await self.load()

    def _say(self, line: str) -> None:
        self.done.object = line
        self.done.visible = True
        self.undo.disabled = self._last is None

    def _warn(self, line: str) -> None:
        self.message.object = line
        self.message.visible = True
