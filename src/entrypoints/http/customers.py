"""/api/v1/customers: search, one customer across the caller's orgs, and its offers scored right now."""

from __future__ import annotations

from typing import Annotated

from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import Parameter

from application.customers import OffersNow, SearchCustomers, ShowCustomer, ShowCustomerTimeline
from domain.access import Principal
from entrypoints.http.customer_schemas import (
    CustomerOut,
    CustomerPage,
    CustomerSummaryOut,
    LiveOfferOut,
    TimelineEventOut,
    TimelineOut,
)
from entrypoints.http.path_params import CustomerId

__all__ = ["CustomerController"]

_ID = "{customer_id:str}"
_NOT_FOUND = (
    " A customer with no account in an org the caller may read answers 404, exactly like an unknown one."
)


class CustomerController(Controller):
    path = "/customers"
    tags = ["customers"]  # noqa: RUF012  (Litestar declares it as an instance attribute)

    @get(
        "/",
        summary="Search customers",
        description="Resolved customers whose name contains `q` (case-insensitive; all when absent) with an"
        " account in an org the caller may read, by name. Page with `limit` and `next_cursor`.",
        opt={"query": frozenset({"q", "limit", "cursor"})},
    )
    @inject
    async def search_customers(
        self,
        use_case: FromDishka[SearchCustomers],
        principal: NamedDependency[Principal],
        q: Annotated[
            str | None, Parameter(max_length=200, description="Part of the customer's name.", examples=[])
        ] = None,
        limit: Annotated[int, Parameter(ge=1, le=500, description="Customers per page (1-500).")] = 50,
        cursor: Annotated[
            str | None, Parameter(max_length=1024, description="The `next_cursor` of the previous page.")
        ] = None,
    ) -> CustomerPage:
        page = await use_case.execute(principal, q, limit=limit, cursor=cursor)
        return CustomerPage(
            items=[CustomerSummaryOut.of(c) for c in page.items], next_cursor=page.next_cursor
        )

    @get(
        f"/{_ID}",
        summary="Show a customer",
        description="Member accounts across the orgs the caller may read, with match confidence; product"
        " families owned per org; open recommendations (new and accepted) the caller may read." + _NOT_FOUND,
    )
    @inject
    async def show_customer(
        self,
        customer_id: CustomerId,
        use_case: FromDishka[ShowCustomer],
        principal: NamedDependency[Principal],
    ) -> CustomerOut:
        return CustomerOut.of(await use_case.execute(customer_id, principal))

    @get(
        f"/{_ID}/timeline",
        summary="A customer's timeline",
        description="Opportunities (dated by close date) and activities (tasks and events) of the customer's"
        " member accounts in the orgs the caller may read, newest first, deleted ones left out." + _NOT_FOUND,
        opt={"query": frozenset({"limit"})},
    )
    @inject
    async def customer_timeline(
        self,
        customer_id: CustomerId,
        use_case: FromDishka[ShowCustomerTimeline],
        principal: NamedDependency[Principal],
        limit: Annotated[int, Parameter(ge=1, le=500, description="Events (1-500).")] = 100,
    ) -> TimelineOut:
        events = await use_case.execute(customer_id, principal, limit=limit)
        return TimelineOut(items=[TimelineEventOut.of(e) for e in events])

    @get(
        f"/{_ID}/offers",
        summary="Score a customer now",
        description="The customer's best offers right now, from the served features and the serving models,"
        " with reasons (peer evidence from orgs the caller may not read left out). Nothing is stored. 404"
        " also when the customer has no served features yet; 400 when no model serves." + _NOT_FOUND,
        opt={"query": frozenset({"limit"})},
    )
    @inject
    async def offers_now(
        self,
        customer_id: CustomerId,
        use_case: FromDishka[OffersNow],
        principal: NamedDependency[Principal],
        limit: Annotated[int, Parameter(ge=1, le=12, description="Offers (1-12).")] = 5,
    ) -> list[LiveOfferOut]:
        return [LiveOfferOut.of(o) for o in await use_case.execute(customer_id, principal, limit=limit)]
