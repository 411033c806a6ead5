"""POST /api/v1/auth/login, refresh, logout and token: sign-in and bearer tokens (public routes)."""

from __future__ import annotations

from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from application.auth import IssueClientToken, Login, Logout, RefreshSession
from entrypoints.http.auth_schemas import ClientCredentialsIn, LoginIn, LogoutIn, RefreshIn, TokenOut
from entrypoints.http.problems import problem_responses
from entrypoints.http.rate_limits import per_client_limit, per_client_login_limit

__all__ = ["AuthController"]

_SAME_ANSWER = (
    " Every failure answers the same 401 problem, whatever its reason, so the answer does not tell whether"
    " an account exists."
)

_REFUSED = problem_responses(401)


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]  # noqa: RUF012  (Litestar declares it as an instance attribute)

    @post(
        "/login",
        guards=[per_client_login_limit],
        summary="Sign in",
        description="Email and password in; an access token (15 minutes) and a refresh token (7 days) out."
        + _SAME_ANSWER,
        status_code=HTTP_200_OK,
        responses=_REFUSED,
    )
    @inject
    async def login(self, data: JSONBody[LoginIn], use_case: FromDishka[Login]) -> TokenOut:
        return TokenOut.of(await use_case.execute(data.email, data.password))

    @post(
        "/refresh",
        guards=[per_client_limit],
        summary="Refresh tokens",
        description="A refresh token in; a new access and refresh token out. Each refresh token works once:"
        " presenting a used one again ends the whole session (every token of that sign-in).",
        status_code=HTTP_200_OK,
        responses=_REFUSED,
    )
    @inject
    async def refresh(self, data: JSONBody[RefreshIn], use_case: FromDishka[RefreshSession]) -> TokenOut:
        return TokenOut.of(await use_case.execute(data.refresh_token))

    @post(
        "/logout",
        guards=[per_client_limit],
        summary="Sign out",
        description="Ends the session of the refresh token: its refresh and access tokens stop working.",
        status_code=HTTP_204_NO_CONTENT,
        responses=_REFUSED,
    )
    @inject
    async def logout(self, data: JSONBody[LogoutIn], use_case: FromDishka[Logout]) -> None:
        await use_case.execute(data.refresh_token)

    @post(
        "/token",
        guards=[per_client_login_limit],
        summary="Service-client token",
        description="OAuth 2.0 client credentials (as JSON): a service client's id and secret in, an access"
        " token (15 minutes, no refresh token) out." + _SAME_ANSWER,
        status_code=HTTP_200_OK,
        responses=_REFUSED,
    )
    @inject
    async def token(
        self, data: JSONBody[ClientCredentialsIn], use_case: FromDishka[IssueClientToken]
    ) -> TokenOut:
        return TokenOut.of(await use_case.execute(data.client_id, data.client_secret))
