"""/api/v1/matches (the review queue and decisions on pairs) and merge, split and undo of customers."""

from __future__ import annotations

from typing import Annotated

from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from application.resolution.review import (
    DecideMatch,
    MergeCustomers,
    PageReviewQueue,
    ReopenMatch,
    SplitCustomer,
    UndoCustomerChange,
)
from domain.access import Principal
from entrypoints.http.match_schemas import (
    CustomerChangeOut,
    MatchDecisionIn,
    MatchDecisionOut,
    MatchOut,
    MatchPairIn,
    MatchQueueOut,
    MergeIn,
    SplitIn,
)
from entrypoints.http.path_params import ChangeId, CustomerId
from entrypoints.http.problems import problem_responses
from entrypoints.http.security import admin_or_analyst

__all__ = ["CustomerChangeController", "MatchController"]

_WRITE = (
    " Needs the admin or analyst role (403 otherwise) and a grant on every org the change touches:"
    " anything reaching outside the caller's grants answers 404, exactly like an unknown id."
)
_PAIR_404 = "An account that is unknown, not resolved yet or outside the caller's grants."
_CUSTOMER_404 = "An unknown customer, or one with an account in an org the caller was not granted."


class MatchController(Controller):
    """Any role reads the queue (pairs with both accounts in granted orgs); decisions need admin or
    analyst."""

    path = "/matches"
    tags = ["matches"]  # noqa: RUF012  (Litestar declares it as an instance attribute)

    @get(
        "/",
        summary="List pairs waiting for review",
        description="Pairs of accounts in different customers whose match probability lies in the review"
        " band (below automatic merging), most likely first, with the evidence behind each score: both"
        " accounts with their org, name and current customer. Only pairs whose two accounts lie in orgs"
        " the caller may read are listed. A decision (merge or keep apart) takes a pair off the queue."
        " Page with `limit` and `next_cursor`.",
        opt={"query": frozenset({"limit", "cursor"})},
        responses=problem_responses(),
    )
    @inject
    async def list_matches(
        self,
        use_case: FromDishka[PageReviewQueue],
        principal: NamedDependency[Principal],
        limit: Annotated[int, Parameter(ge=1, le=200, description="Pairs per page (1-200).")] = 20,
        cursor: Annotated[
            str | None, Parameter(max_length=1024, description="The `next_cursor` of the previous page.")
        ] = None,
    ) -> MatchQueueOut:
        page = await use_case.execute(principal.read_scope, limit=limit, cursor=cursor)
        return MatchQueueOut(items=[MatchOut.of(item) for item in page.items], next_cursor=page.next_cursor)

    @post(
        "/decisions",
        summary="Decide a pair",
        description="`merge`: the two accounts' customers become one (the one with more accounts keeps its"
        " id); the answer holds the change, whose id undoes it. `keep_apart`: the two accounts never join,"
        " on this and every later resolution run; POST /matches/decisions/undo takes it back. Either way"
        " the pair leaves the review queue. Merging touches every org of both customers." + _WRITE,
        guards=[admin_or_analyst],
        status_code=HTTP_200_OK,
        responses=problem_responses(403, 404, 422, s404=_PAIR_404),
    )
    @inject
    async def decide_match(
        self,
        data: JSONBody[MatchDecisionIn],
        use_case: FromDishka[DecideMatch],
        principal: NamedDependency[Principal],
    ) -> MatchDecisionOut:
        change = await use_case.execute(
            data.left.key(),
            data.right.key(),
            accept=data.decision == "merge",
            decided_by=principal.subject,
            scope=principal.read_scope,
        )
        return MatchDecisionOut(
            decision=data.decision, change=None if change is None else CustomerChangeOut.of(change)
        )

    @post(
        "/decisions/undo",
        summary="Take back a keep-apart",
        description="Forget the `keep_apart` decision on the pair: it returns to the review queue and to the"
        " model on the next resolution run. A merge is taken back by undoing its change instead"
        " (POST /customers/changes/{change_id}/undo)." + _WRITE,
        guards=[admin_or_analyst],
        status_code=HTTP_204_NO_CONTENT,
        responses=problem_responses(
            403, 404, 422, s404="No keep-apart decision on the pair (or it lies outside the caller's grants)."
        ),
    )
    @inject
    async def reopen_match(
        self,
        data: JSONBody[MatchPairIn],
        use_case: FromDishka[ReopenMatch],
        principal: NamedDependency[Principal],
    ) -> None:
        await use_case.execute(data.left.key(), data.right.key(), scope=principal.read_scope)


class CustomerChangeController(Controller):
    """People's corrections of customers: merge two, split one, undo either. Admin or analyst only."""

    path = "/customers"
    tags = ["matches"]  # noqa: RUF012  (Litestar declares it as an instance attribute)
    guards = [admin_or_analyst]  # noqa: RUF012

    @post(
        "/{customer_id:str}/merge",
        summary="Merge two customers",
        description="The customer and `other_customer_id` are one company: the one with more accounts keeps"
        " its id, the other is retired. The answer's `id` undoes the merge. Merging a customer with itself"
        " or one without accounts answers 422 or 400." + _WRITE,
        status_code=HTTP_200_OK,
        responses=problem_responses(403, 404, 422, s404=_CUSTOMER_404),
    )
    @inject
    async def merge_customers(
        self,
        customer_id: CustomerId,
        data: JSONBody[MergeIn],
        use_case: FromDishka[MergeCustomers],
        principal: NamedDependency[Principal],
    ) -> CustomerChangeOut:
        change = await use_case.execute(
            customer_id, data.other_customer_id, decided_by=principal.subject, scope=principal.read_scope
        )
        return CustomerChangeOut.of(change)

    @post(
        "/{customer_id:str}/split",
        summary="Split a customer",
        description="`accounts` are another company: they move to a new customer (the larger part keeps the"
        " id) and the two parts never join again on later runs. Accounts that are not members, or all of"
        " them, answer 422. The answer's `id` undoes the split." + _WRITE,
        status_code=HTTP_200_OK,
        responses=problem_responses(403, 404, 422, s404=_CUSTOMER_404),
    )
    @inject
    async def split_customer(
        self,
        customer_id: CustomerId,
        data: JSONBody[SplitIn],
        use_case: FromDishka[SplitCustomer],
        principal: NamedDependency[Principal],
    ) -> CustomerChangeOut:
        accounts = [account.key() for account in data.accounts]
        change = await use_case.execute(
            customer_id, accounts, decided_by=principal.subject, scope=principal.read_scope
        )
        return CustomerChangeOut.of(change)

    @post(
        "/changes/{change_id:str}/undo",
        summary="Undo a merge or split",
        description="Reverse a recorded merge or split and forget the pair decisions it made; the answer is"
        " the change, now marked undone. A change undone already, or whose accounts later changes moved,"
        " answers 409." + _WRITE,
        status_code=HTTP_200_OK,
        responses=problem_responses(
            403, 404, 409, s404="An unknown change, or one touching an org the caller was not granted."
        ),
    )
    @inject
    async def undo_change(
        self,
        change_id: ChangeId,
        use_case: FromDishka[UndoCustomerChange],
        principal: NamedDependency[Principal],
    ) -> CustomerChangeOut:
        change = await use_case.execute(change_id, decided_by=principal.subject, scope=principal.read_scope)
        return CustomerChangeOut.of(change)
