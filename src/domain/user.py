"""Users and service clients of the API: identity, role, active flag and per-org grants."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from domain.access import Principal, PrincipalKind, Role
from domain.errors import InvariantViolationError
from domain.timestamps import require_utc, utc_now

__all__ = ["ServiceClient", "User", "normalise_email"]

# Deliberately loose: one '@', something on both sides, a dot in the domain. Delivery decides the rest.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CLIENT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{2,63}$")
_MAX_EMAIL = 254


def normalise_email(email: str) -> str:
    """Lower-case and trimmed: one account per mailbox. Raises InvariantViolationError when malformed."""
    value = email.strip().lower()
    if len(value) > _MAX_EMAIL or not _EMAIL.match(value):
        raise InvariantViolationError("an email address looks like name@example.com")
    return value


@dataclass(eq=False)
class User:
    """A person who signs in with email and password. `password_hash` is opaque to the domain."""

    email: str
    display_name: str
    role: Role
    password_hash: str = field(repr=False)
    org_ids: set[str] = field(default_factory=set)
    active: bool = True
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    created_at: datetime = field(default_factory=utc_now)

    def __post_init__(self) -> None:
        self.email = normalise_email(self.email)
        self.display_name = self.display_name.strip()
        if not self.display_name:
            raise InvariantViolationError("a user needs a display name")
        self.role = Role(self.role)
        self.org_ids = set(self.org_ids)
        require_utc(self.created_at, "created_at")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, User) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def principal(self) -> Principal:
        return Principal(
            subject=str(self.id), kind=PrincipalKind.USER, role=self.role, org_ids=frozenset(self.org_ids)
        )


@dataclass(eq=False)
class ServiceClient:
    """A program that gets access tokens with its client id and secret (OAuth client credentials)."""

    id: str
    name: str
    role: Role
    secret_hash: str = field(repr=False)
    org_ids: set[str] = field(default_factory=set)
    active: bool = True
    created_at: datetime = field(default_factory=utc_now)

    def __post_init__(self) -> None:
        if not _CLIENT_ID.match(self.id):
            raise InvariantViolationError(
                f"a client id is 3-64 lower-case letters, digits, '-' or '_'; got {self.id!r}"
            )
        if not self.name.strip():
            raise InvariantViolationError("a service client needs a name")
        self.role = Role(self.role)
        self.org_ids = set(self.org_ids)
        require_utc(self.created_at, "created_at")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ServiceClient) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def principal(self) -> Principal:
        return Principal(
            subject=self.id,
            kind=PrincipalKind.SERVICE_CLIENT,
            role=self.role,
            org_ids=frozenset(self.org_ids),
        )
