"""/api/v1/whitespace: which product families customers own, are offered, or neither."""

from __future__ import annotations

from typing import Annotated

from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import Parameter

from application.whitespace import MAX_ROWS, ShowWhitespace, WhitespaceAxis
from domain.access import Principal
from entrypoints.http.whitespace_schemas import WhitespaceOut

__all__ = ["WhitespaceController"]


class WhitespaceController(Controller):
    path = "/whitespace"
    tags = ["recommendations"]  # noqa: RUF012  (Litestar declares it as an instance attribute)

    @get(
        "/",
        summary="Whitespace map",
        description=(
            "Per industry (`by=industry`, every industry by name; a customer counts once, in the first"
            " industry of its accounts) or per customer (`by=customer`, the `limit` customers whose open"
            " offers are worth the most) and product family: customers that own the family (won"
            " opportunities), that have an open offer of it (new or accepted), that have neither, and the"
            " open offers' expected value in the group currency, with totals per row and family. Only"
            " customers with an account in an org the caller may read, ownership in those orgs and offers"
            " sold through them count; admins see all."
        ),
        opt={"query": frozenset({"by", "limit"})},
    )
    @inject
    async def show_whitespace(
        self,
        use_case: FromDishka[ShowWhitespace],
        principal: NamedDependency[Principal],
        by: Annotated[
            WhitespaceAxis, Parameter(description="Rows: `industry` (default) or `customer`.")
        ] = WhitespaceAxis.INDUSTRY,
        limit: Annotated[
            int, Parameter(ge=1, le=MAX_ROWS, description=f"Customer rows (1-{MAX_ROWS}); by=customer only.")
        ] = 20,
    ) -> WhitespaceOut:
        return WhitespaceOut.of(await use_case.execute(principal, by, limit=limit))
