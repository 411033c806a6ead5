"""JSON Web Tokens on PyJWT: HS256 only, typed (access or refresh), audience and issuer required."""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from application.auth.ports import IssuedToken, TokenClaims, TokenType
from application.errors import AuthenticationError

__all__ = [
    "ACCESS_TTL",
    "AUDIENCE",
    "ISSUER",
    "LEEWAY",
    "MIN_KEY_BYTES",
    "REFRESH_TTL",
    "JwtTokenCodec",
    "TokenKeyError",
    "decode_key",
    "generate_token_key",
]

ALGORITHM = "HS256"
ISSUER = "xsell"
AUDIENCE = "xsell-api"
ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=7)
LEEWAY = timedelta(seconds=30)
MIN_KEY_BYTES = 32
MAX_TOKEN_CHARS = 8192
_REQUIRED = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti", "typ"]


class TokenKeyError(ValueError):
    """A signing key is not URL-safe base64 of at least 32 bytes."""


def generate_token_key() -> str:
    """A new random 256-bit signing key, URL-safe base64, for XSELL_JWT_KEYS."""
    return base64.urlsafe_b64encode(secrets.token_bytes(MIN_KEY_BYTES)).decode()


def decode_key(text: str) -> bytes:
    """The key bytes of one XSELL_JWT_KEYS entry. Raises TokenKeyError."""
    value = text.strip()
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (ValueError, binascii.Error):
        raise TokenKeyError("a token signing key must be URL-safe base64") from None
    if len(raw) < MIN_KEY_BYTES:
        raise TokenKeyError(
            f"a token signing key must decode to at least {MIN_KEY_BYTES} bytes, not {len(raw)}"
        )
    return raw


def _key_id(key: bytes) -> str:
    # Names the key in the token header without revealing anything about it.
    return hashlib.sha256(b"xsell-jwt-kid\x00" + key).hexdigest()[:16]


class JwtTokenCodec:
    """TokenCodec. The newest key signs; every listed key verifies (picked by `kid`, never by the token's
    own say about algorithms). Times are checked with LEEWAY of clock skew."""

    def __init__(
        self,
        keys: list[str],
        *,
        access_ttl: timedelta = ACCESS_TTL,
        refresh_ttl: timedelta = REFRESH_TTL,
        leeway: timedelta = LEEWAY,
    ) -> None:
        if not keys:
            raise TokenKeyError("at least one token signing key is needed")
        raw = [decode_key(key) for key in keys]
        self._keys = {_key_id(key): key for key in raw}
        self._signing_id = _key_id(raw[0])
        self._ttl = {TokenType.ACCESS: access_ttl, TokenType.REFRESH: refresh_ttl}
        self._leeway = leeway

    def ttl(self, token_type: TokenType) -> timedelta:
        return self._ttl[token_type]

    def issue(
        self, token_type: TokenType, subject: str, session_id: str | None, now: datetime
    ) -> IssuedToken:
        issued = int(now.timestamp())
        expires = issued + int(self._ttl[token_type].total_seconds())
        payload: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": subject,
            "iat": issued,
            "nbf": issued,
            "exp": expires,
            "jti": secrets.token_urlsafe(18),
            "typ": token_type.value,
        }
        if session_id is not None:
            payload["sid"] = session_id
        token = jwt.encode(
            payload, self._keys[self._signing_id], algorithm=ALGORITHM, headers={"kid": self._signing_id}
        )
        return IssuedToken(token=token, claims=self._claims(payload))

    def decode(self, token: str, expected: TokenType) -> TokenClaims:
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise AuthenticationError()
        try:
            header = jwt.get_unverified_header(token)
            key_id = header.get("kid")
            key = self._keys.get(key_id) if isinstance(key_id, str) else None
            if key is None or header.get("alg") != ALGORITHM:
                raise AuthenticationError()
            payload = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=self._leeway,
                options={"require": _REQUIRED, "strict_aud": True},
            )
        except (jwt.PyJWTError, ValueError, TypeError, UnicodeError):
            raise AuthenticationError() from None
        if payload.get("typ") != expected.value:
            raise AuthenticationError()
        if not isinstance(payload.get("sub"), str) or not isinstance(payload.get("jti"), str):
            raise AuthenticationError()
        if not isinstance(payload.get("sid", ""), str):
            raise AuthenticationError()
        return self._claims(payload)

    @staticmethod
    def _claims(payload: dict[str, Any]) -> TokenClaims:
        return TokenClaims(
            token_type=TokenType(payload["typ"]),
            subject=payload["sub"],
            jti=payload["jti"],
            session_id=payload.get("sid"),
            issued_at=datetime.fromtimestamp(payload["iat"], UTC),
            expires_at=datetime.fromtimestamp(payload["exp"], UTC),
        )
