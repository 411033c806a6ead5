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
from entrypoints.http.recommendation_cache import LocalPages, cache_key, page_of, stamped

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


# -- this process's copies (LocalPages) -------------------------------------------------------------------


@_BUDGET
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["put", "get"]),
            st.sampled_from("abcd"),
            st.none() | st.sampled_from(["0", "1", "2"]),
            st.binary(max_size=8),
        )
    )
)
def test_a_local_copy_is_served_only_while_its_generation_is_the_one_last_seen(
    steps: list[tuple[str, str, str | None, bytes]],
) -> None:
    pages = LocalPages()
    held: dict[str, bytes] = {}
    seen: str | None = None
    for action, key, generation, page in steps:
        if generation != seen:  # another generation, or none: every copy is dropped
            held, seen = {}, generation
        if action == "put" and generation is not None:
            pages.put(key, generation, page)
            held[key] = page
        elif action == "get":
            assert pages.get(key, generation) == (held.get(key) if generation is not None else None)


def test_local_copies_are_bounded_by_count_and_bytes_dropping_the_least_recently_used() -> None:
    pages = LocalPages(max_entries=3, max_bytes=10)
    for key in "abc":
        pages.put(key, "1", b"xx")
    assert pages.get("a", "1") == b"xx"  # a is now the most recently used
    pages.put("d", "1", b"xx")  # a fourth entry: b, the least recently used, goes
    assert [pages.get(key, "1") for key in "abcd"] == [b"xx", None, b"xx", b"xx"]
    pages.put("e", "1", b"12345678")  # 14 bytes would pass 10: the least recently used go until it fits
    assert [pages.get(key, "1") for key in "acde"] == [None, None, b"xx", b"12345678"]
    pages.put("f", "1", b"x" * 11)  # larger than the whole budget: not kept, nothing else lost
    assert pages.get("f", "1") is None and pages.get("e", "1") == b"12345678"
    assert pages.get("e", None) is None  # Redis unreadable: nothing is known, every copy goes
    assert pages.get("e", "1") is None


def test_a_remembered_request_is_answered_with_its_own_page_only_in_the_current_generation() -> None:
    pages = LocalPages(max_entries=2)
    emea: frozenset[str] | None = frozenset({"emea"})
    pages.put("page-1", "7", b"emea's page")
    pages.remember((emea, b"limit=50"), "page-1")
    assert pages.get_for((emea, b"limit=50"), "7") == b"emea's page"
    # Another scope, or the same parameters written otherwise, was never validated: not answered here.
    assert pages.get_for((None, b"limit=50"), "7") is None
    assert pages.get_for((emea, b"limit=50&"), "7") is None
    # Remembered, but its page is of an older generation: a miss, as in Redis.
    assert pages.get_for((emea, b"limit=50"), "8") is None
    pages.put("page-1", "8", b"emea's newer page")
    assert pages.get_for((emea, b"limit=50"), "8") == b"emea's newer page"
    # At most `max_entries` requests are remembered; the least recently remembered goes first.
    pages.remember((emea, b"limit=10"), "page-1")
    pages.remember((emea, b"limit=20"), "page-1")
    assert pages.get_for((emea, b"limit=50"), "8") is None
    assert pages.get_for((emea, b"limit=20"), "8") == b"emea's newer page"
    # A very long query string is answered by the route as usual, never remembered (memory per entry).
    long = b"family=" + b"x" * 2_100
    pages.remember((emea, long), "page-1")
    assert pages.get_for((emea, long), "8") is None
    assert pages.get_for((emea, b"limit=20"), "8") == b"emea's newer page"
