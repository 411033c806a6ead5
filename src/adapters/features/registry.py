"""PandasFeatureRegistry: the feature registry port over the declared features, computed with pandas/numpy."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

import numpy as np

from adapters.features import features as _features  # noqa: F401  (declares every feature on BOOK)
from adapters.features.definitions import FeatureBook, FeatureContext
from adapters.features.steps import BOOK
from application.features.model import FeatureBatch, FeatureInputs, FeatureLayout
from domain.errors import InvariantViolationError
from domain.feature_definition import (
    FeatureCatalog,
    FeatureDefinition,
    FeatureDtype,
    FeatureEntity,
    FeatureSet,
)

__all__ = ["PandasFeatureRegistry"]


class PandasFeatureRegistry:
    """Every declared feature at its current version; `compute` runs them all on one shared context."""

    def __init__(self, book: FeatureBook = BOOK) -> None:
        self._book = book

    @cached_property
    def _definitions(self) -> tuple[FeatureDefinition, ...]:
        catalog = FeatureCatalog()
        definitions = []
        for name, spec in self._book.features.items():
            source = spec.definition
            definition = FeatureDefinition(
                name=name,
                version=source.version,
                entity=source.entity,
                dtype=source.dtype,
                description=source.description,
                owner=source.owner,
                fingerprint=self._book.fingerprint(name),
                created_at=source.created_at,
            )
            definitions.append(catalog.register(definition))
        return tuple(definitions)

    def definitions(self) -> Sequence[FeatureDefinition]:
        return self._definitions

    @cached_property
    def _layout(self) -> FeatureLayout:
        customer = [d for d in self._definitions if d.entity == FeatureEntity.CUSTOMER]
        return FeatureLayout(
            feature_set_version=FeatureSet.of(self._definitions).version,
            numbers=tuple(d.name for d in customer if d.dtype != FeatureDtype.CATEGORY),
            labels=tuple(d.name for d in customer if d.dtype == FeatureDtype.CATEGORY),
            pair_numbers=tuple(
                d.name for d in self._definitions if d.entity == FeatureEntity.CUSTOMER_FAMILY
            ),
        )

    def layout(self) -> FeatureLayout:
        return self._layout

    def compute(self, inputs: FeatureInputs) -> FeatureBatch:
        """Raises InvariantViolationError when a feature returns the wrong shape (a programming error)."""
        ctx = FeatureContext(self._book, inputs)
        layout = self._layout
        ids = ctx["customers"].ids
        n, k = len(ids), len(ctx.families)
        numbers = np.empty((n, len(layout.numbers)))
        labels = np.empty((n, len(layout.labels)), dtype=object)
        pairs = np.empty((n, k, len(layout.pair_numbers)))
        for column, name in enumerate(layout.numbers):
            numbers[:, column] = self._run(ctx, name, (n,))
        for column, name in enumerate(layout.labels):
            labels[:, column] = self._run(ctx, name, (n,))
        for column, name in enumerate(layout.pair_numbers):
            pairs[:, :, column] = self._run(ctx, name, (n, k))
        return FeatureBatch(
            as_of=inputs.as_of,
            layout=layout,
            customer_ids=tuple(str(i) for i in ids),
            families=ctx.families,
            numbers=numbers,
            labels=labels,
            pair_numbers=pairs,
        )

    def _run(self, ctx: FeatureContext, name: str, shape: tuple[int, ...]) -> np.ndarray:
        values = np.asarray(self._book.features[name].fn(ctx))
        if values.shape != shape:
            raise InvariantViolationError(f"feature {name} returned shape {values.shape}, expected {shape}")
        return values
