"""GET /api/v1/accounts: synced accounts across orgs, keyset-paginated."""

from __future__ import annotations

from typing import Annotated

from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import Parameter

from application.accounts import AccountQuery, ListAccounts
from domain.access import Principal
from entrypoints.http.schemas import AccountOut, AccountPage

__all__ = ["AccountController"]


class AccountController(Controller):
    path = "/accounts"
    tags = ["accounts"]  # noqa: RUF012  (Litestar declares it as an instance attribute)

    @get(
        "/",
        summary="List accounts",
        description=(
            "Accounts synced from the orgs the caller may read (admins: every org), in a stable order. "
            "Filter by one or more orgs with `org`; an org that does not exist or is not granted "
            "answers 404. "
            "Page with `limit` and the `next_cursor` of the previous page."
        ),
        opt={"query": frozenset({"org", "limit", "cursor"})},
    )
    @inject
    async def list_accounts(
        self,
        use_case: FromDishka[ListAccounts],
        principal: NamedDependency[Principal],
        org: Annotated[
            list[str] | None,
            Parameter(
                description="Only accounts of these org ids (repeat the parameter for several).", examples=[]
            ),
        ] = None,
        limit: Annotated[int, Parameter(ge=1, le=500, description="Accounts per page (1-500).")] = 50,
        cursor: Annotated[
            str | None, Parameter(max_length=1024, description="The `next_cursor` of the previous page.")
        ] = None,
    ) -> AccountPage:
        query = AccountQuery(org_ids=tuple(org or ()), limit=limit, cursor=cursor)
        page = await use_case.execute(query, principal)
        return AccountPage(items=[AccountOut.of(item) for item in page.items], next_cursor=page.next_cursor)
