"""The dashboard pages' pure parts: Excel export, reasons in words, metrics beside baselines, the
whitespace totals, and the navigation list."""

from __future__ import annotations

import io
from typing import Any

import httpx
import openpyxl

from entrypoints.dashboard.api import ApiSession
from entrypoints.dashboard.app import PAGES, slug
from entrypoints.dashboard.context import PageContext
from entrypoints.dashboard.customer import contribution_chart, reason_lines
from entrypoints.dashboard.models import ModelsPage, calibration_chart, metrics_beside_baselines
from entrypoints.dashboard.opportunities import csv_to_excel
from entrypoints.dashboard.sync_health import (
    SyncHealthPage,
    budget_line,
    mismatch_line,
    run_line,
    state_line,
)
from entrypoints.dashboard.whitespace import heatmap, totals_frame

OFFER = {
    "reasons": [
        {"kind": "peer", "text": "7 similar accounts in APAC bought it", "contribution": 0.41},
        {"kind": "feature", "text": "No activity for 90 days", "contribution": -0.12},
    ]
}
WHITESPACE = {
    "by": "industry",
    "currency": "USD",
    "families": ["analytics", "crm"],
    "rows": [
        {"key": "Banking", "label": "Banking", "customers": 3, "expected_value": 1500.0},
        {"key": "Retail", "label": "Retail", "customers": 2, "expected_value": 0.0},
    ],
    "cells": [
        {
            "row": "Banking",
            "family_id": "analytics",
            "owned": 1,
            "recommended": 2,
            "empty": 0,
            "expected_value": 1500.0,
        },
        {
            "row": "Retail",
            "family_id": "crm",
            "owned": 2,
            "recommended": 0,
            "empty": 0,
            "expected_value": 0.0,
        },
    ],
    "family_totals": {"analytics": 1500.0, "crm": 0.0},
    "total": 1500.0,
}


def test_excel_export_keeps_the_csv_rows_numbers_as_numbers_and_quoted_text_as_text() -> None:
    data = (
        b"id,customer_id,probability,expected_value,status\r\n"
        b"r1,'=HYPERLINK(1),0.31,12450.00,new\r\n"
        b"r2,c-2,0.2,99.5,accepted\r\n"
    )
    sheet = openpyxl.load_workbook(io.BytesIO(csv_to_excel(data))).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows == [
        ("id", "customer_id", "probability", "expected_value", "status"),
        ("r1", "'=HYPERLINK(1)", 0.31, 12450.0, "new"),
        ("r2", "c-2", 0.2, 99.5, "accepted"),
    ]
    assert sheet["B2"].data_type == "s"  # text, never a formula


def test_reasons_read_as_sentences_with_their_direction() -> None:
    assert reason_lines(OFFER).splitlines() == [
        "- 7 similar accounts in APAC bought it. *(raises the score by 0.41)*",
        "- No activity for 90 days. *(lowers the score by 0.12)*",
    ]
    assert reason_lines({"reasons": []}) == "The model gave no reasons for this offer."
    chart = contribution_chart({"reasons": OFFER["reasons"] * 2})  # same words twice: still four bars
    assert len(chart.y_range.factors) == 4


def test_metrics_sit_beside_each_baseline() -> None:
    frame = metrics_beside_baselines(
        {
            "validation_auc": 0.88,
            "validation_map@5": 0.7,
            "baseline_family_rate_auc": 0.71,
            "baseline_family_rate_map@5": 0.5,
            "baseline_peer_auc": None,
        }
    )
    assert list(frame.columns) == ["metric", "model", "family_rate", "peer"]
    assert frame.set_index("metric").loc["auc"].tolist() == [0.88, 0.71, None]
    assert frame.set_index("metric").loc["map@5", "family_rate"] == 0.5
    bins = [{"mean_predicted": 0.1, "observed_rate": 0.12, "count": 40}, {"mean_predicted": None, "count": 0}]
    assert calibration_chart(bins).title.text == "Calibration (validation)"


def test_whitespace_totals_add_a_total_row_and_column_and_every_cell_is_drawn() -> None:
    frame = totals_frame(WHITESPACE)
    assert frame.to_dict("records") == [
        {"row": "Banking", "customers": 3, "analytics": 1500.0, "crm": 0.0, "Total": 1500.0},
        {"row": "Retail", "customers": 2, "analytics": 0.0, "crm": 0.0, "Total": 0.0},
        {"row": "Total", "customers": 5, "analytics": 1500.0, "crm": 0.0, "Total": 1500.0},
    ]
    texts = heatmap(WHITESPACE).renderers[1].data_source.data["text"]
    assert texts == ["owned 1\noffered 2\n1.5k", "empty", "empty", "owned 2"]


def test_each_page_has_a_distinct_address() -> None:
    labels = [label for label, _page in PAGES]
    assert labels[0] == "Opportunities"
    assert len({slug(label) for label in labels}) == len(labels)
    assert slug("Match review") == "match-review"


def _models_api(role: str) -> Any:
    """A scripted API for the Models page: /users answers admins only, /models admins and analysts."""

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/v1/auth/login":
            return httpx.Response(200, json={"access_token": "a", "token_type": "Bearer", "expires_in": 900})
        if path == "/api/v1/users":
            return (
                httpx.Response(200, json=[]) if role == "admin" else httpx.Response(403, json={"status": 403})
            )
        if role == "sales":
            return httpx.Response(403, json={"status": 403, "detail": "admin or analyst only"})
        if path == "/api/v1/models":
            version = {"id": "m-1", "stage": "champion", "created_at": "2026-03-01", "created_by": "ana"}
            return httpx.Response(
                200,
                json={
                    "versions": [version],
                    "serving_policy": {"challenger_share": 0.2, "salt": "ab"},
                    "outcomes": [],
                },
            )
        model = {
            "id": "m-1",
            "stage": "champion",
            "metrics": {"validation_auc": 0.8, "baseline_peer_auc": 0.7},
        }
        bins = [{"mean_predicted": 0.2, "observed_rate": 0.25, "count": 10}]
        return httpx.Response(200, json={"model": model, "details": {"validation": {"reliability": bins}}})

    return answer


async def _models_page(role: str) -> ModelsPage:
    api = ApiSession("http://api.test", transport=httpx.MockTransport(_models_api(role)))
    await api.sign_in("ana@example.com", "pw")

    async def nothing(*_args: Any) -> None:
        return None

    page = ModelsPage(PageContext(api=api, on_session_ended=nothing, open_customer=nothing))
    await page.load()
    return page


async def test_models_page_offers_changes_to_admins_only_and_explains_a_refusal() -> None:
    admin = await _models_page("admin")
    assert admin.admin_actions.visible and admin.body.visible
    assert admin.metrics.value.to_dict("records") == [{"metric": "auc", "model": 0.8, "peer": 0.7}]
    assert admin.calibration.visible
    assert "The challenger scores **20%** of customers" in admin.policy.object

    analyst = await _models_page("analyst")
    assert analyst.body.visible and not analyst.admin_actions.visible
    assert "only admins see them" in analyst.outcomes_note.object

    sales = await _models_page("sales")
    assert not sales.body.visible
    assert sales.message.visible and sales.message.object.startswith(
        "The Models page is for admins and analysts"
    )


ORG = {
    "id": "emea",
    "name": "Acme EMEA",
    "kind": "salesforce",
    "sync_state": "paused",
    "sync_reason": "API budget share 80% reached",
    "api_used": 12_000,
    "api_max": 15_000,
    "last_run_status": "partial",
    "last_run_started_at": "2026-03-02T06:00:00Z",
    "last_run_finished_at": "2026-03-02T06:02:05Z",
}
RUN = {
    "id": "5b1f0c1e-0000-4000-8000-000000000001",
    "trigger": "schedule",
    "full": False,
    "status": "partial",
    "status_reason": None,
    "started_at": "2026-03-02T06:00:00Z",
    "finished_at": "2026-03-02T06:02:05Z",
    "counts": {"Account": {"upserted": 1200, "deleted": 4}, "Opportunity": {"upserted": 30, "deleted": 0}},
    "errors": [{"object": "Opportunity", "code": "INVALID_FIELD", "message": "re-described"}],
    "api_used": 12_000,
    "api_max": 15_000,
    "reconciliation_mismatches": [],
}


def test_sync_health_lines_say_when_how_much_and_what_state() -> None:
    assert run_line(RUN) == (
        "Last run (incremental, schedule): started 2026-03-02 06:00 UTC, **partial**; 1,234 records in"
        " 2 min 5 s."
    )
    assert run_line(None).startswith("Never synced")
    assert budget_line(ORG, RUN) == "API budget: 12,000 of 15,000 requests today (80.0% used)."
    assert budget_line({**ORG, "api_used": 0, "api_max": 0}, None) == (
        "API budget: this org has no daily API limit."
    )
    assert state_line(ORG) == (
        "Paused: API budget: API budget share 80% reached. The next run resumes.",
        "warning",
    )
    assert state_line({"sync_state": "attention", "sync_reason": "login refused"}) == (
        "Needs attention: login refused.",
        "danger",
    )
    assert state_line({"sync_state": "idle"}) == ("OK.", "success")
    mismatch = {"sobject": "Account", "xsell_count": 1204, "crm_count": 1206}
    assert mismatch_line([mismatch]) == (
        "After the run these counts differed from the org's: Account (xsell 1,204, org 1,206)."
    )


def _sync_api(role: str, orgs: list[dict[str, Any]]) -> Any:
    """A scripted API for the Sync health page: reconciliation and sync answer admins and analysts only."""

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/v1/auth/login":
            return httpx.Response(200, json={"access_token": "a", "token_type": "Bearer", "expires_in": 900})
        if path == "/api/v1/orgs":
            return httpx.Response(200, json=orgs)
        if path == "/api/v1/orgs/emea/sync-runs":
            return httpx.Response(200, json=[RUN])
        if role == "sales":
            return httpx.Response(403, json={"status": 403, "detail": "admin or analyst only"})
        if path == "/api/v1/orgs/emea/reconciliation":
            objects = [
                {"sobject": "Account", "xsell_count": 1200, "crm_count": 1200, "difference": 0},
                {"sobject": "Opportunity", "xsell_count": 30, "crm_count": 32, "difference": -2},
            ]
            return httpx.Response(200, json={"org_id": "emea", "in_step": False, "objects": objects})
        return httpx.Response(202, json={"id": "job-1", "kind": "sync", "status": "queued"})

    return answer


async def _sync_page(role: str, orgs: list[dict[str, Any]]) -> SyncHealthPage:
    api = ApiSession("http://api.test", transport=httpx.MockTransport(_sync_api(role, orgs)))
    await api.sign_in("ana@example.com", "pw")

    async def nothing(*_args: Any) -> None:
        return None

    page = SyncHealthPage(PageContext(api=api, on_session_ended=nothing, open_customer=nothing))
    await page.load()
    return page


async def test_sync_health_shows_each_org_and_its_actions() -> None:
    page = await _sync_page("analyst", [ORG])
    card = page.cards["emea"]
    assert not page.empty.visible
    assert "1,234 records" in card.run.object and "80.0% used" in card.budget.object
    assert card.badge == "warning" and card.state.object.startswith("Paused: API budget")
    assert card.after_run.object == "After the run: every object's count matched the org's."
    assert card.errors.visible and "Opportunity: `INVALID_FIELD` re-described" in card.errors.object

    await card._check(None)
    assert card.result.visible
    assert (
        "**Out of step**" in card.result.object
        and "| Opportunity | 30 | 32 | no (-2) |" in card.result.object
    )
    await card._sync(None)
    assert card.job.visible and "job `job-1` is queued" in card.job.object


async def test_sync_health_explains_refusals_and_an_empty_list() -> None:
    sales = await _sync_page("sales", [ORG])
    card = sales.cards["emea"]
    await card._check(None)
    assert card.line.visible and card.line.object.startswith("Reconciliation is for admins and analysts")
    await card._sync(None)
    assert card.line.object.startswith("Syncing on demand is for admins and analysts")
    assert not card.job.visible

    empty = await _sync_page("admin", [])
    assert empty.empty.visible and "xsell orgs add" in empty.empty.object
    assert empty.orgs.objects == []
