"""Prometheus config, alert rules and Grafana dashboards: valid, tested, and true to the metrics contract."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
PROMETHEUS = DEPLOY / "prometheus"
GRAFANA = DEPLOY / "grafana"
HERE = Path(__file__).resolve().parent
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))

# The metrics the code exports (docs/operations.md, "Metrics"), with their types.
CONTRACT = {
    "xsell_http_request_duration_seconds": "histogram",
    "xsell_sync_records_total": "counter",
    "xsell_sync_runs_total": "counter",
    "xsell_sync_api_budget_used_ratio": "gauge",
    "xsell_jobs_queue_depth": "gauge",
    "xsell_job_duration_seconds": "histogram",
    "xsell_job_retries_total": "counter",
    "xsell_jobs_dead_letters_total": "counter",
    "xsell_model_in_service": "gauge",
    "xsell_score_probability": "histogram",
    "xsell_recommendation_feedback_total": "counter",
    "xsell_cache_requests_total": "counter",
}
_HISTOGRAM_SERIES = ("_bucket", "_count", "_sum")
_PROMQL_WORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "and",
    "or",
    "unless",
}
_PROMQL_WORDS |= {"offset", "inf", "nan", "atan2"}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (label names, functions and keywords left out)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = set()
    for match in re.finditer(r"(?<![\w.$])[A-Za-z_:][\w:]*", text):
        if text[match.end() :].lstrip().startswith("(") or match.group(0).lower() in _PROMQL_WORDS:
            continue
        names.add(match.group(0))
    return names


def outside_contract(names: set[str], allowed: frozenset[str] = frozenset()) -> set[str]:
    def known(name: str) -> bool:
        if name in CONTRACT or name in allowed:
            return True
        base = next((name.removesuffix(s) for s in _HISTOGRAM_SERIES if name.endswith(s)), None)
        return base is not None and CONTRACT.get(base) == "histogram"

    return {name for name in names if not known(name)}


def dashboard(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for panel in board.get("panels", []):
        found.append(panel)
        found.extend(panel.get("panels", []))  # collapsed rows hold their panels
    return found


def dashboard_queries(board: dict[str, Any]) -> list[str]:
    """Every PromQL expression of a dashboard: panel targets, and the metrics its variables list."""
    queries = [target["expr"] for panel in panels(board) for target in panel.get("targets", [])]
    for variable in board.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
        label_values = re.fullmatch(r"label_values\((.+),\s*\w+\)", query.strip())
        queries.append(label_values.group(1) if label_values else query)
    return queries


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def run(command: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_metric_names_reads_selectors_and_leaves_out_labels_functions_and_durations() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, route) (rate(a_bucket{route=~"$route"}[$__rate_interval])))'
        " / on (org) group_left sum(increase(b_total[1d] offset 7d)) > bool 1e3 unless c"
    )
    assert metric_names(expr) == {"a_bucket", "b_total", "c"}


def test_prometheus_config_is_valid(promtool: str) -> None:
    result = run([promtool, "check", "config", str(PROMETHEUS / "prometheus.yml")])
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rules_are_valid(promtool: str) -> None:
    result = run([promtool, "check", "rules", str(PROMETHEUS / "alerts.yml")])
    assert result.returncode == 0, result.stdout + result.stderr


def test_alerts_fire_on_synthetic_series_and_stay_quiet_otherwise(promtool: str) -> None:
    tests = [str(HERE / "alerts_test.yml"), str(HERE / "score_drift_test.yml")]
    result = run([promtool, "test", "rules", *tests])
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_alerts_the_issue_asks_for_exist() -> None:
    names = {rule["alert"] for rule in alert_rules()}
    for name in ("XsellSyncFailing", "XsellApiBudgetHigh", "XsellApiErrorRate", "XsellQueueBacklog"):
        assert name in names
    assert "XsellScoreDrift" in names


def test_alert_rules_name_only_contract_metrics() -> None:
    for rule in alert_rules():
        unknown = outside_contract(metric_names(rule["expr"]), allowed=frozenset({"up"}))
        assert not unknown, f"{rule['alert']} uses metrics outside the contract: {sorted(unknown)}"


def test_every_alert_has_a_section_in_the_operations_guide() -> None:
    guide = (ROOT / "docs" / "operations.md").read_text()
    headings = {line.lstrip("#").strip() for line in guide.splitlines() if line.startswith("#")}
    for rule in alert_rules():
        assert rule["alert"] in headings, f"docs/operations.md has no section for {rule['alert']}"
        assert rule["annotations"]["runbook"] == f"docs/operations.md#{rule['alert'].lower()}"


def test_operations_guide_documents_the_metrics_contract() -> None:
    guide = (ROOT / "docs" / "operations.md").read_text()
    documented = set(re.findall(r"^\| `(xsell_\w+)`", guide, flags=re.MULTILINE))
    assert documented == set(CONTRACT)


def test_there_are_four_dashboards_that_parse_with_unique_uids() -> None:
    boards = {path.name: dashboard(path) for path in DASHBOARDS}
    assert set(boards) == {"api.json", "sync.json", "jobs.json", "models.json"}
    uids = [board["uid"] for board in boards.values()]
    assert all(uids) and len(set(uids)) == len(uids), uids
    for name, board in boards.items():
        assert board["title"] and panels(board), name
        assert len({panel["id"] for panel in panels(board)}) == len(panels(board)), name


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_dashboard_expressions_name_only_contract_metrics(path: Path) -> None:
    queries = dashboard_queries(dashboard(path))
    assert queries
    for query in queries:
        names = metric_names(query)
        assert names, f"{path.name}: {query!r} selects no metric"
        assert not outside_contract(names), f"{path.name}: {query!r} uses {sorted(outside_contract(names))}"


def test_dashboard_expressions_are_valid_promql(promtool: str, tmp_path: Path) -> None:
    def concrete(expr: str) -> str:
        expr = expr.replace("$__rate_interval", "5m").replace("$__interval", "1m")
        return re.sub(r"\$\w+", ".*", expr)

    rules = [
        {"record": f"dashboard:{path.stem}:{number}", "expr": concrete(expr)}
        for path in DASHBOARDS
        for number, expr in enumerate(dashboard_queries(dashboard(path)))
    ]
    rule_file = tmp_path / "dashboards.yml"
    rule_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = run([promtool, "check", "rules", str(rule_file)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_dashboards_use_the_provisioned_datasource_and_folder() -> None:
    provisioning = GRAFANA / "provisioning"
    datasources = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"]
    uid = datasources[0]["uid"]
    for path in DASHBOARDS:
        board = dashboard(path)
        for panel in panels(board):
            assert panel["datasource"]["uid"] == uid, f"{path.name}: panel {panel['title']!r}"
            assert all(target["datasource"]["uid"] == uid for target in panel.get("targets", []))
    provider = yaml.safe_load((provisioning / "dashboards" / "dashboards.yml").read_text())["providers"][0]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./deploy/grafana/dashboards:{provider['options']['path']}:ro" in mounts
