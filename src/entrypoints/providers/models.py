"""Wiring of the propensity models: trainer (Optuna studies in PostgreSQL), registry, scoring, use cases."""

from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import Provider, Scope, provide
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.cache.redis_cache import RedisGeneration
from adapters.persistence.engine import ReadPool
from adapters.persistence.model_registry import SqlaModelRegistry
from adapters.persistence.recommendation_store import SqlaRecommendationRepository, SqlaRecommendationStore
from application.features import (
    BuildFeatures,
    FeatureRegistry,
    FeatureSource,
    OfflineFeatureStore,
    OnlineFeatureStore,
)
from application.models.evaluate import EvaluateModels, LearningData
from application.models.feedback import ListRecommendations, RecommendationRepository, RecordFeedback
from application.models.offers import BrowseRecommendations, ExportRecommendations, ShowRecommendation
from application.models.ports import ModelTrainer
from application.models.realtime import ScoreCustomerNow, ServingModels
from application.models.registry import (
    ListModels,
    ModelRegistry,
    PromoteModel,
    RollBackModel,
    SetServingPolicy,
    ShowModel,
)
from application.models.scoring import RecommendationStore, ScoreCustomers
from application.models.train import TrainModel
from application.ports import Clock
from application.ports.cache import ChangeNotice
from application.ports.metrics import ModelMetrics
from entrypoints.settings import Settings

__all__ = ["RECOMMENDATIONS_GENERATION_KEY", "RECOMMENDATIONS_VERSION", "ModelProvider"]

# The counter cached recommendation lists carry in their keys (see http/recommendation_cache.py).
RECOMMENDATIONS_GENERATION_KEY = "xsell:cache:recommendations:generation"
# Its name among the versions the API's admission gate reads with every authenticated request.
RECOMMENDATIONS_VERSION = "recommendations"


class ModelProvider(Provider):
    @provide(scope=Scope.APP)
    def trainer(self, settings: Settings) -> ModelTrainer:
        # XGBoost, LightGBM, torch and scikit-learn take seconds to import: only processes that train or
        # score pay for them, not every command and API worker at start.
        from adapters.ml.ensemble import EnsembleTrainer, optuna_storage_url

        assert settings.database_url is not None
        return EnsembleTrainer(optuna_storage_url(settings.database_url))

    @provide(scope=Scope.APP)
    def registry(self, engine: AsyncEngine) -> ModelRegistry:
        return SqlaModelRegistry(engine)

    @provide(scope=Scope.APP)
    def store(self, engine: AsyncEngine) -> RecommendationStore:
        return SqlaRecommendationStore(engine)

    @provide(scope=Scope.APP)
    async def recommendations(
        self, engine: AsyncEngine, settings: Settings
    ) -> AsyncIterator[RecommendationRepository]:
        # The list's reads get connections of their own (`ReadPool`, see `offer_documents`).
        assert settings.database_url is not None
        repository = SqlaRecommendationRepository(
            engine, ReadPool(settings.database_url, settings.db_pool_size)
        )
        yield repository
        await repository.close()

    @provide(scope=Scope.APP)
    def recommendation_changes(self, client: Redis) -> ChangeNotice:
        return RedisGeneration(client, RECOMMENDATIONS_GENERATION_KEY)

    @provide(scope=Scope.REQUEST)
    def feedback(
        self,
        repository: RecommendationRepository,
        clock: Clock,
        metrics: ModelMetrics,
        changes: ChangeNotice,
    ) -> RecordFeedback:
        return RecordFeedback(repository, clock, metrics, changes)

    @provide(scope=Scope.REQUEST)
    def list_recommendations(self, repository: RecommendationRepository) -> ListRecommendations:
        return ListRecommendations(repository)

    @provide(scope=Scope.APP)  # stateless over the APP-scoped repository: built once, not per request
    def browse(self, repository: RecommendationRepository) -> BrowseRecommendations:
        return BrowseRecommendations(repository)

    @provide(scope=Scope.REQUEST)
    def export(self, repository: RecommendationRepository) -> ExportRecommendations:
        return ExportRecommendations(repository)

    show = provide(ShowRecommendation, scope=Scope.REQUEST)

    @provide(scope=Scope.REQUEST)
    def learning_data(
        self,
        source: FeatureSource,
        registry: FeatureRegistry,
        offline: OfflineFeatureStore,
        build: BuildFeatures,
    ) -> LearningData:
        return LearningData(source, registry, offline, build)

    @provide(scope=Scope.REQUEST)
    def evaluate(self, data: LearningData, trainer: ModelTrainer, clock: Clock) -> EvaluateModels:
        return EvaluateModels(data, trainer, clock)

    @provide(scope=Scope.REQUEST)
    def train(
        self, data: LearningData, trainer: ModelTrainer, registry: ModelRegistry, clock: Clock
    ) -> TrainModel:
        return TrainModel(data, trainer, registry, clock)

    @provide(scope=Scope.REQUEST)
    def score(
        self,
        settings: Settings,
        source: FeatureSource,
        features: FeatureRegistry,
        offline: OfflineFeatureStore,
        build: BuildFeatures,
        trainer: ModelTrainer,
        registry: ModelRegistry,
        store: RecommendationStore,
        clock: Clock,
        metrics: ModelMetrics,
        changes: ChangeNotice,
    ) -> ScoreCustomers:
        return ScoreCustomers(
            source,
            features,
            offline,
            build,
            trainer,
            registry,
            store,
            clock,
            group_currency=settings.group_currency,
            exchange_rates=dict(settings.exchange_rates),
            metrics=metrics,
            changes=changes,
        )

    @provide(scope=Scope.APP)
    def serving_models(self, registry: ModelRegistry, trainer: ModelTrainer) -> ServingModels:
        return ServingModels(registry, trainer)

    @provide(scope=Scope.REQUEST)
    def score_now(
        self,
        features: FeatureRegistry,
        online: OnlineFeatureStore,
        registry: ModelRegistry,
        models: ServingModels,
    ) -> ScoreCustomerNow:
        return ScoreCustomerNow(features, online, registry, models)

    @provide(scope=Scope.REQUEST)
    def list_models(self, registry: ModelRegistry) -> ListModels:
        return ListModels(registry)

    @provide(scope=Scope.REQUEST)
    def show_model(self, registry: ModelRegistry) -> ShowModel:
        return ShowModel(registry)

    @provide(scope=Scope.REQUEST)
    def promote(self, registry: ModelRegistry, clock: Clock) -> PromoteModel:
        return PromoteModel(registry, clock)

    @provide(scope=Scope.REQUEST)
    def roll_back(self, registry: ModelRegistry, clock: Clock) -> RollBackModel:
        return RollBackModel(registry, clock)

    @provide(scope=Scope.REQUEST)
    def serving_policy(self, registry: ModelRegistry) -> SetServingPolicy:
        return SetServingPolicy(registry)
