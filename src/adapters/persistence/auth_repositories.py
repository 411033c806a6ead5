"""SQLAlchemy repositories of users, service clients and sign-in sessions (with refresh-token ids)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.auth_tables import (
    auth_sessions,
    refresh_tokens,
    service_client_grants,
    service_clients,
    user_org_grants,
    users,
)
from domain.access import Role
from domain.auth_session import AuthSession, RefreshTokenRecord
from domain.user import ServiceClient, User

__all__ = ["SqlaServiceClientRepository", "SqlaSessionRepository", "SqlaUserRepository"]


async def _replace_grants(
    session: AsyncSession, table: Table, owner_column: str, owner: Any, org_ids: set[str]
) -> None:
    owner_col = table.c[owner_column]
    await session.execute(delete(table).where(owner_col == owner))
    if org_ids:
        await session.execute(insert(table), [{owner_column: owner, "org_id": o} for o in sorted(org_ids)])


def _user(row: Mapping[Any, Any], org_ids: set[str]) -> User:
    return User(
        id=row["id"],
        email=row["email"],
        display_name=row["display_name"],
        role=Role(row["role"]),
        password_hash=row["password_hash"],
        org_ids=org_ids,
        active=row["active"],
        created_at=row["created_at"],
    )


class SqlaUserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _one(self, condition: Any) -> User | None:
        row = (await self._session.execute(select(users).where(condition))).mappings().first()
        if row is None:
            return None
        grants = await self._session.execute(
            select(user_org_grants.c.org_id).where(user_org_grants.c.user_id == row["id"])
        )
        return _user(row, set(grants.scalars()))

    async def get(self, user_id: uuid.UUID) -> User | None:
        return await self._one(users.c.id == user_id)

    async def get_by_email(self, email: str) -> User | None:
        return await self._one(users.c.email == email)

    async def add(self, user: User) -> None:
        await self._session.execute(
            insert(users).values(
                id=user.id,
                email=user.email,
                display_name=user.display_name,
                role=user.role.value,
                password_hash=user.password_hash,
                active=user.active,
                created_at=user.created_at,
            )
        )
        await _replace_grants(self._session, user_org_grants, "user_id", user.id, user.org_ids)

    async def save(self, user: User) -> None:
        await self._session.execute(
            update(users)
            .where(users.c.id == user.id)
            .values(
                display_name=user.display_name,
                role=user.role.value,
                password_hash=user.password_hash,
                active=user.active,
            )
        )
        await _replace_grants(self._session, user_org_grants, "user_id", user.id, user.org_ids)

    async def list(self) -> list[User]:
        rows = (await self._session.execute(select(users).order_by(users.c.email))).mappings().all()
        grants: dict[uuid.UUID, set[str]] = defaultdict(set)
        for user_id, org_id in await self._session.execute(select(user_org_grants)):
            grants[user_id].add(org_id)
        return [_user(row, grants[row["id"]]) for row in rows]

    async def count_active_admins(self) -> int:
        statement = select(func.count()).where(users.c.role == Role.ADMIN.value, users.c.active.is_(True))
        return int((await self._session.execute(statement)).scalar_one())


class SqlaServiceClientRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, client_id: str) -> ServiceClient | None:
        statement = select(service_clients).where(service_clients.c.id == client_id)
        row = (await self._session.execute(statement)).mappings().first()
        if row is None:
            return None
        grants = await self._session.execute(
            select(service_client_grants.c.org_id).where(service_client_grants.c.client_id == client_id)
        )
        return ServiceClient(
            id=row["id"],
            name=row["name"],
            role=Role(row["role"]),
            secret_hash=row["secret_hash"],
            org_ids=set(grants.scalars()),
            active=row["active"],
            created_at=row["created_at"],
        )

    async def add(self, client: ServiceClient) -> None:
        await self._session.execute(
            insert(service_clients).values(
                id=client.id,
                name=client.name,
                role=client.role.value,
                secret_hash=client.secret_hash,
                active=client.active,
                created_at=client.created_at,
            )
        )
        await _replace_grants(self._session, service_client_grants, "client_id", client.id, client.org_ids)

    async def save(self, client: ServiceClient) -> None:
        await self._session.execute(
            update(service_clients)
            .where(service_clients.c.id == client.id)
            .values(
                name=client.name, role=client.role.value, secret_hash=client.secret_hash, active=client.active
            )
        )
        await _replace_grants(self._session, service_client_grants, "client_id", client.id, client.org_ids)


class SqlaSessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, session_id: uuid.UUID) -> AuthSession | None:
        statement = select(auth_sessions).where(auth_sessions.c.id == session_id)
        row = (await self._session.execute(statement)).mappings().first()
        if row is None:
            return None
        return AuthSession(
            id=row["id"],
            user_id=row["user_id"],
            created_at=row["created_at"],
            revoked_at=row["revoked_at"],
            revoked_reason=row["revoked_reason"],
        )

    async def add(self, session: AuthSession) -> None:
        await self._session.execute(
            insert(auth_sessions).values(
                id=session.id,
                user_id=session.user_id,
                created_at=session.created_at,
                revoked_at=session.revoked_at,
                revoked_reason=session.revoked_reason,
            )
        )

    async def save(self, session: AuthSession) -> None:
        await self._session.execute(
            update(auth_sessions)
            .where(auth_sessions.c.id == session.id)
            .values(revoked_at=session.revoked_at, revoked_reason=session.revoked_reason)
        )

    async def revoke_all(self, user_id: uuid.UUID, when: datetime, reason: str) -> int:
        statement = (
            update(auth_sessions)
            .where(auth_sessions.c.user_id == user_id, auth_sessions.c.revoked_at.is_(None))
            .values(revoked_at=when, revoked_reason=reason)
            .returning(auth_sessions.c.id)
        )
        return len((await self._session.execute(statement)).all())

    async def add_refresh(self, record: RefreshTokenRecord) -> None:
        await self._session.execute(
            insert(refresh_tokens).values(
                jti=record.jti,
                session_id=record.session_id,
                issued_at=record.issued_at,
                expires_at=record.expires_at,
                used_at=record.used_at,
            )
        )

    async def get_refresh(self, jti: str) -> RefreshTokenRecord | None:
        statement = select(refresh_tokens).where(refresh_tokens.c.jti == jti)
        row = (await self._session.execute(statement)).mappings().first()
        return None if row is None else RefreshTokenRecord(**dict(row))

    async def claim_refresh(self, jti: str, when: datetime) -> bool:
        # One UPDATE with the condition in it: of two concurrent exchanges exactly one sees a row.
        statement = (
            update(refresh_tokens)
            .where(refresh_tokens.c.jti == jti, refresh_tokens.c.used_at.is_(None))
            .values(used_at=when)
            .returning(refresh_tokens.c.jti)
        )
        return (await self._session.execute(statement)).first() is not None
