"""Tables of users, service clients, their org grants, sign-in sessions and refresh tokens."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    Uuid,
)

from adapters.persistence.tables import metadata

__all__ = [
    "auth_sessions",
    "metadata",
    "refresh_tokens",
    "service_client_grants",
    "service_clients",
    "user_org_grants",
    "users",
]

_ROLE_CHECK = "role IN ('admin', 'analyst', 'sales')"

users = Table(
    "users",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("email", Text, nullable=False, unique=True),  # stored lower-case
    Column("display_name", Text, nullable=False),
    Column("role", String(20), nullable=False),
    Column("password_hash", Text, nullable=False),  # argon2id, PHC string with its parameters
    Column("active", Boolean, nullable=False, server_default="true"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint(_ROLE_CHECK, name="role"),
)

user_org_grants = Table(
    "user_org_grants",
    metadata,
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("org_id", String(40), ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_user_org_grants_org", "org_id"),
)

service_clients = Table(
    "service_clients",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("role", String(20), nullable=False),
    Column("secret_hash", Text, nullable=False),  # argon2id
    Column("active", Boolean, nullable=False, server_default="true"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint(_ROLE_CHECK, name="role"),
)

service_client_grants = Table(
    "service_client_grants",
    metadata,
    Column("client_id", String(64), ForeignKey("service_clients.id", ondelete="CASCADE"), primary_key=True),
    Column("org_id", String(40), ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True),
)

# One row per login: the family of every refresh token that login led to. Revoking the row (logout, a
# reused refresh token) ends the refresh tokens and the access tokens that carry its id.
auth_sessions = Table(
    "auth_sessions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoked_reason", Text),
    Index("ix_auth_sessions_user", "user_id"),
)

# The ids (jti) of issued refresh tokens, never the tokens: `used_at` set = already exchanged.
refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("jti", String(64), primary_key=True),
    Column("session_id", Uuid, ForeignKey("auth_sessions.id", ondelete="CASCADE"), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Index("ix_refresh_tokens_session", "session_id"),
    Index("ix_refresh_tokens_expires", "expires_at"),
)
