"""BrowseRecommendations and ExportRecommendations on a working fake: cursors, scope, the export bound."""

from __future__ import annotations

from decimal import Decimal

import pytest

from application.errors import InvalidCursorError, InvalidRequestError
from application.models.feedback import RecommendationFilter
from application.models.offers import BrowseRecommendations, ExportRecommendations, ShowRecommendation
from application.models.recommendation_query import (
    RecommendationPosition,
    RecommendationQuery,
    RecommendationSort,
)
from domain.errors import NotFoundError
from domain.money import Money
from domain.recommendation import Arm, Reason, ReasonKind, Recommendation


def _offer(n: int, org: str = "emea") -> Recommendation:
    return Recommendation(
        id=f"r{n:03d}",
        customer_id=f"c{n}",
        family_id="crm",
        target_org_id=org,
        probability=(n % 7) / 10,
        expected_value=Money(Decimal(100 * (n % 5)), "EUR"),
        model_version_id="m-1",
        arm=Arm.CHAMPION,
        reasons=(Reason(ReasonKind.PEER, "peers in apac bought it", 0.1, org_id="apac"),),
    )


class FakeRecommendationRepository:
    """Scope here is the target org only; the SQL adapter also requires a readable member account."""

    def __init__(self, items: list[Recommendation]) -> None:
        self.items = items

    def _key(self, item: Recommendation, sort: RecommendationSort) -> tuple[Decimal | float, str]:
        value = item.probability if sort is RecommendationSort.PROBABILITY else item.expected_value.amount
        return value, item.id

    def _matching(self, query: RecommendationQuery) -> list[Recommendation]:
        found = [i for i in self.items if query.readable is None or i.target_org_id in query.readable]
        return sorted(found, key=lambda i: (-self._key(i, query.sort)[0], i.id))

    async def get(
        self, recommendation_id: str, readable: frozenset[str] | None = None
    ) -> Recommendation | None:
        return next(
            (
                i
                for i in self.items
                if i.id == recommendation_id and (readable is None or i.target_org_id in readable)
            ),
            None,
        )

    async def save_decision(self, recommendation: Recommendation) -> bool:
        return True

    async def find(self, where: RecommendationFilter) -> list[Recommendation]:
        return []

    async def page(
        self, query: RecommendationQuery, after: RecommendationPosition | None, limit: int
    ) -> list[Recommendation]:
        rows = self._matching(query)
        if after is not None:
            rows = [
                i
                for i in rows
                if self._key(i, query.sort)[0] < after.value
                or (self._key(i, query.sort)[0] == after.value and i.id > after.id)
            ]
        return rows[:limit]

    async def count(self, query: RecommendationQuery) -> int:
        return len(self._matching(query))


@pytest.mark.parametrize("sort", list(RecommendationSort))
async def test_pages_cover_every_row_once(sort: RecommendationSort) -> None:
    repository = FakeRecommendationRepository([_offer(n) for n in range(23)])
    browse = BrowseRecommendations(repository)
    seen: list[str] = []
    cursor = None
    while True:
        page = await browse.execute(RecommendationQuery(readable=None, sort=sort), limit=4, cursor=cursor)
        seen += [i.id for i in page.items]
        if (cursor := page.next_cursor) is None:
            break
    assert sorted(seen) == sorted(i.id for i in repository.items) and len(seen) == len(set(seen))


async def test_a_cursor_belongs_to_one_sort_order() -> None:
    browse = BrowseRecommendations(FakeRecommendationRepository([_offer(n) for n in range(5)]))
    page = await browse.execute(RecommendationQuery(readable=None), limit=2)
    assert page.next_cursor is not None
    with pytest.raises(InvalidCursorError):
        await browse.execute(
            RecommendationQuery(readable=None, sort=RecommendationSort.PROBABILITY), cursor=page.next_cursor
        )
    with pytest.raises(InvalidCursorError):
        await browse.execute(RecommendationQuery(readable=None), cursor="garbage!")


async def test_an_unreadable_org_filter_is_not_found_and_reasons_stay_in_scope() -> None:
    repository = FakeRecommendationRepository([_offer(1, "emea"), _offer(2, "amer")])
    scope = frozenset({"emea"})
    with pytest.raises(NotFoundError):
        await BrowseRecommendations(repository).execute(
            RecommendationQuery(readable=scope, target_org_ids=frozenset({"amer"}))
        )
    page = await BrowseRecommendations(repository).execute(RecommendationQuery(readable=scope))
    assert [i.id for i in page.items] == ["r001"] and page.items[0].reasons == ()
    with pytest.raises(NotFoundError):
        await ShowRecommendation(repository).execute("r002", scope)


async def test_export_streams_everything_up_to_its_bound_and_refuses_more() -> None:
    repository = FakeRecommendationRepository([_offer(n) for n in range(30)])
    batches = await ExportRecommendations(repository, max_rows=30).execute(RecommendationQuery(readable=None))
    rows = [i.id async for batch in batches for i in batch]
    assert len(rows) == len(set(rows)) == 30
    with pytest.raises(InvalidRequestError, match="at most 29"):
        await ExportRecommendations(repository, max_rows=29).execute(RecommendationQuery(readable=None))
