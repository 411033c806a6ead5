"""Turns a bearer access token into the principal of a request, checked against the current state."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from application.auth.ports import (
    CLIENT_SUBJECT_PREFIX,
    AdmissionGate,
    AuthUnitOfWork,
    AuthVersion,
    TokenClaims,
    TokenCodec,
    TokenType,
)
from application.errors import AuthenticationError
from application.ports.rate_limit import RateLimitDecision
from domain.access import Principal

__all__ = ["Admitted", "Authenticate", "PrincipalCache"]


class PrincipalCache:
    """Principals this process checked recently, by the exact access token, each reused for at most
    `ttl_seconds` (never past the token's expiry) and only while the shared auth version is the one it was
    checked under. A sign-out, a deactivation, a role or grant change or a password change moves the
    version on, so every process stops reusing the principal at its next request; when the version cannot
    be read nothing is reused. At most `max_entries` are kept (the oldest go first). Concurrent checks of
    one token share one database read. In the last `renew_seconds` of an entry's reuse one request checks
    again while the others still reuse it, so a busy token never makes every request wait at once."""

    def __init__(
        self,
        ttl_seconds: float = 5.0,
        renew_seconds: float = 1.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._ttl = ttl_seconds
        self._renew = renew_seconds
        self._max = max_entries
        self._clock = clock
        self._wall_clock = wall_clock
        self._entries: dict[str, tuple[float, float, str, Principal, str]] = {}
        self._pending: dict[tuple[str, str], asyncio.Future[Principal]] = {}

    def get(self, token: str, version: str) -> Principal | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        reuse_until, token_expires, checked_under, principal, _ = entry
        if checked_under != version or self._clock() >= reuse_until or self._wall_clock() >= token_expires:
            del self._entries[token]
            return None
        return principal

    def subject_of(self, token: str) -> str | None:
        """The `sub` of `token` when it is kept and not expired: its signature, audience and times were
        verified when it was stored. Says nothing about whether its principal may still be reused."""
        entry = self._entries.get(token)
        if entry is None or self._wall_clock() >= entry[1]:
            return None
        return entry[4]

    def put(self, token: str, version: str, principal: Principal, claims: TokenClaims) -> None:
        if len(self._entries) >= self._max:
            now = self._clock()
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            while len(self._entries) >= self._max:  # dicts keep insertion order: oldest first
                del self._entries[next(iter(self._entries))]
        expires = claims.expires_at.timestamp()
        self._entries[token] = (self._clock() + self._ttl, expires, version, principal, claims.subject)

    def due(self, token: str, version: str) -> bool:
        """Whether the entry of `token` is in its last `renew_seconds` and nobody is checking it again:
        the caller should check now, while the others go on reusing it."""
        entry = self._entries.get(token)
        if entry is None or (token, version) in self._pending:
            return False
        return self._clock() >= entry[0] - self._renew

    def pending(self, token: str, version: str) -> asyncio.Future[Principal] | None:
        """The check of `token` under `version` another request is making now, if any."""
        return self._pending.get((token, version))

    def start(self, token: str, version: str) -> asyncio.Future[Principal]:
        future: asyncio.Future[Principal] = asyncio.get_running_loop().create_future()
        self._pending[(token, version)] = future
        return future

    def finish(self, token: str, version: str) -> None:
        self._pending.pop((token, version), None)

    def drop(self, token: str) -> None:
        self._entries.pop(token, None)

    def clear(self) -> None:
        self._entries.clear()


@dataclass(frozen=True, slots=True)
class Admitted:
    """A request let in: who made it, its count against their rate limit (None when not counted), and
    the versions the gate read in the same step (`GateAnswer.watched`)."""

    principal: Principal
    decision: RateLimitDecision | None
    watched: Mapping[str, str] = field(default_factory=dict)


class Authenticate:
    """Verifies an access token, then reads role, grants and the active flag now, not from the token: a
    demoted, disabled or signed-out user loses access at the next request, not when the token expires.
    With a `cache` and a way to read the auth version (`version`, or `gate` for `admit`), a principal
    checked in the last few seconds under the current version is reused without reading the database.
    Each check opens its own unit of work (`unit_of_work`), so a reused principal costs no session at all.
    Claims are only ever used as bound parameters."""

    def __init__(
        self,
        unit_of_work: Callable[[], AuthUnitOfWork],
        tokens: TokenCodec,
        cache: PrincipalCache | None = None,
        version: AuthVersion | None = None,
        gate: AdmissionGate | None = None,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._tokens = tokens
        self._cache = cache
        self._version = version
        self._gate = gate

    async def execute(self, token: str) -> Principal:
        """Raises AuthenticationError for any token that does not name an active principal."""
        # The version is read before anything else: a change committed after this read moves it on, so
        # what is stored below under it is never reused after that change.
        version = None
        if self._cache is not None and self._version is not None:
            version = await self._version.current()
        return await self._principal(token, version, None)

    async def admit(self, token: str, limit: int, window_seconds: int) -> Admitted:
        """`execute`, and the request counted against `limit` per window for the token's subject, with
        the count and the version read in one step of the gate. Raises what `execute` raises; a token
        that is not a valid access token is refused before anything is counted."""
        if self._gate is None:
            return Admitted(await self.execute(token), None)
        claims = None
        subject = self._cache.subject_of(token) if self._cache is not None else None
        if subject is None:
            claims = self._tokens.decode(token, TokenType.ACCESS)
            subject = claims.subject
        answer = await self._gate.enter(subject, limit, window_seconds)
        version = answer.version if self._cache is not None else None
        principal = await self._principal(token, version, claims)
        return Admitted(principal, answer.decision, answer.watched)

    async def _principal(self, token: str, version: str | None, claims: TokenClaims | None) -> Principal:
        if self._cache is None or version is None:
            claims = claims or self._tokens.decode(token, TokenType.ACCESS)
            return await self._check(claims.subject, claims.session_id)
        # An entry exists only for this exact token string, verified (signature, audience, times) when
        # it was stored; its expiry is kept with it.
        cached = self._cache.get(token, version)
        if cached is not None and not self._cache.due(token, version):
            return cached
        claims = claims or self._tokens.decode(token, TokenType.ACCESS)
        if cached is not None:  # due for a new check: this request makes it, the others reuse meanwhile
            return await self._check_once(token, version, claims)
        pending = self._cache.pending(token, version)
        if pending is not None:
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                if not pending.cancelled():  # this request was cancelled, not the one checking
                    raise
        return await self._check_once(token, version, claims)

    async def _check_once(self, token: str, version: str, claims: TokenClaims) -> Principal:
        assert self._cache is not None
        future = self._cache.start(token, version)
        try:
            principal = await self._check(claims.subject, claims.session_id)
        except BaseException as exc:
            if isinstance(exc, AuthenticationError):
                self._cache.drop(token)  # nobody reuses what a check just refused
            if isinstance(exc, Exception):
                future.set_exception(exc)
                future.exception()  # retrieved here: no "never retrieved" warning when nobody waits
            else:
                future.cancel()
            raise
        finally:
            self._cache.finish(token, version)
        future.set_result(principal)
        self._cache.put(token, version, principal, claims)
        return principal

    async def _check(self, subject: str, session_ref: str | None) -> Principal:
        async with self._unit_of_work() as uow:
            if subject.startswith(CLIENT_SUBJECT_PREFIX):
                client = await uow.clients.get(subject.removeprefix(CLIENT_SUBJECT_PREFIX))
                if client is None or not client.active:
                    raise AuthenticationError()
                return client.principal()
            try:
                user_id = uuid.UUID(subject)
                session_id = uuid.UUID(session_ref or "")
            except ValueError:
                raise AuthenticationError() from None
            user = await uow.users.get(user_id)
            session = await uow.sessions.get(session_id)
            if user is None or not user.active or session is None or session.revoked:
                raise AuthenticationError()
            if session.user_id != user.id:
                raise AuthenticationError()
            return user.principal()
