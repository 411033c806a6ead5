"""Turns a bearer access token into the principal of a request, checked against the current state."""

from __future__ import annotations

import uuid

from application.auth.ports import CLIENT_SUBJECT_PREFIX, AuthUnitOfWork, TokenCodec, TokenType
from application.errors import AuthenticationError
from domain.access import Principal

__all__ = ["Authenticate"]


class Authenticate:
    """Verifies an access token, then reads role, grants and the active flag now, not from the token: a
    demoted, disabled or signed-out user loses access at the next request, not when the token expires.
    Claims are only ever used as bound parameters."""

    def __init__(self, uow: AuthUnitOfWork, tokens: TokenCodec) -> None:
        self._uow = uow
        self._tokens = tokens

    async def execute(self, token: str) -> Principal:
        """Raises AuthenticationError for any token that does not name an active principal."""
        claims = self._tokens.decode(token, TokenType.ACCESS)
        async with self._uow:
            if claims.subject.startswith(CLIENT_SUBJECT_PREFIX):
                client = await self._uow.clients.get(claims.subject.removeprefix(CLIENT_SUBJECT_PREFIX))
                if client is None or not client.active:
                    raise AuthenticationError()
                return client.principal()
            try:
                user_id = uuid.UUID(claims.subject)
                session_id = uuid.UUID(claims.session_id or "")
            except ValueError:
                raise AuthenticationError() from None
            user = await self._uow.users.get(user_id)
            session = await self._uow.sessions.get(session_id)
            if user is None or not user.active or session is None or session.revoked:
                raise AuthenticationError()
            if session.user_id != user.id:
                raise AuthenticationError()
            return user.principal()
