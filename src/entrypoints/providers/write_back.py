"""Wiring of write-backs: their repository, the family names they quote, and the use cases."""

from __future__ import annotations

from dishka import Provider, Scope, provide
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.write_back_repository import SqlaWriteBackRepository
from application.customers import CustomerDirectory
from application.models.feedback import RecommendationRepository
from application.models.scoring import RecommendationStore
from application.ports import Clock, CrmGatewayFactory, SecretBox
from application.ports.sync import SyncUnitOfWork
from application.write_back import FamilyNames, ListWriteBacks, WriteBackRecommendation, WriteBackRepository

__all__ = ["WriteBackProvider"]


class WriteBackProvider(Provider):
    @provide(scope=Scope.APP)
    def repository(self, engine: AsyncEngine) -> WriteBackRepository:
        return SqlaWriteBackRepository(engine)

    @provide(scope=Scope.APP)
    def family_names(self, store: RecommendationStore) -> FamilyNames:
        return store

    @provide(scope=Scope.REQUEST)
    def write_back(
        self,
        recommendations: RecommendationRepository,
        directory: CustomerDirectory,
        write_backs: WriteBackRepository,
        families: FamilyNames,
        orgs: SyncUnitOfWork,
        gateways: CrmGatewayFactory,
        box: SecretBox,
        clock: Clock,
    ) -> WriteBackRecommendation:
        return WriteBackRecommendation(
            recommendations, directory, write_backs, families, orgs, gateways, box, clock
        )

    list_write_backs = provide(ListWriteBacks, scope=Scope.REQUEST)
