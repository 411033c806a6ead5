"""Working in-memory doubles of the authentication ports: users, clients, sessions, hashing, tokens."""

from __future__ import annotations

import copy
import itertools
import uuid
from datetime import datetime, timedelta
from types import TracebackType
from typing import Self

from application.auth.ports import IssuedToken, TokenClaims, TokenType
from application.errors import AuthenticationError
from domain.auth_session import AuthSession, RefreshTokenRecord
from domain.org import Org
from domain.user import ServiceClient, User
from tests.fakes import FakeOrgRepository

__all__ = ["FakeAuthUnitOfWork", "FakePasswordHasher", "FakeTokenCodec"]


class FakePasswordHasher:
    """`hashed:<version>:<password>`; records every verify so tests can see the dummy was checked."""

    def __init__(self, version: int = 1) -> None:
        self.version = version
        self.verified: list[str | None] = []

    async def hash(self, password: str) -> str:
        return f"hashed:{self.version}:{password}"

    async def verify(self, password_hash: str | None, password: str) -> bool:
        self.verified.append(password_hash)
        target = password_hash or "hashed:dummy:"
        return password_hash is not None and target.split(":", 2)[2] == password

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith(f"hashed:{self.version}:")


class FakeTokenCodec:
    """Opaque tokens `fake-N` mapped to their claims; `expire(token)` makes one fail like an expired JWT."""

    def __init__(self) -> None:
        self._claims: dict[str, TokenClaims] = {}
        self._expired: set[str] = set()
        self._numbers = itertools.count(1)

    def issue(
        self, token_type: TokenType, subject: str, session_id: str | None, now: datetime
    ) -> IssuedToken:
        number = next(self._numbers)
        ttl = timedelta(minutes=15) if token_type is TokenType.ACCESS else timedelta(days=7)
        claims = TokenClaims(
            token_type=token_type,
            subject=subject,
            jti=f"jti-{number}",
            session_id=session_id,
            issued_at=now,
            expires_at=now + ttl,
        )
        token = f"fake-{number}"
        self._claims[token] = claims
        return IssuedToken(token=token, claims=claims)

    def expire(self, token: str) -> None:
        self._expired.add(token)

    def decode(self, token: str, expected: TokenType) -> TokenClaims:
        claims = self._claims.get(token)
        if claims is None or token in self._expired or claims.token_type is not expected:
            raise AuthenticationError()
        return claims


class _Users:
    def __init__(self, store: dict[uuid.UUID, User]) -> None:
        self._store = store

    async def get(self, user_id: uuid.UUID) -> User | None:
        return copy.deepcopy(self._store.get(user_id))

    async def get_by_email(self, email: str) -> User | None:
        found = [user for user in self._store.values() if user.email == email]
        return copy.deepcopy(found[0]) if found else None

    async def add(self, user: User) -> None:
        if user.id in self._store or any(u.email == user.email for u in self._store.values()):
            raise ValueError("duplicate user")
        self._store[user.id] = copy.deepcopy(user)

    async def save(self, user: User) -> None:
        self._store[user.id] = copy.deepcopy(user)

    async def list(self) -> list[User]:
        return sorted((copy.deepcopy(u) for u in self._store.values()), key=lambda u: u.email)

    async def count_active_admins(self) -> int:
        return sum(1 for u in self._store.values() if u.active and u.role.value == "admin")


class _Clients:
    def __init__(self, store: dict[str, ServiceClient]) -> None:
        self._store = store

    async def get(self, client_id: str) -> ServiceClient | None:
        return copy.deepcopy(self._store.get(client_id))

    async def add(self, client: ServiceClient) -> None:
        self._store[client.id] = copy.deepcopy(client)

    async def save(self, client: ServiceClient) -> None:
        self._store[client.id] = copy.deepcopy(client)


class _Sessions:
    def __init__(
        self, sessions: dict[uuid.UUID, AuthSession], refresh: dict[str, RefreshTokenRecord]
    ) -> None:
        self._sessions = sessions
        self._refresh = refresh

    async def get(self, session_id: uuid.UUID) -> AuthSession | None:
        return copy.deepcopy(self._sessions.get(session_id))

    async def add(self, session: AuthSession) -> None:
        self._sessions[session.id] = copy.deepcopy(session)

    async def save(self, session: AuthSession) -> None:
        self._sessions[session.id] = copy.deepcopy(session)

    async def revoke_all(self, user_id: uuid.UUID, when: datetime, reason: str) -> int:
        open_ = [s for s in self._sessions.values() if s.user_id == user_id and not s.revoked]
        for session in open_:
            session.revoke(when, reason)
        return len(open_)

    async def add_refresh(self, record: RefreshTokenRecord) -> None:
        self._refresh[record.jti] = record

    async def get_refresh(self, jti: str) -> RefreshTokenRecord | None:
        return self._refresh.get(jti)

    async def claim_refresh(self, jti: str, when: datetime) -> bool:
        record = self._refresh.get(jti)
        if record is None or record.used_at is not None:
            return False
        self._refresh[jti] = RefreshTokenRecord(
            jti=record.jti,
            session_id=record.session_id,
            issued_at=record.issued_at,
            expires_at=record.expires_at,
            used_at=when,
        )
        return True


class FakeAuthUnitOfWork:
    """Changes become visible in the `committed_*` stores only on commit."""

    def __init__(self) -> None:
        self.committed_users: dict[uuid.UUID, User] = {}
        self.committed_clients: dict[str, ServiceClient] = {}
        self.committed_sessions: dict[uuid.UUID, AuthSession] = {}
        self.committed_refresh: dict[str, RefreshTokenRecord] = {}
        self.committed_orgs: dict[str, Org] = {}
        self.commits = 0
        self._begin()

    def _begin(self) -> None:
        self._users = copy.deepcopy(self.committed_users)
        self._clients = copy.deepcopy(self.committed_clients)
        self._sessions = copy.deepcopy(self.committed_sessions)
        self._refresh = dict(self.committed_refresh)
        self._orgs = dict(self.committed_orgs)
        self.users = _Users(self._users)
        self.clients = _Clients(self._clients)
        self.sessions = _Sessions(self._sessions, self._refresh)
        self.orgs = FakeOrgRepository(self._orgs)

    async def __aenter__(self) -> Self:
        self._begin()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.rollback()

    async def commit(self) -> None:
        self.committed_users = copy.deepcopy(self._users)
        self.committed_clients = copy.deepcopy(self._clients)
        self.committed_sessions = copy.deepcopy(self._sessions)
        self.committed_refresh = dict(self._refresh)
        self.committed_orgs = dict(self._orgs)
        self.commits += 1

    async def rollback(self) -> None:
        self._begin()
