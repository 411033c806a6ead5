"""Metrics ports: what the use cases count, without knowing who collects it (Prometheus in production)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

__all__ = ["ModelMetrics", "NoMetrics", "SyncMetrics"]


class SyncMetrics(Protocol):
    def records_synced(self, org_id: str, sobject: str, count: int) -> None:
        """Records written (upserted or deleted) by one committed page."""
        ...

    def run_finished(self, org_id: str, status: str) -> None:
        """A sync run ended: `completed`, `paused`, `parked` or `failed`."""
        ...

    def api_budget_used(self, org_id: str, share: float) -> None:
        """Share (0 to 1) of the org's daily API budget used, as the org last reported it."""
        ...


class ModelMetrics(Protocol):
    def serving(self, versions: Mapping[str, str]) -> None:
        """The model version serving each A/B arm (arm -> version id); arms not named serve nothing."""
        ...

    def scored(self, probabilities: Iterable[float]) -> None:
        """Purchase probabilities of the recommendations a scoring run wrote."""
        ...

    def feedback(self, arm: str, status: str) -> None:
        """What sales did with a recommendation of an arm: `accepted`, `dismissed`, `converted`, `lost`."""
        ...


class NoMetrics:
    """Counts nothing: the default for use cases built without a metrics adapter (CLI tools, tests)."""

    def records_synced(self, org_id: str, sobject: str, count: int) -> None:
        return None

    def run_finished(self, org_id: str, status: str) -> None:
        return None

    def api_budget_used(self, org_id: str, share: float) -> None:
        return None

    def serving(self, versions: Mapping[str, str]) -> None:
        return None

    def scored(self, probabilities: Iterable[float]) -> None:
        return None

    def feedback(self, arm: str, status: str) -> None:
        return None
