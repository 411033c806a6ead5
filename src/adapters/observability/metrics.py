"""Prometheus metrics: the names of the contract in docs/operations.md, and how each process exposes them.

Metrics are created on first use, not at import, so that a worker can switch prometheus-client to
multiprocess mode (`use_multiprocess_dir`) after its modules are imported but before anything is counted.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

__all__ = [
    "CONTENT_TYPE_LATEST",
    "MULTIPROC_ENV",
    "PrometheusModelMetrics",
    "PrometheusSyncMetrics",
    "XsellMetrics",
    "exposition_registry",
    "multiprocess_enabled",
    "render",
    "serve_metrics",
    "use_multiprocess_dir",
    "xsell_metrics",
]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_log = logging.getLogger(__name__)

_HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Jobs run from a second (a scoring of one org) to hours (a first sync or a thorough training).
_JOB_BUCKETS = (0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0)
_PROBABILITY_BUCKETS = (0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


@dataclass(frozen=True)
class XsellMetrics:
    """Every metric of the contract, as the objects prometheus-client counts with."""

    http_duration: Histogram
    sync_records: Counter
    sync_runs: Counter
    sync_budget: Gauge
    job_duration: Histogram
    job_retries: Counter
    job_dead_letters: Counter
    model_in_service: Gauge
    score_probability: Histogram
    feedback: Counter
    cache_requests: Counter
    cache_hits: Counter  # cache_requests{result="hit"}, looked up once: the API counts one per request
    cache_misses: Counter  # cache_requests{result="miss"}

    @classmethod
    def create(cls, registry: CollectorRegistry) -> XsellMetrics:
        cache_requests = Counter(
            "xsell_cache_requests", "API cache lookups, hit or miss.", ["result"], registry=registry
        )
        return cls(
            http_duration=Histogram(
                "xsell_http_request_duration_seconds",
                "API request latency by route template, method and status.",
                ["route", "method", "status"],
                buckets=_HTTP_BUCKETS,
                registry=registry,
            ),
            sync_records=Counter(
                "xsell_sync_records", "Records synced.", ["org", "object"], registry=registry
            ),
            sync_runs=Counter(
                "xsell_sync_runs", "Finished sync runs by status.", ["org", "status"], registry=registry
            ),
            sync_budget=Gauge(
                "xsell_sync_api_budget_used_ratio",
                "Share of the org's daily Salesforce API budget used, 0 to 1.",
                ["org"],
                multiprocess_mode="mostrecent",
                registry=registry,
            ),
            job_duration=Histogram(
                "xsell_job_duration_seconds",
                "Duration of finished jobs.",
                ["actor"],
                buckets=_JOB_BUCKETS,
                registry=registry,
            ),
            job_retries=Counter(
                "xsell_job_retries", "Jobs handed out again after a failure.", registry=registry
            ),
            job_dead_letters=Counter(
                "xsell_jobs_dead_letters", "Jobs quarantined after crashing their worker.", registry=registry
            ),
            model_in_service=Gauge(
                "xsell_model_in_service",
                "1 for each model version serving an A/B arm.",
                ["version", "arm"],
                multiprocess_mode="mostrecent",
                registry=registry,
            ),
            score_probability=Histogram(
                "xsell_score_probability",
                "Predicted purchase probabilities written by scoring.",
                buckets=_PROBABILITY_BUCKETS,
                registry=registry,
            ),
            feedback=Counter(
                "xsell_recommendation_feedback",
                "What sales did with recommendations, by A/B arm.",
                ["arm", "status"],
                registry=registry,
            ),
            cache_requests=cache_requests,
            cache_hits=cache_requests.labels(result="hit"),
            cache_misses=cache_requests.labels(result="miss"),
        )


_metrics: XsellMetrics | None = None
_lock = threading.Lock()


def xsell_metrics() -> XsellMetrics:
    """This process's metrics, created in the default registry on first use."""
    global _metrics
    if _metrics is None:
        with _lock:
            if _metrics is None:
                _metrics = XsellMetrics.create(REGISTRY)
    return _metrics


def multiprocess_enabled() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def use_multiprocess_dir(path: Path) -> None:
    """Count in files under `path` (emptied first), shared by this process and every process it starts.

    Call before anything is counted: a metric created earlier would keep counting in this process only.
    Raises RuntimeError when the metrics already exist.
    """
    if _metrics is not None:
        raise RuntimeError("metrics already exist in this process; switch to multiprocess mode earlier")
    # Files of processes from an earlier start would add their old totals to the new ones.
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(path)
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


class _Forward(Collector):
    """The default registry, seen from another registry (which can then hold collectors of its own)."""

    def collect(self) -> Iterator[object]:  # type: ignore[override]
        yield from REGISTRY.collect()


def exposition_registry(*collectors: Collector) -> CollectorRegistry:
    """What a /metrics endpoint shows: this process's metrics, or the merged files of every process in
    multiprocess mode, plus `collectors` (read at scrape time, like the queue depth)."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_enabled():
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        xsell_metrics()  # so that a process which counted nothing yet still shows the names
        registry.register(_Forward())
    for collector in collectors:
        registry.register(collector)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    """The text exposition format (CONTENT_TYPE_LATEST)."""
    return generate_latest(registry)


def serve_metrics(host: str, port: int, *collectors: Collector) -> bool:
    """Serve /metrics on a daemon thread; port 0 serves nothing. Returns False when the port is taken,
    which is logged and tolerated: the jobs matter more than their metrics."""
    if port == 0:
        return False
    try:
        start_http_server(port, addr=host, registry=exposition_registry(*collectors))
    except OSError as error:
        _log.error("metrics.port_unavailable", extra={"port": port, "error": str(error)})
        return False
    return True


class PrometheusSyncMetrics:
    def records_synced(self, org_id: str, sobject: str, count: int) -> None:
        xsell_metrics().sync_records.labels(org=org_id, object=sobject).inc(count)

    def run_finished(self, org_id: str, status: str) -> None:
        xsell_metrics().sync_runs.labels(org=org_id, status=status).inc()

    def api_budget_used(self, org_id: str, share: float) -> None:
        xsell_metrics().sync_budget.labels(org=org_id).set(share)


class PrometheusModelMetrics:
    def __init__(self) -> None:
        self._serving: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def serving(self, versions: Mapping[str, str]) -> None:
        gauge = xsell_metrics().model_in_service
        current = {(version, arm) for arm, version in versions.items()}
        with self._lock:
            # A version that stopped serving drops to 0 (removing a series is not possible across processes).
            for version, arm in self._serving - current:
                gauge.labels(version=version, arm=arm).set(0)
            for version, arm in current:
                gauge.labels(version=version, arm=arm).set(1)
            self._serving |= current

    def scored(self, probabilities: Iterable[float]) -> None:
        histogram = xsell_metrics().score_probability
        for probability in probabilities:
            histogram.observe(probability)

    def feedback(self, arm: str, status: str) -> None:
        xsell_metrics().feedback.labels(arm=arm, status=status).inc()
