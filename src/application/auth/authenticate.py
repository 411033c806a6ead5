"""Turns a bearer access token into the principal of a request, checked against the current state."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import datetime

from application.auth.ports import CLIENT_SUBJECT_PREFIX, AuthUnitOfWork, AuthVersion, TokenCodec, TokenType
from application.errors import AuthenticationError
from domain.access import Principal

__all__ = ["Authenticate", "PrincipalCache"]


class PrincipalCache:
    """Principals this process checked recently, by the exact access token, each reused for at most
    `ttl_seconds` (never past the token's expiry) and only while the shared auth version is the one it was
    checked under. A sign-out, a deactivation, a role or grant change or a password change moves the
    version on, so every process stops reusing the principal at its next request; when the version cannot
    be read nothing is reused. At most `max_entries` are kept (the oldest go first). Concurrent checks of
    one token share one database read."""

    def __init__(
        self,
        ttl_seconds: float = 5.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._wall_clock = wall_clock
        self._entries: dict[str, tuple[float, float, str, Principal]] = {}
        self._pending: dict[tuple[str, str], asyncio.Future[Principal]] = {}

    def get(self, token: str, version: str) -> Principal | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        reuse_until, token_expires, checked_under, principal = entry
        if checked_under != version or self._clock() >= reuse_until or self._wall_clock() >= token_expires:
            del self._entries[token]
            return None
        return principal

    def put(self, token: str, version: str, principal: Principal, token_expires: datetime) -> None:
        if len(self._entries) >= self._max:
            now = self._clock()
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            while len(self._entries) >= self._max:  # dicts keep insertion order: oldest first
                del self._entries[next(iter(self._entries))]
        entry = (self._clock() + self._ttl, token_expires.timestamp(), version, principal)
        self._entries[token] = entry

    def pending(self, token: str, version: str) -> asyncio.Future[Principal] | None:
        """The check of `token` under `version` another request is making now, if any."""
        return self._pending.get((token, version))

    def start(self, token: str, version: str) -> asyncio.Future[Principal]:
        future: asyncio.Future[Principal] = asyncio.get_running_loop().create_future()
        self._pending[(token, version)] = future
        return future

    def finish(self, token: str, version: str) -> None:
        self._pending.pop((token, version), None)

    def clear(self) -> None:
        self._entries.clear()


class Authenticate:
    """Verifies an access token, then reads role, grants and the active flag now, not from the token: a
    demoted, disabled or signed-out user loses access at the next request, not when the token expires.
    With a `cache` and a `version`, a principal checked in the last few seconds under the current auth
    version is reused without reading the database. Claims are only ever used as bound parameters."""

    def __init__(
        self,
        uow: AuthUnitOfWork,
        tokens: TokenCodec,
        cache: PrincipalCache | None = None,
        version: AuthVersion | None = None,
    ) -> None:
        self._uow = uow
        self._tokens = tokens
        self._cache = cache
        self._version = version

    async def execute(self, token: str) -> Principal:
        """Raises AuthenticationError for any token that does not name an active principal."""
        if self._cache is None or self._version is None:
            claims = self._tokens.decode(token, TokenType.ACCESS)
            return await self._check(claims.subject, claims.session_id)
        # The version is read before anything else: a change committed after this read moves it on, so
        # what is stored below under it is never reused after that change.
        version = await self._version.current()
        if version is None:
            claims = self._tokens.decode(token, TokenType.ACCESS)
            return await self._check(claims.subject, claims.session_id)
        # An entry exists only for this exact token string, verified (signature, audience, times) when
        # it was stored; its expiry is kept with it.
        cached = self._cache.get(token, version)
        if cached is not None:
            return cached
        claims = self._tokens.decode(token, TokenType.ACCESS)
        pending = self._cache.pending(token, version)
        if pending is not None:
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                if not pending.cancelled():  # this request was cancelled, not the one checking
                    raise
        return await self._check_once(token, version, claims.subject, claims.session_id, claims.expires_at)

    async def _check_once(
        self, token: str, version: str, subject: str, session_ref: str | None, expires: datetime
    ) -> Principal:
        assert self._cache is not None
        future = self._cache.start(token, version)
        try:
            principal = await self._check(subject, session_ref)
        except BaseException as exc:
            if isinstance(exc, Exception):
                future.set_exception(exc)
                future.exception()  # retrieved here: no "never retrieved" warning when nobody waits
            else:
                future.cancel()
            raise
        finally:
            self._cache.finish(token, version)
        future.set_result(principal)
        self._cache.put(token, version, principal, expires)
        return principal

    async def _check(self, subject: str, session_ref: str | None) -> Principal:
        async with self._uow:
            if subject.startswith(CLIENT_SUBJECT_PREFIX):
                client = await self._uow.clients.get(subject.removeprefix(CLIENT_SUBJECT_PREFIX))
                if client is None or not client.active:
                    raise AuthenticationError()
                return client.principal()
            try:
                user_id = uuid.UUID(subject)
                session_id = uuid.UUID(session_ref or "")
            except ValueError:
                raise AuthenticationError() from None
            user = await self._uow.users.get(user_id)
            session = await self._uow.sessions.get(session_id)
            if user is None or not user.active or session is None or session.revoked:
                raise AuthenticationError()
            if session.user_id != user.id:
                raise AuthenticationError()
            return user.principal()
