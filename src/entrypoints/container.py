"""The composition root: the one place that names concrete adapters and wires them to ports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from dishka import AsyncContainer, Provider, Scope, from_context, make_async_container, provide
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.cache.redis_cache import RedisCache, RedisProbe
from adapters.cache.redis_rate_limiter import RedisRateLimiter
from adapters.observability.tracing import instrument_engine
from adapters.persistence.engine import create_engine, create_session_factory
from adapters.persistence.probes import PostgresProbe
from adapters.persistence.unit_of_work import SqlaUnitOfWork
from application.accounts import ListAccounts
from application.ports import Cache, Clock, RateLimiter, UnitOfWork
from application.ports.health import DependencyProbe
from application.readiness import CheckReadiness
from domain.timestamps import utc_now
from entrypoints.providers.auth import AuthProvider
from entrypoints.providers.features import FeatureProvider
from entrypoints.providers.jobs import JobProvider
from entrypoints.providers.models import ModelProvider
from entrypoints.providers.observability import MetricsProvider, use_case_spans
from entrypoints.providers.redis import QueueRedis, RedisProvider
from entrypoints.providers.resolution import ResolutionProvider
from entrypoints.providers.sync import SyncProvider
from entrypoints.providers.write_back import WriteBackProvider
from entrypoints.settings import Settings, cache_redis_url, queue_redis_url

__all__ = ["SystemClock", "make_container"]


class SystemClock:
    def now(self) -> datetime:
        return utc_now()


class InfrastructureProvider(Provider):
    """APP scope: one engine and session factory per process (the Redis clients: `RedisProvider`)."""

    settings = from_context(provides=Settings, scope=Scope.APP)

    @provide(scope=Scope.APP)
    async def engine(self, settings: Settings) -> AsyncIterator[AsyncEngine]:
        if settings.database_url is None:
            raise RuntimeError("the container needs a resolved DATABASE_URL (embedded services start first)")
        engine = create_engine(settings.database_url, settings.db_pool_size)
        instrument_engine(engine.sync_engine)
        yield engine
        await engine.dispose()

    @provide(scope=Scope.APP)
    def session_factory(self, engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
        return create_session_factory(engine)

    @provide(scope=Scope.APP)
    def cache(self, client: Redis) -> Cache:
        return RedisCache(client)

    @provide(scope=Scope.APP)
    def rate_limiter(self, client: Redis) -> RateLimiter:
        return RedisRateLimiter(client)

    @provide(scope=Scope.APP)
    def clock(self) -> Clock:
        return SystemClock()

    @provide(scope=Scope.REQUEST)
    async def session(self, factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
        # The provider never commits: use cases decide that through the unit of work.
        async with factory() as session:
            yield session

    @provide(scope=Scope.REQUEST)
    def unit_of_work(self, session: AsyncSession) -> UnitOfWork:
        return SqlaUnitOfWork(session)


class UseCaseProvider(Provider):
    scope = Scope.REQUEST

    @provide
    def list_accounts(self, uow: UnitOfWork) -> ListAccounts:
        return ListAccounts(uow)

    @provide
    def check_readiness(
        self, engine: AsyncEngine, client: Redis, queue: QueueRedis, settings: Settings
    ) -> CheckReadiness:
        # Without Redis the API still serves (uncached, jobs kept in the outbox): degraded, not unready.
        probes: list[DependencyProbe] = [PostgresProbe(engine), RedisProbe(client)]
        if cache_redis_url(settings) != queue_redis_url(settings):
            probes.append(RedisProbe(queue, name="queue"))
        return CheckReadiness(probes, optional={"redis", "queue"})


def make_container(settings: Settings, *extra: Provider) -> AsyncContainer:
    """The application container; tests pass extra providers with `override=True` to swap parts."""
    providers = [
        InfrastructureProvider(),
        RedisProvider(),
        MetricsProvider(),
        UseCaseProvider(),
        SyncProvider(),
        ResolutionProvider(),
        FeatureProvider(),
        ModelProvider(),
        AuthProvider(),
        JobProvider(),
        WriteBackProvider(),
        *extra,
    ]
    return make_async_container(*providers, use_case_spans(providers), context={Settings: settings})
