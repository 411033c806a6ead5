"""Feature store use cases: build point-in-time features into both stores, read them online, list them."""

from __future__ import annotations

from application.features.build import BuildFeatures, BuildReport
from application.features.catalog import ListFeatureDefinitions
from application.features.model import (
    CustomerFeatures,
    FeatureBatch,
    FeatureInputs,
    FeatureLayout,
    FeatureVector,
)
from application.features.online import GetOnlineFeatures
from application.features.ports import FeatureRegistry, FeatureSource, OfflineFeatureStore, OnlineFeatureStore

__all__ = [
    "BuildFeatures",
    "BuildReport",
    "CustomerFeatures",
    "FeatureBatch",
    "FeatureInputs",
    "FeatureLayout",
    "FeatureRegistry",
    "FeatureSource",
    "FeatureVector",
    "GetOnlineFeatures",
    "ListFeatureDefinitions",
    "OfflineFeatureStore",
    "OnlineFeatureStore",
]
