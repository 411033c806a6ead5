"""Ports of the feature store: where inputs come from, the registry that computes, the two stores."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from application.features.model import FeatureBatch, FeatureInputs, FeatureLayout, FeatureVector
from domain.feature_definition import FeatureDefinition

__all__ = ["FeatureRegistry", "FeatureSource", "OfflineFeatureStore", "OnlineFeatureStore"]


class FeatureSource(Protocol):
    async def load(self, as_of: date) -> FeatureInputs:
        """The records needed to compute features as of the end of `as_of` (UTC)."""
        ...


class FeatureRegistry(Protocol):
    """Every feature, defined once with its computation; the one code path for training and serving."""

    def definitions(self) -> Sequence[FeatureDefinition]:
        """The current version of every feature, in layout order."""
        ...

    def layout(self) -> FeatureLayout: ...

    def compute(self, inputs: FeatureInputs) -> FeatureBatch:
        """Every feature for every customer known at `inputs.as_of` (CPU-bound: run it off the loop)."""
        ...


class OfflineFeatureStore(Protocol):
    """Values for training, kept per (feature-set version, as-of, customer)."""

    async def write(self, batch: FeatureBatch, definitions: Sequence[FeatureDefinition]) -> None:
        """Store a batch, replacing any earlier build of the same feature set and as-of."""
        ...

    async def read(
        self, feature_set_version: str, as_of: date, customer_ids: Sequence[str]
    ) -> list[FeatureVector | None]:
        """Vectors in the order of `customer_ids`; None where the build has no such customer."""
        ...

    async def load(self, feature_set_version: str, as_of: date) -> FeatureBatch | None:
        """A whole build as arrays (customers in id order), for training; None when it was never built."""
        ...

    async def as_of_dates(self, feature_set_version: str) -> list[date]:
        """Every cutoff built for a feature set, oldest first."""
        ...


class OnlineFeatureStore(Protocol):
    """The newest values for serving; a batch replaces the one served only if it is not older."""

    async def publish(self, batch: FeatureBatch) -> bool:
        """Serve `batch` unless a later as-of is already served; returns whether it now serves it."""
        ...

    async def read(self, feature_set_version: str, customer_ids: Sequence[str]) -> list[FeatureVector | None]:
        """Served vectors in the order of `customer_ids`; None where a customer has none."""
        ...

    async def served_as_of(self, feature_set_version: str) -> date | None: ...
