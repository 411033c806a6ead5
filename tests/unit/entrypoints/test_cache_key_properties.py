"""Cache-key isolation, as a property: two recommendation queries share a cache entry only when they are
the same query (same org scope, filters, sort and page), and an entry is served only in the cache
generation it was computed under."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from application.models.recommendation_query import RecommendationQuery, RecommendationSort
from domain.recommendation import Arm, RecommendationStatus
from entrypoints.http.recommendation_cache import cache_key, page_of, stamped

_ORGS = st.frozensets(st.sampled_from(["amer", "emea", "apac", "bu1", "bu 2", ""]), max_size=4)
_QUERIES = st.builds(
    RecommendationQuery,
    readable=st.none() | _ORGS,
    target_org_ids=_ORGS,
    family_ids=st.frozensets(st.sampled_from(["crm", "erp", "hr", "None"]), max_size=3),
    industry=st.none() | st.sampled_from(["", "None", "Banking", "banking", "null"]),
    min_probability=st.none() | st.floats(0, 1),
    min_value=st.none() | st.integers(0, 10**6).map(Decimal),
    statuses=st.frozensets(st.sampled_from(list(RecommendationStatus)), max_size=3),
    arm=st.none() | st.sampled_from(list(Arm)),
    customer_id=st.none() | st.sampled_from(["c1", "c2", "None"]),
    sort=st.sampled_from(list(RecommendationSort)),
)
_PAGING = st.fixed_dictionaries(
    {"limit": st.integers(1, 500), "cursor": st.none() | st.sampled_from(["abc", "None", ""])}
)
_GENERATIONS = st.none() | st.sampled_from([b"1", b"2", b"17"])
_BUDGET = settings(max_examples=300, derandomize=True, deadline=None)


@_BUDGET
@given(_QUERIES, _PAGING, _QUERIES, _PAGING)
def test_different_queries_never_share_an_entry(
    query_a: RecommendationQuery,
    paging_a: dict[str, Any],
    query_b: RecommendationQuery,
    paging_b: dict[str, Any],
) -> None:
    same = (query_a, paging_a) == (query_b, paging_b)
    assert (cache_key(query_a, paging_a) == cache_key(query_b, paging_b)) == same


@_BUDGET
@given(_GENERATIONS, _GENERATIONS, st.binary(max_size=64))
def test_an_entry_is_served_only_in_its_own_generation(
    stored_under: bytes | None, now: bytes | None, page: bytes
) -> None:
    served = page_of(stamped(stored_under, page), now)
    assert served == (page if (stored_under or b"0") == (now or b"0") else None)
    assert page_of(None, now) is None


@_BUDGET
@given(_QUERIES, _PAGING, _ORGS)
def test_the_org_scope_alone_separates_entries(
    query: RecommendationQuery, paging: dict[str, Any], other_scope: frozenset[str]
) -> None:
    other = RecommendationQuery(**{**query.__dict__, "readable": other_scope})
    if other.readable != query.readable:
        assert cache_key(query, paging) != cache_key(other, paging)
    assert cache_key(query, paging) == cache_key(RecommendationQuery(**query.__dict__), paging)
