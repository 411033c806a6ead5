"""Wiring of metrics and traces: the Prometheus adapters behind the metrics ports, and use-case spans."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dishka import Provider, Scope, provide

from adapters.observability.metrics import PrometheusModelMetrics, PrometheusSyncMetrics
from adapters.observability.tracing import trace_execute
from application.ports.metrics import ModelMetrics, SyncMetrics

__all__ = ["MetricsProvider", "use_case_spans"]


class MetricsProvider(Provider):
    @provide(scope=Scope.APP)
    def sync_metrics(self) -> SyncMetrics:
        return PrometheusSyncMetrics()

    @provide(scope=Scope.APP)
    def model_metrics(self) -> ModelMetrics:
        # One per process: it remembers which versions it marked as serving, to unmark them later.
        return PrometheusModelMetrics()


def _decorator(use_case_type: type) -> Any:
    def decorate(use_case: Any) -> Any:
        return trace_execute(use_case)

    # dishka matches a decorator to what it decorates by the annotation of its first parameter.
    decorate.__annotations__ = {"use_case": use_case_type, "return": use_case_type}
    return decorate


def use_case_spans(providers: Iterable[Provider]) -> Provider:
    """A provider that wraps the `execute` of every use case the others build in a span of its own.

    Goes last in the container, after the providers it decorates.
    """
    spans = Provider()
    seen: set[type] = set()
    for provider in providers:
        for factory in provider.factories:
            hint = factory.provides.type_hint
            if (
                isinstance(hint, type)
                and hint.__module__.startswith("application.")
                and callable(getattr(hint, "execute", None))
                and hint not in seen
            ):
                seen.add(hint)
                spans.decorate(_decorator(hint), provides=hint)
    return spans
