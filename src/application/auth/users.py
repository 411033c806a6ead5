"""User and service-client administration: create, list, change role or active flag, grant and revoke orgs."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from application.auth.ports import AuthUnitOfWork, PasswordHasher
from application.errors import InvalidRequestError
from application.ports.clock import Clock
from domain.access import Role
from domain.errors import ConflictError, NotFoundError
from domain.user import ServiceClient, User, normalise_email

__all__ = [
    "MAX_PASSWORD",
    "MIN_PASSWORD",
    "AddServiceClient",
    "AddUser",
    "GrantOrg",
    "ListUsers",
    "NewServiceClient",
    "NewUser",
    "RevokeOrg",
    "SetPassword",
    "UpdateUser",
    "UserChange",
    "UserRef",
]

MIN_PASSWORD = 12
MAX_PASSWORD = 256

# A user is named by id (the API) or by email (the command line).
UserRef = uuid.UUID | str


@dataclass(frozen=True, kw_only=True)
class NewUser:
    email: str
    display_name: str
    role: Role
    password: str = field(repr=False)
    org_ids: Sequence[str] = ()


@dataclass(frozen=True, kw_only=True)
class UserChange:
    """Fields to change; None leaves a field as it is."""

    role: Role | None = None
    active: bool | None = None


@dataclass(frozen=True, kw_only=True)
class NewServiceClient:
    id: str
    name: str
    role: Role
    org_ids: Sequence[str] = ()


def check_password(password: str) -> None:
    """Raises InvalidRequestError for a password outside the length policy (NIST 800-63B: length only)."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidRequestError(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")


async def _user(uow: AuthUnitOfWork, ref: UserRef) -> User:
    user = (
        await uow.users.get(ref) if isinstance(ref, uuid.UUID) else await uow.users.get_by_email(ref.lower())
    )
    if user is None:
        raise NotFoundError(f"no user {ref}")
    return user


async def _check_orgs(uow: AuthUnitOfWork, org_ids: Sequence[str]) -> None:
    for org_id in org_ids:
        if await uow.orgs.get(org_id) is None:
            raise NotFoundError(f"no org {org_id}")


class AddUser:
    """Raises ConflictError when the email is taken, NotFoundError for an unknown org,
    InvalidRequestError for a password outside the policy."""

    def __init__(self, uow: AuthUnitOfWork, hasher: PasswordHasher, clock: Clock) -> None:
        self._uow = uow
        self._hasher = hasher
        self._clock = clock

    async def execute(self, new: NewUser) -> User:
        check_password(new.password)
        email = normalise_email(new.email)
        password_hash = await self._hasher.hash(new.password)
        async with self._uow:
            if await self._uow.users.get_by_email(email) is not None:
                raise ConflictError(f"a user with email {email} exists")
            await _check_orgs(self._uow, new.org_ids)
            user = User(
                email=email,
                display_name=new.display_name,
                role=new.role,
                password_hash=password_hash,
                org_ids=set(new.org_ids),
                created_at=self._clock.now(),
            )
            await self._uow.users.add(user)
            await self._uow.commit()
        return user


class ListUsers:
    def __init__(self, uow: AuthUnitOfWork) -> None:
        self._uow = uow

    async def execute(self) -> list[User]:
        async with self._uow:
            return await self._uow.users.list()


class UpdateUser:
    """Changes role and/or active flag. Raises NotFoundError for an unknown user, ConflictError when the
    change would leave no active administrator."""

    def __init__(self, uow: AuthUnitOfWork) -> None:
        self._uow = uow

    async def execute(self, ref: UserRef, change: UserChange) -> User:
        async with self._uow:
            user = await _user(self._uow, ref)
            was_admin = user.active and user.role is Role.ADMIN
            if change.role is not None:
                user.role = change.role
            if change.active is not None:
                user.active = change.active
            still_admin = user.active and user.role is Role.ADMIN
            if was_admin and not still_admin and await self._uow.users.count_active_admins() <= 1:
                raise ConflictError("this is the last active admin; make another admin first")
            await self._uow.users.save(user)
            await self._uow.commit()
        return user


class GrantOrg:
    """Idempotent. Raises NotFoundError for an unknown user or org."""

    def __init__(self, uow: AuthUnitOfWork) -> None:
        self._uow = uow

    async def execute(self, ref: UserRef, org_id: str) -> User:
        async with self._uow:
            user = await _user(self._uow, ref)
            await _check_orgs(self._uow, [org_id])
            user.org_ids.add(org_id)
            await self._uow.users.save(user)
            await self._uow.commit()
        return user


class RevokeOrg:
    """Idempotent. Raises NotFoundError for an unknown user."""

    def __init__(self, uow: AuthUnitOfWork) -> None:
        self._uow = uow

    async def execute(self, ref: UserRef, org_id: str) -> User:
        async with self._uow:
            user = await _user(self._uow, ref)
            user.org_ids.discard(org_id)
            await self._uow.users.save(user)
            await self._uow.commit()
        return user


class SetPassword:
    """Replaces a user's password and signs the user out everywhere (every session is revoked).
    Raises NotFoundError for an unknown user, InvalidRequestError for a password outside the policy."""

    def __init__(self, uow: AuthUnitOfWork, hasher: PasswordHasher, clock: Clock) -> None:
        self._uow = uow
        self._hasher = hasher
        self._clock = clock

    async def execute(self, ref: UserRef, password: str) -> User:
        check_password(password)
        password_hash = await self._hasher.hash(password)
        async with self._uow:
            user = await _user(self._uow, ref)
            user.password_hash = password_hash
            await self._uow.users.save(user)
            await self._uow.sessions.revoke_all(user.id, self._clock.now(), "password changed")
            await self._uow.commit()
        return user


class AddServiceClient:
    """Registers a service client and returns it with its secret, which is shown this once only."""

    def __init__(self, uow: AuthUnitOfWork, hasher: PasswordHasher, clock: Clock) -> None:
        self._uow = uow
        self._hasher = hasher
        self._clock = clock

    async def execute(self, new: NewServiceClient) -> tuple[ServiceClient, str]:
        secret = secrets.token_urlsafe(32)
        secret_hash = await self._hasher.hash(secret)
        async with self._uow:
            if await self._uow.clients.get(new.id) is not None:
                raise ConflictError(f"a service client {new.id} exists")
            await _check_orgs(self._uow, new.org_ids)
            client = ServiceClient(
                id=new.id,
                name=new.name,
                role=new.role,
                secret_hash=secret_hash,
                org_ids=set(new.org_ids),
                created_at=self._clock.now(),
            )
            await self._uow.clients.add(client)
            await self._uow.commit()
        return client, secret
