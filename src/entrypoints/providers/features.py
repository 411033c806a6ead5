"""Wiring of the feature store: registry, PostgreSQL source and offline store, Redis online store."""

from __future__ import annotations

from dishka import Provider, Scope, provide
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.features.postgres_offline import PostgresOfflineFeatureStore
from adapters.features.postgres_source import SqlaFeatureSource
from adapters.features.redis_online import RedisOnlineFeatureStore
from adapters.features.registry import PandasFeatureRegistry
from application.features import (
    BuildFeatures,
    FeatureRegistry,
    FeatureSource,
    GetOnlineFeatures,
    ListFeatureDefinitions,
    OfflineFeatureStore,
    OnlineFeatureStore,
)
from application.ports import Clock
from entrypoints.providers.redis import QueueRedis

__all__ = ["FeatureProvider"]


class FeatureProvider(Provider):
    @provide(scope=Scope.APP)
    def registry(self) -> FeatureRegistry:
        return PandasFeatureRegistry()

    @provide(scope=Scope.APP)
    def source(self, engine: AsyncEngine) -> FeatureSource:
        return SqlaFeatureSource(engine)

    @provide(scope=Scope.APP)
    def offline(self, engine: AsyncEngine) -> OfflineFeatureStore:
        return PostgresOfflineFeatureStore(engine)

    @provide(scope=Scope.APP)
    def online(self, client: QueueRedis) -> OnlineFeatureStore:
        # On REDIS_URL's Redis, not the cache's: the online features must survive a restart.
        return RedisOnlineFeatureStore(client)

    @provide(scope=Scope.REQUEST)
    def build(
        self,
        source: FeatureSource,
        registry: FeatureRegistry,
        offline: OfflineFeatureStore,
        online: OnlineFeatureStore,
        clock: Clock,
    ) -> BuildFeatures:
        return BuildFeatures(source, registry, offline, online, clock)

    @provide(scope=Scope.REQUEST)
    def get_online(self, registry: FeatureRegistry, online: OnlineFeatureStore) -> GetOnlineFeatures:
        return GetOnlineFeatures(registry, online)

    @provide(scope=Scope.REQUEST)
    def list_definitions(self, registry: FeatureRegistry) -> ListFeatureDefinitions:
        return ListFeatureDefinitions(registry)
