"""Sign-in, token refresh with rotation and reuse detection, sign-out, and client-credentials tokens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from application.auth.ports import (
    CLIENT_SUBJECT_PREFIX,
    AuthUnitOfWork,
    IssuedToken,
    PasswordHasher,
    TokenCodec,
    TokenType,
)
from application.errors import AuthenticationError
from application.ports.clock import Clock
from domain.auth_session import AuthSession, RefreshTokenRecord
from domain.errors import InvariantViolationError
from domain.user import User, normalise_email

__all__ = ["IssueClientToken", "Login", "Logout", "RefreshSession", "TokenPair"]

_WRONG_LOGIN = "invalid email or password"
_WRONG_CLIENT = "invalid client credentials"
_BAD_REFRESH = "invalid or expired refresh token"


@dataclass(frozen=True, kw_only=True)
class TokenPair:
    access: IssuedToken
    refresh: IssuedToken | None = None


def _session_id(raw: str | None) -> uuid.UUID:
    try:
        return uuid.UUID(raw or "")
    except ValueError:
        raise AuthenticationError(_BAD_REFRESH) from None


async def _issue_refresh(
    uow: AuthUnitOfWork, tokens: TokenCodec, user: User, session: AuthSession, clock: Clock
) -> TokenPair:
    now = clock.now()
    refresh = tokens.issue(TokenType.REFRESH, str(user.id), str(session.id), now)
    await uow.sessions.add_refresh(
        RefreshTokenRecord(
            jti=refresh.claims.jti,
            session_id=session.id,
            issued_at=refresh.claims.issued_at,
            expires_at=refresh.claims.expires_at,
        )
    )
    access = tokens.issue(TokenType.ACCESS, str(user.id), str(session.id), now)
    return TokenPair(access=access, refresh=refresh)


class Login:
    """Email and password in, an access and a refresh token out, in a new session.

    Unknown email, wrong password and inactive user all raise the same AuthenticationError after the same
    amount of hashing work, so the answer does not tell whether an email has an account.
    """

    def __init__(self, uow: AuthUnitOfWork, hasher: PasswordHasher, tokens: TokenCodec, clock: Clock) -> None:
        self._uow = uow
        self._hasher = hasher
        self._tokens = tokens
        self._clock = clock

    async def execute(self, email: str, password: str) -> TokenPair:
        try:
            normalised: str | None = normalise_email(email)
        except InvariantViolationError:
            normalised = None
        async with self._uow:
            user = None if normalised is None else await self._uow.users.get_by_email(normalised)
        # Hashing happens outside any transaction: a login waiting for its turn holds no connection.
        matches = await self._hasher.verify(None if user is None else user.password_hash, password)
        if user is None or not matches or not user.active:
            raise AuthenticationError(_WRONG_LOGIN)
        new_hash = (
            await self._hasher.hash(password) if self._hasher.needs_rehash(user.password_hash) else None
        )
        async with self._uow:
            current = await self._uow.users.get(user.id)
            if current is None or not current.active or current.password_hash != user.password_hash:
                raise AuthenticationError(_WRONG_LOGIN)  # changed while the password was checked
            if new_hash is not None:
                current.password_hash = new_hash
                await self._uow.users.save(current)
            session = AuthSession(user_id=current.id, created_at=self._clock.now())
            await self._uow.sessions.add(session)
            pair = await _issue_refresh(self._uow, self._tokens, current, session, self._clock)
            await self._uow.commit()
        return pair


class RefreshSession:
    """A refresh token in, a new access and refresh token out; the presented refresh token is used up.

    Presenting a refresh token that was already exchanged means two parties hold it, so the whole session
    (every token descended from that login) is revoked.
    """

    def __init__(self, uow: AuthUnitOfWork, tokens: TokenCodec, clock: Clock) -> None:
        self._uow = uow
        self._tokens = tokens
        self._clock = clock

    async def execute(self, refresh_token: str) -> TokenPair:
        claims = self._tokens.decode(refresh_token, TokenType.REFRESH)
        session_id = _session_id(claims.session_id)
        async with self._uow:
            record = await self._uow.sessions.get_refresh(claims.jti)
            session = await self._uow.sessions.get(session_id)
            if record is None or session is None or record.session_id != session.id or session.revoked:
                raise AuthenticationError(_BAD_REFRESH)
            if not await self._uow.sessions.claim_refresh(claims.jti, self._clock.now()):
                session.revoke(self._clock.now(), "refresh token reused")
                await self._uow.sessions.save(session)
                await self._uow.commit()
                raise AuthenticationError(_BAD_REFRESH)
            user = await self._uow.users.get(session.user_id)
            if user is None or not user.active or str(user.id) != claims.subject:
                raise AuthenticationError(_BAD_REFRESH)
            pair = await _issue_refresh(self._uow, self._tokens, user, session, self._clock)
            await self._uow.commit()
        return pair


class Logout:
    """Revokes the session of a refresh token: its refresh tokens and its access tokens stop working."""

    def __init__(self, uow: AuthUnitOfWork, tokens: TokenCodec, clock: Clock) -> None:
        self._uow = uow
        self._tokens = tokens
        self._clock = clock

    async def execute(self, refresh_token: str) -> None:
        claims = self._tokens.decode(refresh_token, TokenType.REFRESH)
        session_id = _session_id(claims.session_id)
        async with self._uow:
            session = await self._uow.sessions.get(session_id)
            if session is None:
                raise AuthenticationError(_BAD_REFRESH)
            session.revoke(self._clock.now(), "logout")
            await self._uow.sessions.save(session)
            await self._uow.commit()


class IssueClientToken:
    """OAuth client credentials: a service client's id and secret in, an access token out (no refresh)."""

    def __init__(self, uow: AuthUnitOfWork, hasher: PasswordHasher, tokens: TokenCodec, clock: Clock) -> None:
        self._uow = uow
        self._hasher = hasher
        self._tokens = tokens
        self._clock = clock

    async def execute(self, client_id: str, client_secret: str) -> TokenPair:
        async with self._uow:
            client = await self._uow.clients.get(client_id)
        matches = await self._hasher.verify(None if client is None else client.secret_hash, client_secret)
        if client is None or not matches or not client.active:
            raise AuthenticationError(_WRONG_CLIENT)
        access = self._tokens.issue(
            TokenType.ACCESS, CLIENT_SUBJECT_PREFIX + client.id, None, self._clock.now()
        )
        return TokenPair(access=access)
