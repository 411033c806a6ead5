"""Admin routes /api/v1/users: users, their role and active flag, and their org grants."""

from __future__ import annotations

import uuid

from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from application.auth import AddUser, GrantOrg, ListUsers, NewUser, RevokeOrg, UpdateUser, UserChange
from entrypoints.http.auth_schemas import GrantsOut, NewUserIn, UserChangeIn, UserOut
from entrypoints.http.security import admin_only

__all__ = ["UserController"]

_ORG_ID = "Org id."


class UserController(Controller):
    """Every route needs the admin role (403 otherwise); unknown users and orgs answer 404."""

    path = "/users"
    tags = ["users"]  # noqa: RUF012  (Litestar declares it as an instance attribute)
    guards = [admin_only]  # noqa: RUF012

    @get("/", summary="List users", description="Every user with role, active flag and granted orgs.")
    @inject
    async def list_users(self, use_case: FromDishka[ListUsers]) -> list[UserOut]:
        return [UserOut.of(user) for user in await use_case.execute()]

    @post(
        "/",
        summary="Create a user",
        description="409 when the email is taken, 404 when a granted org does not exist.",
        status_code=HTTP_201_CREATED,
    )
    @inject
    async def add_user(self, data: JSONBody[NewUserIn], use_case: FromDishka[AddUser]) -> UserOut:
        user = await use_case.execute(
            NewUser(
                email=data.email,
                display_name=data.display_name,
                role=data.role,
                password=data.password,
                org_ids=tuple(data.org_ids),
            )
        )
        return UserOut.of(user)

    @patch(
        "/{user_id:uuid}",
        summary="Change a user's role or active flag",
        description="Takes effect at the user's next request. 409 when it would leave no active admin.",
    )
    @inject
    async def update_user(
        self, user_id: FromPath[uuid.UUID], data: JSONBody[UserChangeIn], use_case: FromDishka[UpdateUser]
    ) -> UserOut:
        return UserOut.of(await use_case.execute(user_id, UserChange(role=data.role, active=data.active)))

    @put(
        "/{user_id:uuid}/grants/{org_id:str}",
        summary="Grant an org",
        description="The user may read the org's data from the next request on. Idempotent.",
    )
    @inject
    async def grant(
        self, user_id: FromPath[uuid.UUID], org_id: FromPath[str], use_case: FromDishka[GrantOrg]
    ) -> GrantsOut:
        user = await use_case.execute(user_id, org_id)
        return GrantsOut(user_id=user.id, org_ids=sorted(user.org_ids))

    @delete(
        "/{user_id:uuid}/grants/{org_id:str}",
        summary="Revoke an org",
        description="The user no longer reads the org's data, from the next request on. Idempotent.",
    )
    @inject
    async def revoke(
        self, user_id: FromPath[uuid.UUID], org_id: FromPath[str], use_case: FromDishka[RevokeOrg]
    ) -> None:
        await use_case.execute(user_id, org_id)
