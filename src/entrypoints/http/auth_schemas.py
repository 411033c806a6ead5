"""Wire types of sign-in, tokens, users and grants. Password and secret fields are write-only."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec

from application.auth import TokenPair
from application.auth.users import MAX_PASSWORD, MIN_PASSWORD
from domain.access import Role
from domain.user import User

__all__ = [
    "ClientCredentialsIn",
    "GrantsOut",
    "LoginIn",
    "LogoutIn",
    "NewUserIn",
    "RefreshIn",
    "TokenOut",
    "UserChangeIn",
    "UserOut",
]


def _write_only(description: str, example: str, min_length: int = 1, max_length: int = 1024) -> Any:
    # writeOnly: the value goes in requests and never comes back in a response.
    return msgspec.Meta(
        min_length=min_length,
        max_length=max_length,
        description=description,
        examples=[example],
        extra_json_schema={"extra": {"write_only": True, "format": "password"}},
    )


Email = Annotated[
    str,
    msgspec.Meta(min_length=3, max_length=254, description="Email address.", examples=["ana@example.com"]),
]
# An example for the OpenAPI document only, not a usable token.
_TOKEN_EXAMPLE = "eyJhbGciOiJIUzI1NiIsImtpZCI6IjFhMmIzYzRkIiwidHlwIjoiSldUIn0.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl"  # noqa: S105
Token = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=8192,
        description="A refresh token from login or refresh.",
        examples=[_TOKEN_EXAMPLE],
        extra_json_schema={"extra": {"write_only": True}},
    ),
]
OrgIds = Annotated[
    list[Annotated[str, msgspec.Meta(min_length=1, max_length=40)]],
    msgspec.Meta(
        max_length=1000, description="Org ids granted (admins see every org anyway).", examples=[["emea"]]
    ),
]


class LoginIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Email and password of a user."""

    email: Email
    password: Annotated[str, _write_only("The user's password.", "correct horse battery staple")]


class RefreshIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A refresh token; it is used up by this call and a new one comes back."""

    refresh_token: Token


class LogoutIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The refresh token of the session to end."""

    refresh_token: Token


class ClientCredentialsIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """OAuth 2.0 client credentials of a service client (as JSON)."""

    grant_type: Annotated[
        str, msgspec.Meta(pattern="^client_credentials$", description="Always `client_credentials`.")
    ]
    client_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64, examples=["crm-bridge"])]
    client_secret: Annotated[
        str, _write_only("The client's secret, shown once when it was created.", "s3cr3t")
    ]


class TokenOut(msgspec.Struct, frozen=True, kw_only=True):
    """Bearer tokens. Send the access token as `Authorization: Bearer …`; exchange the refresh token at
    /api/v1/auth/refresh before it expires (each refresh token works once)."""

    access_token: Annotated[str, msgspec.Meta(examples=[_TOKEN_EXAMPLE])]
    token_type: Annotated[str, msgspec.Meta(examples=["Bearer"])]
    expires_in: Annotated[int, msgspec.Meta(description="Seconds the access token is valid.", examples=[900])]
    refresh_token: Annotated[str | None, msgspec.Meta(description="Absent for service clients.")] = None
    refresh_expires_in: Annotated[int | None, msgspec.Meta(examples=[604800])] = None

    @classmethod
    def of(cls, pair: TokenPair) -> TokenOut:
        access = pair.access.claims
        refresh = pair.refresh
        return cls(
            access_token=pair.access.token,
            token_type="Bearer",  # noqa: S106  (the OAuth token type, not a secret)
            expires_in=int((access.expires_at - access.issued_at).total_seconds()),
            refresh_token=None if refresh is None else refresh.token,
            refresh_expires_in=(
                None
                if refresh is None
                else int((refresh.claims.expires_at - refresh.claims.issued_at).total_seconds())
            ),
        )


class NewUserIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A new user. The password is hashed (argon2id) and never returned."""

    email: Email
    display_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200, examples=["Ana Lima"])]
    role: Annotated[Role, msgspec.Meta(description="admin, analyst or sales.", examples=["sales"])]
    password: Annotated[
        str,
        _write_only(
            f"{MIN_PASSWORD} to {MAX_PASSWORD} characters.",
            "correct horse battery staple",
            MIN_PASSWORD,
            MAX_PASSWORD,
        ),
    ]
    org_ids: OrgIds = msgspec.field(default_factory=list)


class UserChangeIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Fields to change; omitted fields stay as they are."""

    role: Annotated[Role | None, msgspec.Meta(examples=["analyst"])] = None
    active: Annotated[bool | None, msgspec.Meta(description="False signs the user out at once.")] = None


class UserOut(msgspec.Struct, frozen=True, kw_only=True):
    """A user, without any credential."""

    id: uuid.UUID
    email: str
    display_name: str
    role: Role
    active: bool
    org_ids: list[str]
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            role=user.role,
            active=user.active,
            org_ids=sorted(user.org_ids),
            created_at=user.created_at,
        )


class GrantsOut(msgspec.Struct, frozen=True, kw_only=True):
    """The orgs a user is granted after the change."""

    user_id: uuid.UUID
    org_ids: list[str]
