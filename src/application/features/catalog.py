"""ListFeatureDefinitions: what the registry computes, for `xsell features list` and the API."""

from __future__ import annotations

from application.features.ports import FeatureRegistry
from domain.feature_definition import FeatureDefinition, FeatureEntity, FeatureSet

__all__ = ["ListFeatureDefinitions"]


class ListFeatureDefinitions:
    def __init__(self, registry: FeatureRegistry) -> None:
        self._registry = registry

    def execute(self, entity: FeatureEntity | None = None) -> tuple[str, list[FeatureDefinition]]:
        """The feature-set version and its definitions, optionally of one entity only."""
        definitions = list(self._registry.definitions())
        version = FeatureSet.of(definitions).version
        if entity is not None:
            definitions = [d for d in definitions if d.entity == entity]
        return version, definitions
