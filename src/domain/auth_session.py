"""A sign-in session: the family of refresh tokens one login starts, revoked as a whole."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from domain.timestamps import require_utc

__all__ = ["AuthSession", "RefreshTokenRecord"]


@dataclass(eq=False)
class AuthSession:
    """One login. Every refresh token it ever issued belongs to it; revoking it ends them all (and the
    access tokens that name it)."""

    user_id: uuid.UUID
    created_at: datetime
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    revoked_at: datetime | None = None
    revoked_reason: str | None = None

    def __post_init__(self) -> None:
        require_utc(self.created_at, "created_at")
        require_utc(self.revoked_at, "revoked_at")

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def revoke(self, when: datetime, reason: str) -> None:
        """Idempotent: the first revocation's time and reason stay."""
        require_utc(when, "when")
        if self.revoked_at is None:
            self.revoked_at = when
            self.revoked_reason = reason


@dataclass(frozen=True, kw_only=True)
class RefreshTokenRecord:
    """What xsell remembers of an issued refresh token (never the token itself): its id and whether it
    has been exchanged already. A second exchange is reuse, the sign of a stolen token."""

    jti: str
    session_id: uuid.UUID
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
