"""Fuzzing the `Authorization` header against the running app: whatever a client sends, the API answers
401 problem+json (or 200 for the one real token), never a server error. A fixed budget of derandomised
examples: random text, random Bearer values, and the signed-in user's own token cut, altered, re-signed
without an algorithm ("alg": "none") or given another type."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.integration.api_support import add_user, api_settings, login, seed, serving

from adapters.embedded.services import ServiceUrls
from domain.access import Role

_LATIN1 = st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(token: str, **changes: object) -> str:
    """The token's claims with `changes`, sent with "alg": "none" and no signature."""
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps({**payload, **changes}).encode())}."


class _App:
    """The real app on a loop of its own, so Hypothesis (which is synchronous) can drive it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, http: httpx.AsyncClient, token: str) -> None:
        self.loop, self.http, self.token = loop, http, token

    def get(self, authorization: str) -> httpx.Response:
        # As bytes: a client may send any Latin-1 octets in a header, which httpx would refuse as text.
        headers = {"Authorization": authorization.encode("latin-1")}
        request = self.http.get("/api/v1/accounts", headers=headers)
        return self.loop.run_until_complete(request)


@pytest.fixture
def app(services: ServiceUrls, database_url: str, tmp_path: Path) -> Iterator[_App]:
    settings_ = api_settings(services, database_url, tmp_path)
    loop = asyncio.new_event_loop()
    started: asyncio.Future[httpx.AsyncClient] = loop.create_future()
    stop = asyncio.Event()

    async def host() -> None:
        # The app's lifespan opens and closes in this one task, as its task group requires.
        async with serving(settings_) as http:
            started.set_result(http)
            await stop.wait()

    try:
        loop.run_until_complete(seed(database_url, per_org=2))
        loop.run_until_complete(add_user(settings_, "ana@example.com", Role.ADMIN))
        hosting = loop.create_task(host())
        http = loop.run_until_complete(started)
        token = loop.run_until_complete(login(http, "ana@example.com"))["access_token"]
        yield _App(loop, http, token)
        stop.set()
        loop.run_until_complete(hosting)
    finally:
        loop.close()


def _values(token: str) -> st.SearchStrategy[str]:
    cut = st.integers(0, len(token) - 1).map(lambda n: token[:n])
    altered = st.tuples(st.integers(0, len(token) - 1), st.sampled_from("AZaz09-_.=")).map(
        lambda change: token[: change[0]] + change[1] + token[change[0] + 1 :]
    )
    return st.one_of(
        st.text(_LATIN1, max_size=300),
        st.text(_LATIN1, max_size=300).map("Bearer ".__add__),
        st.sampled_from(
            ["Bearer", "Bearer ", "bearer", "Basic YWRtaW46YWRtaW4=", "Bearer a.b.c", "Bearer ..."]
        ),
        cut.map("Bearer ".__add__),
        altered.map("Bearer ".__add__),
        st.just(token).map(lambda t: f"Bearer {t} {t}"),
        st.sampled_from([{}, {"typ": "refresh"}, {"exp": 4102444800}, {"aud": "other"}]).map(
            lambda changes: "Bearer " + _unsigned(token, **changes)
        ),
    )


def test_no_authorization_header_value_gets_past_or_breaks_the_api(app: _App) -> None:
    seen = {"rejected": 0, "accepted": 0}
    real = f"Bearer {app.token}"

    @settings(
        max_examples=400,
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(st.data())
    def check(data: st.DataObject) -> None:
        value = data.draw(_values(app.token))
        response = app.get(value)
        assert response.status_code in (200, 401), (value, response.status_code, response.text)
        if response.status_code == 401:
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.headers["WWW-Authenticate"] == 'Bearer realm="xsell"'
            seen["rejected"] += 1
        else:
            # Only the real token passes; a changed last character can decode to the same signature
            # (base64's unused low bits), which is the same token to the server.
            assert value.startswith("Bearer ") and _same_bytes(value.removeprefix("Bearer "), app.token)
            seen["accepted"] += 1

    check()
    assert app.get(real).status_code == 200
    assert seen["rejected"] > 300


def _same_bytes(candidate: str, token: str) -> bool:
    try:
        return [base64.urlsafe_b64decode(p + "==") for p in candidate.split(".")] == [
            base64.urlsafe_b64decode(p + "==") for p in token.split(".")
        ]
    except ValueError:
        return False
