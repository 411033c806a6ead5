"""Working in-memory feature stores and source for unit tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from application.features import FeatureBatch, FeatureInputs, FeatureVector
from domain.feature_definition import FeatureDefinition


class FakeFeatureSource:
    def __init__(self, inputs: FeatureInputs) -> None:
        self.inputs = inputs

    async def load(self, as_of: date) -> FeatureInputs:
        return FeatureInputs(**{**self.inputs.__dict__, "as_of": as_of})


class FakeOfflineFeatureStore:
    def __init__(self) -> None:
        self.batches: dict[tuple[str, date], FeatureBatch] = {}

    async def write(self, batch: FeatureBatch, definitions: Sequence[FeatureDefinition]) -> None:
        self.batches[(batch.layout.feature_set_version, batch.as_of)] = batch

    async def read(
        self, feature_set_version: str, as_of: date, customer_ids: Sequence[str]
    ) -> list[FeatureVector | None]:
        batch = self.batches.get((feature_set_version, as_of))
        if batch is None:
            return [None] * len(customer_ids)
        return [
            batch.vector(batch.customer_ids.index(c)) if c in batch.customer_ids else None
            for c in customer_ids
        ]

    async def load(self, feature_set_version: str, as_of: date) -> FeatureBatch | None:
        return self.batches.get((feature_set_version, as_of))

    async def as_of_dates(self, feature_set_version: str) -> list[date]:
        return sorted(d for version, d in self.batches if version == feature_set_version)


class FakeOnlineFeatureStore:
    def __init__(self) -> None:
        self.served: dict[str, FeatureBatch] = {}

    async def publish(self, batch: FeatureBatch) -> bool:
        current = self.served.get(batch.layout.feature_set_version)
        if current is not None and current.as_of > batch.as_of:
            return False
        self.served[batch.layout.feature_set_version] = batch
        return True

    async def read(self, feature_set_version: str, customer_ids: Sequence[str]) -> list[FeatureVector | None]:
        batch = self.served.get(feature_set_version)
        if batch is None:
            return [None] * len(customer_ids)
        return [
            batch.vector(batch.customer_ids.index(c)) if c in batch.customer_ids else None
            for c in customer_ids
        ]

    async def served_as_of(self, feature_set_version: str) -> date | None:
        batch = self.served.get(feature_set_version)
        return None if batch is None else batch.as_of
