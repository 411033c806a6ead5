"""The dashboard's API session against a scripted API (httpx.MockTransport): sign-in, renewal, errors."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from entrypoints.dashboard.api import ApiError, ApiSession, OfferFilters, SessionEndedError, SignInError

PAGE = {"items": [{"id": "r1"}], "next_cursor": "c2"}
WRITTEN = {"id": "w1", "status": "done", "org_id": "emea", "salesforce_id": "00T000000000001AAA"}


class Api:
    """A scripted API: logs every request, issues numbered tokens, answers 401 to stale ones."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.issued = 0
        self.valid: set[str] = set()
        self.refresh_ok = True
        self.written: set[str] = set()

    def _tokens(self) -> httpx.Response:
        self.issued += 1
        access = f"a{self.issued}"
        self.valid = {access}
        return httpx.Response(
            200,
            json={"access_token": access, "token_type": "Bearer", "expires_in": 900, "refresh_token": "r"},
        )

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/api/v1/auth/login":
            body = json.loads(request.content)
            if body["password"] != "right":
                return httpx.Response(401, json={"title": "Unauthorized", "status": 401})
            return self._tokens()
        if path == "/api/v1/auth/refresh":
            return self._tokens() if self.refresh_ok else httpx.Response(401, json={"status": 401})
        if path == "/api/v1/auth/logout":
            return httpx.Response(204)
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.valid:
            return httpx.Response(401, json={"status": 401})
        if path.endswith("/accept"):
            return httpx.Response(
                409, json={"title": "Conflict", "detail": "already accepted", "status": 409}
            )
        if path.endswith("/write-back"):  # a new key writes (201), a known one replays (200)
            replay = request.headers["Idempotency-Key"] in self.written
            self.written.add(request.headers["Idempotency-Key"])
            return httpx.Response(200 if replay else 201, json=WRITTEN)
        return httpx.Response(200, json=PAGE)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _session(api: Api, clock: Clock | None = None) -> ApiSession:
    return ApiSession("http://api.test", transport=httpx.MockTransport(api), clock=clock or Clock())


async def test_a_wrong_password_is_one_friendly_line() -> None:
    session = _session(Api())
    with pytest.raises(SignInError, match=r"^Wrong email or password\.$"):
        await session.sign_in("ana@example.com", "wrong")
    assert not session.signed_in


async def test_filters_travel_as_repeated_query_parameters_with_the_bearer_token() -> None:
    api = Api()
    session = _session(api)
    await session.sign_in("ana@example.com", "right")
    filters = OfferFilters(orgs=("emea", "apac"), status="new", min_probability=0.25, sort="probability")

    page = await session.offers(filters, cursor="c1")

    assert page.next_cursor == "c2"
    request = api.requests[-1]
    assert request.url.params.get_list("org") == ["emea", "apac"]
    assert dict(request.url.params) | {"org": "x"} == {
        "org": "x",
        "status": "new",
        "min_probability": "0.25",
        "sort": "probability",
        "limit": "50",
        "cursor": "c1",
    }
    assert request.headers["Authorization"] == "Bearer a1"


async def test_an_expired_access_token_is_renewed_before_the_request() -> None:
    api, clock = Api(), Clock()
    session = _session(api, clock)
    await session.sign_in("ana@example.com", "right")
    clock.now = 900.0

    await session.offers(OfferFilters())

    assert [r.url.path for r in api.requests[-2:]] == ["/api/v1/auth/refresh", "/api/v1/recommendations"]
    assert api.requests[-1].headers["Authorization"] == "Bearer a2"


async def test_a_refused_refresh_ends_the_session() -> None:
    api, clock = Api(), Clock()
    session = _session(api, clock)
    await session.sign_in("ana@example.com", "right")
    api.refresh_ok, clock.now = False, 900.0

    with pytest.raises(SessionEndedError):
        await session.offers(OfferFilters())
    assert not session.signed_in


async def test_a_conflict_carries_the_problem_detail() -> None:
    session = _session(Api())
    await session.sign_in("ana@example.com", "right")
    with pytest.raises(ApiError, match="409: already accepted"):
        await session.accept("r1")


async def test_an_unreachable_api_is_named() -> None:
    def down(request: httpx.Request) -> Any:
        raise httpx.ConnectError("refused", request=request)

    session = ApiSession("http://api.test", transport=httpx.MockTransport(down))
    with pytest.raises(ApiError, match=r"http://api\.test cannot be reached"):
        await session.sign_in("ana@example.com", "right")


async def test_match_review_calls_carry_only_the_pair_and_the_decision() -> None:
    api = Api()
    session = _session(api)
    await session.sign_in("ana@example.com", "right")
    left = {"org_id": "amer", "id": "001B00000000003IAA", "name": "Bluefin", "customer_id": "c-1"}
    right = {"org_id": "emea", "id": "001B00000000004IAA", "name": "Bluefin", "customer_id": "c-2"}

    assert await session.review_queue(limit=5) == PAGE["items"]
    await session.decide_match(left, right, "keep_apart")
    await session.reopen_match(left, right)
    await session.undo_change("ch-1")

    queue, decide, reopen, undo = api.requests[1:]
    assert (queue.method, queue.url.path, queue.url.params["limit"]) == ("GET", "/api/v1/matches", "5")
    pair = {"left": {"org_id": "amer", "id": left["id"]}, "right": {"org_id": "emea", "id": right["id"]}}
    assert (decide.url.path, json.loads(decide.content)) == (
        "/api/v1/matches/decisions",
        pair | {"decision": "keep_apart"},
    )
    assert (reopen.url.path, json.loads(reopen.content)) == ("/api/v1/matches/decisions/undo", pair)
    assert (undo.method, undo.url.path) == ("POST", "/api/v1/customers/changes/ch-1/undo")


async def test_the_new_filters_travel_only_when_set() -> None:
    api = Api()
    session = _session(api)
    await session.sign_in("ana@example.com", "right")

    await session.offers(OfferFilters(industry="Retail", min_value=1000.0, arm="challenger"))
    await session.offers(OfferFilters(industry=None, min_value=None, arm=None))

    assert dict(api.requests[-2].url.params) == {
        "industry": "Retail",
        "min_value": "1000.0",
        "arm": "challenger",
        "sort": "expected_value",
        "limit": "50",
    }
    assert dict(api.requests[-1].url.params) == {"sort": "expected_value", "limit": "50"}
    assert OfferFilters(arm="champion").narrowed and not OfferFilters(sort="probability").narrowed


async def test_write_back_sends_its_idempotency_key_beside_the_token() -> None:
    api = Api()
    session = _session(api)
    await session.sign_in("ana@example.com", "right")

    first = await session.write_back("r1", "key-1")

    request = api.requests[-1]
    assert request.url.path == "/api/v1/recommendations/r1/write-back"
    assert json.loads(request.content) == {"kind": "task"}
    assert request.headers["Idempotency-Key"] == "key-1"
    assert request.headers["Authorization"] == "Bearer a1"
    assert (first.body, first.replayed) == (WRITTEN, False)
    again = await session.write_back("r1", "key-1")  # the API's 200: an earlier request wrote it
    assert (again.body, again.replayed) == (WRITTEN, True)


async def test_sync_health_calls_name_the_org_and_ask_one_run() -> None:
    api = Api()
    session = _session(api)
    await session.sign_in("ana@example.com", "right")

    await session.orgs()
    await session.sync_runs("emea")
    await session.reconciliation("emea")
    await session.sync_now("emea")

    orgs, runs, reconciliation, sync = api.requests[1:]
    assert (orgs.method, orgs.url.path) == ("GET", "/api/v1/orgs")
    assert (runs.method, runs.url.path, dict(runs.url.params)) == (
        "GET",
        "/api/v1/orgs/emea/sync-runs",
        {"limit": "1"},
    )
    assert (reconciliation.method, reconciliation.url.path) == ("GET", "/api/v1/orgs/emea/reconciliation")
    assert (sync.method, sync.url.path, json.loads(sync.content)) == (
        "POST",
        "/api/v1/orgs/emea/sync",
        {"full": False},
    )
    assert all(r.headers["Authorization"] == "Bearer a1" for r in (orgs, runs, reconciliation, sync))


async def test_a_crm_failure_during_reconciliation_is_one_line_with_its_reason() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/auth/login":
            return httpx.Response(200, json={"access_token": "a", "token_type": "Bearer", "expires_in": 900})
        return httpx.Response(
            502, json={"title": "Bad Gateway", "detail": "the org refused the login", "status": 502}
        )

    session = ApiSession("http://api.test", transport=httpx.MockTransport(answer))
    await session.sign_in("ana@example.com", "right")
    with pytest.raises(ApiError, match=r"^The API answered 502: the org refused the login$"):
        await session.reconciliation("emea")
