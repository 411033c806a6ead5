"""Wiring of authentication and user administration: password hasher, token codec, unit of work, use cases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from dishka import Provider, Scope, provide
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.cache.redis_cache import RedisGeneration
from adapters.cache.redis_rate_limiter import RedisAdmissionGate
from adapters.persistence.auth_unit_of_work import SqlaAuthUnitOfWork
from adapters.security.passwords import Argon2PasswordHasher
from adapters.security.tokens import JwtTokenCodec, generate_token_key
from application.auth import (
    AddServiceClient,
    AddUser,
    Authenticate,
    GrantOrg,
    IssueClientToken,
    ListUsers,
    Login,
    Logout,
    PrincipalCache,
    RefreshSession,
    RevokeOrg,
    SetPassword,
    UpdateUser,
)
from application.auth.ports import AuthUnitOfWork, AuthVersion, PasswordHasher, TokenCodec
from application.ports import Clock
from entrypoints.providers.keys import kept_keys
from entrypoints.providers.models import RECOMMENDATIONS_GENERATION_KEY, RECOMMENDATIONS_VERSION
from entrypoints.settings import Settings

__all__ = [
    "AUTH_GENERATION_KEY",
    "JWT_KEY_FILE",
    "PRINCIPAL_CACHE_SECONDS",
    "AuthProvider",
    "resolve_jwt_keys",
]

JWT_KEY_FILE = "jwt.keys"
# Moved on by every commit of the auth unit of work (sign-in, sign-out, user, grant, client changes).
AUTH_GENERATION_KEY = "xsell:auth:generation"
# How long a process reuses a checked principal while the generation stands; the bound on staleness
# when Redis could not be told of a change.
PRINCIPAL_CACHE_SECONDS = 5.0


def resolve_jwt_keys(settings: Settings) -> list[str]:
    """XSELL_JWT_KEYS, or the key kept in XSELL_DATA_DIR/jwt.keys (created 0600 on first use)."""
    if settings.jwt_keys:
        return list(settings.jwt_keys)
    return kept_keys(Path(settings.data_dir) / JWT_KEY_FILE, generate_token_key)


class AuthProvider(Provider):
    @provide(scope=Scope.APP)
    def password_hasher(self, settings: Settings) -> Iterator[PasswordHasher]:
        hasher = Argon2PasswordHasher(settings.login_concurrency)
        yield hasher
        hasher.close()

    @provide(scope=Scope.APP)
    def token_codec(self, settings: Settings) -> TokenCodec:
        return JwtTokenCodec(resolve_jwt_keys(settings))

    @provide(scope=Scope.APP)
    def auth_generation(self, client: Redis) -> AuthVersion:
        return RedisGeneration(client, AUTH_GENERATION_KEY)

    @provide(scope=Scope.APP)
    def principal_cache(self) -> PrincipalCache:
        return PrincipalCache(ttl_seconds=PRINCIPAL_CACHE_SECONDS)

    @provide(scope=Scope.REQUEST)
    def auth_unit_of_work(self, session: AsyncSession, client: Redis) -> AuthUnitOfWork:
        return SqlaAuthUnitOfWork(session, RedisGeneration(client, AUTH_GENERATION_KEY))

    @provide(scope=Scope.REQUEST)
    def login(self, uow: AuthUnitOfWork, hasher: PasswordHasher, tokens: TokenCodec, clock: Clock) -> Login:
        return Login(uow, hasher, tokens, clock)

    @provide(scope=Scope.REQUEST)
    def refresh(self, uow: AuthUnitOfWork, tokens: TokenCodec, clock: Clock) -> RefreshSession:
        return RefreshSession(uow, tokens, clock)

    @provide(scope=Scope.REQUEST)
    def logout(self, uow: AuthUnitOfWork, tokens: TokenCodec, clock: Clock) -> Logout:
        return Logout(uow, tokens, clock)

    @provide(scope=Scope.REQUEST)
    def client_token(
        self, uow: AuthUnitOfWork, hasher: PasswordHasher, tokens: TokenCodec, clock: Clock
    ) -> IssueClientToken:
        return IssueClientToken(uow, hasher, tokens, clock)

    @provide(scope=Scope.APP)
    def authenticate(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client: Redis,
        tokens: TokenCodec,
        cache: PrincipalCache,
        version: AuthVersion,
    ) -> Authenticate:
        # One per process, used by every request: a request whose principal is reused opens no session;
        # a check opens one of its own and closes it (the generation it would move is built once).
        generation = RedisGeneration(client, AUTH_GENERATION_KEY)

        def unit_of_work() -> AuthUnitOfWork:
            return SqlaAuthUnitOfWork(sessions(), generation, owns_session=True)

        # The version of cached recommendation lists is read in the same step, so a list this process
        # already holds for the current version is answered without another round trip.
        watch = {RECOMMENDATIONS_VERSION: RECOMMENDATIONS_GENERATION_KEY}
        gate = RedisAdmissionGate(client, AUTH_GENERATION_KEY, watch)
        return Authenticate(unit_of_work, tokens, cache, version, gate)

    @provide(scope=Scope.REQUEST)
    def add_user(self, uow: AuthUnitOfWork, hasher: PasswordHasher, clock: Clock) -> AddUser:
        return AddUser(uow, hasher, clock)

    @provide(scope=Scope.REQUEST)
    def add_client(self, uow: AuthUnitOfWork, hasher: PasswordHasher, clock: Clock) -> AddServiceClient:
        return AddServiceClient(uow, hasher, clock)

    @provide(scope=Scope.REQUEST)
    def list_users(self, uow: AuthUnitOfWork) -> ListUsers:
        return ListUsers(uow)

    @provide(scope=Scope.REQUEST)
    def update_user(self, uow: AuthUnitOfWork) -> UpdateUser:
        return UpdateUser(uow)

    @provide(scope=Scope.REQUEST)
    def grant_org(self, uow: AuthUnitOfWork) -> GrantOrg:
        return GrantOrg(uow)

    @provide(scope=Scope.REQUEST)
    def revoke_org(self, uow: AuthUnitOfWork) -> RevokeOrg:
        return RevokeOrg(uow)

    @provide(scope=Scope.REQUEST)
    def set_password(self, uow: AuthUnitOfWork, hasher: PasswordHasher, clock: Clock) -> SetPassword:
        return SetPassword(uow, hasher, clock)
