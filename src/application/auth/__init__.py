"""Authentication and user administration: sign-in, token refresh and revocation, users and grants."""

from __future__ import annotations

from application.auth.authenticate import Admitted, Authenticate, PrincipalCache
from application.auth.sessions import IssueClientToken, Login, Logout, RefreshSession, TokenPair
from application.auth.users import (
    AddServiceClient,
    AddUser,
    GrantOrg,
    ListUsers,
    NewServiceClient,
    NewUser,
    RevokeOrg,
    SetPassword,
    UpdateUser,
    UserChange,
)

__all__ = [
    "AddServiceClient",
    "AddUser",
    "Admitted",
    "Authenticate",
    "GrantOrg",
    "IssueClientToken",
    "ListUsers",
    "Login",
    "Logout",
    "NewServiceClient",
    "NewUser",
    "PrincipalCache",
    "RefreshSession",
    "RevokeOrg",
    "SetPassword",
    "TokenPair",
    "UpdateUser",
    "UserChange",
]
