"""Ports of authentication: password hashing, token signing, and the stores of users, clients, sessions."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from application.ports.rate_limit import RateLimitDecision
from application.ports.repositories import OrgRepository
from application.ports.unit_of_work import Transaction
from domain.auth_session import AuthSession, RefreshTokenRecord
from domain.user import ServiceClient, User

__all__ = [
    "CLIENT_SUBJECT_PREFIX",
    "AdmissionGate",
    "AuthUnitOfWork",
    "AuthVersion",
    "GateAnswer",
    "IssuedToken",
    "PasswordHasher",
    "ServiceClientRepository",
    "SessionRepository",
    "TokenClaims",
    "TokenCodec",
    "TokenType",
    "UserRepository",
]

# A token's `sub` for a service client; user subjects are UUIDs, so the two never collide.
CLIENT_SUBJECT_PREFIX = "client:"


class PasswordHasher(Protocol):
    """Slow, salted password hashing. Implementations bound how many hashes run at once."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when `password` matches. With no hash (an unknown user) it verifies against a dummy hash
        and returns False, so an unknown user costs the same time as a wrong password."""
        ...

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters than the current ones."""
        ...


class TokenType(StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"


@dataclass(frozen=True, kw_only=True)
class TokenClaims:
    """What a verified token says. `session_id` is the login session (absent for service clients)."""

    token_type: TokenType
    subject: str
    jti: str
    session_id: str | None
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class IssuedToken:
    token: str = field(repr=False)
    claims: TokenClaims


class TokenCodec(Protocol):
    def issue(
        self, token_type: TokenType, subject: str, session_id: str | None, now: datetime
    ) -> IssuedToken: ...

    def decode(self, token: str, expected: TokenType) -> TokenClaims:
        """Verify signature, algorithm, type, audience, issuer and times. Raises AuthenticationError."""
        ...


class UserRepository(Protocol):
    async def get(self, user_id: uuid.UUID) -> User | None: ...

    async def get_by_email(self, email: str) -> User | None:
        """`email` normalised (lower case)."""
        ...

    async def add(self, user: User) -> None: ...

    async def save(self, user: User) -> None:
        """Store role, active flag, display name, password hash and the grants as they are now."""
        ...

    async def list(self) -> list[User]: ...

    async def count_active_admins(self) -> int: ...


class ServiceClientRepository(Protocol):
    async def get(self, client_id: str) -> ServiceClient | None: ...

    async def add(self, client: ServiceClient) -> None: ...

    async def save(self, client: ServiceClient) -> None: ...


class SessionRepository(Protocol):
    async def get(self, session_id: uuid.UUID) -> AuthSession | None: ...

    async def add(self, session: AuthSession) -> None: ...

    async def save(self, session: AuthSession) -> None: ...

    async def revoke_all(self, user_id: uuid.UUID, when: datetime, reason: str) -> int:
        """Revoke every open session of a user; returns how many were open."""
        ...

    async def add_refresh(self, record: RefreshTokenRecord) -> None: ...

    async def get_refresh(self, jti: str) -> RefreshTokenRecord | None: ...

    async def claim_refresh(self, jti: str, when: datetime) -> bool:
        """Mark an unused refresh token used, atomically: True for exactly one of concurrent callers."""
        ...


class AuthUnitOfWork(Transaction, Protocol):
    @property
    def users(self) -> UserRepository: ...

    @property
    def clients(self) -> ServiceClientRepository: ...

    @property
    def sessions(self) -> SessionRepository: ...

    @property
    def orgs(self) -> OrgRepository: ...


class AuthVersion(Protocol):
    """A version of everything that decides who may do what (users, grants, sessions, clients), shared by
    every process: each committed change to it moves the version on."""

    async def current(self) -> str | None:
        """The version now; None when it cannot be read (then nothing may be reused from before)."""
        ...


@dataclass(frozen=True, slots=True)
class GateAnswer:
    """One step of the shared store: the request's count against its limit, the auth version then, and
    the other versions the gate watches for this process (by name; the version of cached lists, say).
    Empty and None when the store could not be reached: the request then goes on uncounted, and nothing
    checked or cached before may be reused."""

    decision: RateLimitDecision | None
    version: str | None
    watched: Mapping[str, str] = field(default_factory=dict)


class AdmissionGate(Protocol):
    """Counts a request against its caller's limit and reads the auth version (`AuthVersion`) in one step
    of the store every process shares: one round trip per request instead of two."""

    async def enter(self, subject: str, limit: int, window_seconds: int) -> GateAnswer:
        """Count one request of `subject` (a token's verified `sub`); never raises for an unreachable
        store, whose parts of the answer are then None."""
        ...
