"""/api/v1/recommendations: filtered, sorted, cursor-paginated offers; CSV export; detail; feedback."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK

from adapters.observability.metrics import xsell_metrics
from application.models.feedback import RecordFeedback
from application.models.offers import (
    MAX_EXPORT_ROWS,
    BrowseRecommendations,
    ExportRecommendations,
    ShowRecommendation,
    visible_reasons,
)
from application.models.recommendation_query import RecommendationQuery, RecommendationSort
from application.ports.cache import Cache
from domain.access import Principal
from domain.recommendation import Arm, Recommendation, RecommendationStatus
from entrypoints.http.recommendation_cache import LOCAL_PAGES, LocalPages, RawRequest, cached_page
from entrypoints.http.recommendation_schemas import (
    ConvertIn,
    DismissIn,
    RecommendationOut,
    RecommendationPage,
)
from entrypoints.http.security import admitted_principal, admitted_versions
from entrypoints.providers.models import RECOMMENDATIONS_VERSION

__all__ = ["RecommendationController"]

_FILTERS = frozenset({"org", "family", "industry", "min_probability", "min_value", "status", "arm", "sort"})
_ID = "{recommendation_id:str}"
_SCOPE = (
    " Sales and analysts see only offers whose target org is granted to them and whose customer has an"
    " account in a granted org; admins see all."
)
_NOT_FOUND = " An unknown offer and one the caller may not read both answer 404."
_CSV_COLUMNS = (
    "id",
    "customer_id",
    "family_id",
    "target_org_id",
    "probability",
    "expected_value",
    "currency",
    "status",
    "arm",
    "model_version_id",
    "created_at",
)

Orgs = Annotated[
    list[str] | None,
    Parameter(description="Only offers sold through these org ids (repeat for several).", max_length=100),
]
Families = Annotated[
    list[str] | None,
    Parameter(description="Only these product family ids (repeat for several).", max_length=100),
]
Industry = Annotated[
    str | None,
    Parameter(
        min_length=1,
        max_length=200,
        description="Only customers with a member account of this industry (case-insensitive) in an org the"
        " caller may read, as synced from the CRM's Account.Industry.",
        examples=[],
    ),
]
MinProbability = Annotated[float | None, Parameter(ge=0, le=1, description="Lowest probability (0-1).")]
MinValue = Annotated[
    float | None, Parameter(ge=0, lt=1e18, description="Lowest expected value, in the offer's own currency.")
]
Statuses = Annotated[
    list[RecommendationStatus] | None,
    Parameter(
        description="Only these statuses (repeat for several): new, accepted, dismissed, converted, lost."
    ),
]
ArmFilter = Annotated[Arm | None, Parameter(description="Only offers scored by this A/B arm.")]
Sort = Annotated[
    RecommendationSort,
    Parameter(description="`expected_value` (default) or `probability`, highest first; ties by id."),
]


def _query(
    principal: Principal,
    org: list[str] | None,
    family: list[str] | None,
    industry: str | None,
    min_probability: float | None,
    min_value: float | None,
    status: list[RecommendationStatus] | None,
    arm: Arm | None,
    sort: RecommendationSort,
) -> RecommendationQuery:
    return RecommendationQuery(
        readable=principal.read_scope,
        target_org_ids=frozenset(org or ()),
        family_ids=frozenset(family or ()),
        industry=industry,
        min_probability=min_probability,
        min_value=None if min_value is None else Decimal(str(min_value)),
        statuses=frozenset(status or ()),
        arm=arm,
        sort=sort,
    )


def _csv_cell(value: Any) -> Any:
    # A cell starting with = + - @ is a formula in spreadsheets: ids and names come from CRMs, so quote.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


async def _csv(batches: AsyncIterator[list[Recommendation]]) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_CSV_COLUMNS)
    yield buffer.getvalue()
    async for batch in batches:
        buffer.seek(0)
        buffer.truncate()
        for item in batch:
            writer.writerow(
                [
                    _csv_cell(v)
                    for v in (
                        item.id,
                        item.customer_id,
                        item.family_id,
                        item.target_org_id,
                        repr(item.probability),
                        str(item.expected_value.amount),
                        item.expected_value.currency,
                        item.status.value,
                        item.arm.value,
                        item.model_version_id,
                        item.created_at.isoformat(),
                    )
                ]
            )
        yield buffer.getvalue()


def _local_pages(request: Request[Any, Any, Any]) -> tuple[LocalPages, str | None]:
    """This process's list pages, with the list generation the guard read at admission."""
    return request.app.state[LOCAL_PAGES], admitted_versions(request).get(RECOMMENDATIONS_VERSION)


def _raw_request(request: Request[Any, Any, Any]) -> RawRequest:
    """The list request as it came, for LocalPages: the admitted caller's org scope and the query string."""
    return admitted_principal(request).read_scope, request.scope["query_string"]


async def _served_locally(request: Request[Any, Any, Any]) -> Response[bytes] | None:
    """`before_request` of the list, after the guard admitted the caller: a query string this caller's
    scope sent before and got a page for, that this process still holds for the generation read at
    admission, is answered with it at once; Litestar then skips parsing the parameters and the handler.
    Anything else (None) goes on to the handler, which validates it."""
    pages, generation = _local_pages(request)
    held = pages.get_for(_raw_request(request), generation)
    if held is None:
        return None
    xsell_metrics().cache_hits.inc()
    return Response(content=held, media_type=MediaType.JSON)


class RecommendationController(Controller):
    path = "/recommendations"
    tags = ["recommendations"]  # noqa: RUF012  (Litestar declares it as an instance attribute)

    @get(
        "/",
        summary="List recommendations",
        description="Offers scoring wrote, filtered, best first (by expected value, or by probability with"
        " `sort=probability`). Page with `limit` and the `next_cursor` of the previous page; a cursor is"
        " opaque and belongs to one sort order. A target org the caller may not read answers 404. Lists are"
        " cached for a minute per caller scope and query, and dropped at once when scoring or a decision"
        " changes the offers." + _SCOPE,
        opt={"query": _FILTERS | {"limit", "cursor"}},
        before_request=_served_locally,
    )
    @inject
    async def list_recommendations(
        self,
        request: Request[Any, Any, Any],
        use_case: FromDishka[BrowseRecommendations],
        cache: FromDishka[Cache],
        org: Orgs = None,
        family: Families = None,
        industry: Industry = None,
        min_probability: MinProbability = None,
        min_value: MinValue = None,
        status: Statuses = None,
        arm: ArmFilter = None,
        sort: Sort = RecommendationSort.EXPECTED_VALUE,
        limit: Annotated[int, Parameter(ge=1, le=500, description="Offers per page (1-500).")] = 50,
        cursor: Annotated[
            str | None, Parameter(max_length=1024, description="The `next_cursor` of the previous page.")
        ] = None,
    ) -> Response[RecommendationPage]:
        # The principal and versions the `authenticated` guard left, read directly: the hottest route
        # skips resolving a dependency for them.
        principal = admitted_principal(request)
        query = _query(principal, org, family, industry, min_probability, min_value, status, arm, sort)

        async def compute() -> bytes:
            # The store's documents go out as they are: each is a RecommendationOut in JSON (the tests
            # hold the two to the same data), so nothing is decoded or encoded per offer.
            page = await use_case.documents(query, limit=limit, cursor=cursor)
            items = b",".join(item.json.encode() for item in page.items)
            return b'{"items":[' + items + b'],"next_cursor":' + msgspec.json.encode(page.next_cursor) + b"}"

        paging = {"limit": limit, "cursor": cursor}
        body = await cached_page(cache, query, paging, compute, _local_pages(request), _raw_request(request))
        # Already JSON (what the cache holds, or the page just encoded): sent as it is. The annotation
        # keeps RecommendationPage as the documented schema; Litestar sends bytes content unencoded.
        return Response(content=body, media_type=MediaType.JSON)  # type: ignore[arg-type]

    @get(
        "/export.csv",
        summary="Export recommendations as CSV",
        description="The same filtered, sorted view as the list, every page at once, streamed as CSV (a"
        f" header row, then one row per offer). At most {MAX_EXPORT_ROWS:,} rows: a larger result answers"
        " 400 and asks for narrower filters." + _SCOPE,
        opt={"query": _FILTERS},
        media_type="text/csv",
    )
    @inject
    async def export_recommendations(
        self,
        use_case: FromDishka[ExportRecommendations],
        principal: NamedDependency[Principal],
        org: Orgs = None,
        family: Families = None,
        industry: Industry = None,
        min_probability: MinProbability = None,
        min_value: MinValue = None,
        status: Statuses = None,
        arm: ArmFilter = None,
        sort: Sort = RecommendationSort.EXPECTED_VALUE,
    ) -> Stream:
        query = _query(principal, org, family, industry, min_probability, min_value, status, arm, sort)
        batches = await use_case.execute(query)
        return Stream(
            _csv(batches),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="recommendations.csv"'},
        )

    @get(
        f"/{_ID}",
        summary="Show a recommendation",
        description="One offer with its reasons. Peer evidence from an org the caller may not read is left"
        " out." + _NOT_FOUND,
    )
    @inject
    async def show_recommendation(
        self,
        recommendation_id: FromPath[str],
        use_case: FromDishka[ShowRecommendation],
        principal: NamedDependency[Principal],
    ) -> RecommendationOut:
        return RecommendationOut.of(await use_case.execute(recommendation_id, principal.read_scope))

    @post(
        f"/{_ID}/accept",
        summary="Accept a recommendation",
        description="new -> accepted; any other status answers 409." + _NOT_FOUND,
        status_code=HTTP_200_OK,
    )
    @inject
    async def accept(
        self,
        recommendation_id: FromPath[str],
        use_case: FromDishka[RecordFeedback],
        principal: NamedDependency[Principal],
    ) -> RecommendationOut:
        return await _decide(use_case, principal, recommendation_id, RecommendationStatus.ACCEPTED)

    @post(
        f"/{_ID}/dismiss",
        summary="Dismiss a recommendation",
        description="new -> dismissed, with an optional reason; it is not offered again for 180 days. Any"
        " other status answers 409." + _NOT_FOUND,
        status_code=HTTP_200_OK,
    )
    @inject
    async def dismiss(
        self,
        recommendation_id: FromPath[str],
        use_case: FromDishka[RecordFeedback],
        principal: NamedDependency[Principal],
        data: JSONBody[DismissIn | None] = None,
    ) -> RecommendationOut:
        reason = None if data is None else data.reason
        return await _decide(
            use_case, principal, recommendation_id, RecommendationStatus.DISMISSED, reason=reason
        )

    @post(
        f"/{_ID}/convert",
        summary="Record a conversion",
        description="accepted -> converted, with the amount won (more than 0, in the offer's currency). Any"
        " other status answers 409." + _NOT_FOUND,
        status_code=HTTP_200_OK,
    )
    @inject
    async def convert(
        self,
        recommendation_id: FromPath[str],
        data: JSONBody[ConvertIn],
        use_case: FromDishka[RecordFeedback],
        principal: NamedDependency[Principal],
    ) -> RecommendationOut:
        return await _decide(
            use_case, principal, recommendation_id, RecommendationStatus.CONVERTED, amount=data.checked()
        )


async def _decide(
    use_case: RecordFeedback,
    principal: Principal,
    recommendation_id: str,
    status: RecommendationStatus,
    *,
    amount: Decimal | None = None,
    reason: str | None = None,
) -> RecommendationOut:
    scope = principal.read_scope
    decided = await use_case.execute(
        recommendation_id, status, by=principal.subject, amount=amount, reason=reason, readable=scope
    )
    decided.reasons = visible_reasons(decided.reasons, scope)
    return RecommendationOut.of(decided)
