"""Sign-in, tokens and authorization through the real app: the JWT matrix, rotation, revocation, admin
routes, and the accounts route per role and grant (0 cross-org reads)."""

from __future__ import annotations

import base64
import json
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from tests.integration.api_support import (
    ORGS,
    PASSWORD,
    add_client,
    add_user,
    api_settings,
    bearer,
    login,
    seed,
    serving,
)

from adapters.embedded.services import ServiceUrls
from adapters.security.tokens import decode_key
from application.auth import UpdateUser, UserChange
from domain.access import Role
from entrypoints.cli.runtime import run_use_case
from entrypoints.settings import Settings

GRANTS: dict[str, tuple[Role, tuple[str, ...]]] = {
    "admin@example.com": (Role.ADMIN, ()),
    "analyst@example.com": (Role.ANALYST, ("amer",)),
    "sales@example.com": (Role.SALES, ("emea", "apac")),
    "nobody@example.com": (Role.SALES, ()),
}


@pytest.fixture
async def settings(services: ServiceUrls, database_url: str, tmp_path: Path) -> Settings:
    await seed(database_url, per_org=12)
    settings = api_settings(services, database_url, tmp_path)
    for email, (role, orgs) in GRANTS.items():
        await add_user(settings, email, role, orgs)
    return settings


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    return dict(body)


def _b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})


def _forge(settings: Settings, header: dict[str, Any], claims: dict[str, Any], alg: str = "HS256") -> str:
    assert settings.jwt_keys is not None
    key = decode_key(settings.jwt_keys[0])
    with warnings.catch_warnings():  # HS384/HS512 want longer keys; the server must refuse them anyway
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return jwt.encode(claims, key, algorithm=alg, headers={k: v for k, v in header.items() if k != "alg"})


async def test_login_refresh_and_logout(settings: Settings) -> None:
    async with serving(settings) as http:
        first = await login(http, "sales@example.com")
        assert first["token_type"] == "Bearer"
        assert first["expires_in"] == 900
        assert int(first["refresh_expires_in"]) == 7 * 24 * 3600
        assert (await http.get("/api/v1/accounts", headers=bearer(first["access_token"]))).status_code == 200

        second = (
            await http.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        ).json()
        assert second["refresh_token"] != first["refresh_token"]
        assert (await http.get("/api/v1/accounts", headers=bearer(second["access_token"]))).status_code == 200

        # Reuse of the first refresh token: the whole session ends, the new tokens too.
        reuse = await http.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        _problem(reuse, 401)
        _problem(
            await http.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}), 401
        )
        _problem(await http.get("/api/v1/accounts", headers=bearer(second["access_token"])), 401)

        # Logout ends a session's access and refresh tokens; another session is untouched.
        kept = await login(http, "sales@example.com")
        ended = await login(http, "sales@example.com")
        logout = await http.post("/api/v1/auth/logout", json={"refresh_token": ended["refresh_token"]})
        assert logout.status_code == 204
        _problem(await http.get("/api/v1/accounts", headers=bearer(ended["access_token"])), 401)
        _problem(await http.post("/api/v1/auth/refresh", json={"refresh_token": ended["refresh_token"]}), 401)
        assert (await http.get("/api/v1/accounts", headers=bearer(kept["access_token"]))).status_code == 200


async def test_unknown_user_and_wrong_password_get_the_same_answer(settings: Settings) -> None:
    async with serving(settings) as http:
        answers = []
        for email, password in [
            ("nobody-here@example.com", PASSWORD),
            ("sales@example.com", "not the password"),
            ("SALES@example.com", PASSWORD + "x"),
        ]:
            response = await http.post("/api/v1/auth/login", json={"email": email, "password": password})
            body = _problem(response, 401)
            answers.append((body, response.headers.get("www-authenticate")))
        assert all(answer == answers[0] for answer in answers)
        assert (await login(http, "SALES@Example.com"))["access_token"]


async def test_service_client_credentials(settings: Settings) -> None:
    secret = await add_client(settings, "crm-bridge", Role.ANALYST, ("emea",))
    async with serving(settings) as http:
        body = {"grant_type": "client_credentials", "client_id": "crm-bridge", "client_secret": secret}
        response = await http.post("/api/v1/auth/token", json=body)
        assert response.status_code == 200, response.text
        tokens = response.json()
        assert tokens.get("refresh_token") is None
        page = (await http.get("/api/v1/accounts?limit=500", headers=bearer(tokens["access_token"]))).json()
        assert {item["org_id"] for item in page["items"]} == {"emea"}
        wrong = await http.post("/api/v1/auth/token", json=body | {"client_secret": "nope"})
        unknown = await http.post("/api/v1/auth/token", json=body | {"client_id": "nobody"})
        assert _problem(wrong, 401) == _problem(unknown, 401)


async def test_jwt_matrix_every_bad_token_is_a_401_problem(settings: Settings) -> None:
    async with serving(settings) as http:
        tokens = await login(http, "admin@example.com")
        header, claims = _claims(tokens["access_token"])
        _, refresh_claims = _claims(tokens["refresh_token"])
        now = int(time.time())
        signature_flipped = tokens["access_token"][:-2] + (
            "AA" if not tokens["access_token"].endswith("AA") else "BB"
        )
        unsigned = {**header, "alg": "none"}
        cases: dict[str, str] = {
            "alg none": f"{_b64(unsigned)}.{_b64(claims)}.",
            "alg nOnE": f"{_b64({**header, 'alg': 'nOnE'})}.{_b64(claims)}.",
            "alg HS512": _forge(settings, header, claims, "HS512"),
            "alg HS384": _forge(settings, header, claims, "HS384"),
            "alg RS256 header": f"{_b64({**header, 'alg': 'RS256'})}.{_b64(claims)}.{_b64(b'sig')}",
            "wrong aud": _forge(settings, header, {**claims, "aud": "someone-else"}),
            "aud list": _forge(settings, header, {**claims, "aud": ["xsell-api", "other"]}),
            "wrong iss": _forge(settings, header, {**claims, "iss": "evil"}),
            "no aud": _forge(settings, header, {k: v for k, v in claims.items() if k != "aud"}),
            "no iss": _forge(settings, header, {k: v for k, v in claims.items() if k != "iss"}),
            "no exp": _forge(settings, header, {k: v for k, v in claims.items() if k != "exp"}),
            "expired beyond leeway": _forge(settings, header, {**claims, "exp": now - 45}),
            "nbf beyond leeway": _forge(settings, header, {**claims, "nbf": now + 45}),
            "refresh as access": tokens["refresh_token"],
            "typ refresh claim": _forge(settings, header, {**claims, "typ": "refresh"}),
            "typ missing": _forge(settings, header, {k: v for k, v in claims.items() if k != "typ"}),
            "tampered signature": signature_flipped,
            "tampered payload": ".".join(
                [
                    tokens["access_token"].split(".")[0],
                    _b64({**claims, "sub": str(uuid.uuid4())}),
                    tokens["access_token"].split(".")[2],
                ]
            ),
            "unknown kid": _forge(settings, {**header, "kid": "0" * 16}, claims),
            "no kid": _forge(settings, {k: v for k, v in header.items() if k != "kid"}, claims),
            "other key": jwt.encode(claims, b"k" * 32, algorithm="HS256", headers={"kid": header["kid"]}),
            "unknown subject": _forge(settings, header, {**claims, "sub": str(uuid.uuid4())}),
            "sub not a uuid": _forge(settings, header, {**claims, "sub": "' OR 1=1 --"}),
            "unknown session": _forge(settings, header, {**claims, "sid": str(uuid.uuid4())}),
            "two segments": ".".join(tokens["access_token"].split(".")[:2]),
            "four segments": tokens["access_token"] + ".x",
            "not base64": "@@@.@@@.@@@",
            "huge": "a" * 9000,
        }
        assert refresh_claims["typ"] == "refresh"
        for name, token in cases.items():
            response = await http.get("/api/v1/accounts", headers=bearer(token))
            body = _problem(response, 401)
            assert body["title"] == "Not authenticated", name
            assert response.headers["www-authenticate"].startswith("Bearer"), name
        # Inside the 30 s leeway a token still works (clock skew between machines).
        skewed = _forge(settings, header, {**claims, "exp": now - 10, "nbf": now + 10})
        assert (await http.get("/api/v1/accounts", headers=bearer(skewed))).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic YWRtaW46cGFzc3dvcmQ="},
        {"Authorization": "Token abc"},
    ],
)
async def test_missing_or_malformed_authorization_is_a_401_problem(
    settings: Settings, headers: dict[str, str]
) -> None:
    async with serving(settings) as http:
        _problem(await http.get("/api/v1/accounts", headers=headers), 401)
        _problem(await http.get("/api/v1/users", headers=headers), 401)


async def test_tokens_count_only_in_the_authorization_header(settings: Settings) -> None:
    async with serving(settings) as http:
        token = (await login(http, "admin@example.com"))["access_token"]
        _problem(await http.get("/api/v1/accounts", headers={"Cookie": f"token={token}"}), 401)
        _problem(await http.get(f"/api/v1/accounts?token={token}"), 401)
        login_response = await http.post(
            "/api/v1/auth/login", json={"email": "admin@example.com", "password": PASSWORD}
        )
        assert "set-cookie" not in login_response.headers


async def test_health_ready_and_schema_stay_public(settings: Settings) -> None:
    async with serving(settings) as http:
        assert (await http.get("/health")).status_code == 200
        assert (await http.get("/ready")).status_code == 200
        spec = (await http.get("/schema/openapi.json")).json()
        assert spec["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
        assert spec["paths"]["/api/v1/accounts"]["get"]["security"] == [{"BearerToken": []}]
        assert "security" not in spec["paths"]["/api/v1/auth/login"]["post"]
        login_schema = spec["components"]["schemas"]["LoginIn"]["properties"]["password"]
        assert login_schema["writeOnly"] is True
        new_user = spec["components"]["schemas"]["NewUserIn"]["properties"]["password"]
        assert new_user["writeOnly"] is True
        assert "password" not in json.dumps(spec["components"]["schemas"]["UserOut"])
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                assert operation.get("description"), f"{method.upper()} {path} has no description"


async def test_accounts_per_role_and_grant_never_cross_orgs(settings: Settings) -> None:
    cross_org_reads = 0
    async with serving(settings) as http:
        for email, (role, granted) in GRANTS.items():
            token = (await login(http, email))["access_token"]
            visible = set(ORGS) if role is Role.ADMIN else set(granted)
            # Every page without a filter, small pages so cursors cross org boundaries.
            seen: set[str] = set()
            cursor = None
            while True:
                params = {"limit": "5"} | ({"cursor": cursor} if cursor else {})
                page = (await http.get("/api/v1/accounts", params=params, headers=bearer(token))).json()
                orgs = {item["org_id"] for item in page["items"]}
                cross_org_reads += len(orgs - visible)
                seen |= orgs
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            assert seen == visible, email
            # Every org as a filter, alone and mixed with a granted one; plus an unknown org.
            unknown = await http.get("/api/v1/accounts?org=nowhere", headers=bearer(token))
            unknown_body = _problem(unknown, 404)
            for org in ORGS:
                response = await http.get(f"/api/v1/accounts?org={org}&limit=500", headers=bearer(token))
                if org in visible:
                    assert response.status_code == 200
                    items = response.json()["items"]
                    assert {item["org_id"] for item in items} == {org}
                    assert len(items) == 12
                else:
                    body = _problem(response, 404)
                    # Same answer as an org that does not exist, but for the id itself.
                    assert body["title"] == unknown_body["title"]
                    assert body["detail"].replace(org, "nowhere") == unknown_body["detail"]
                    cross_org_reads += 0 if response.status_code == 404 else 1
                for other in visible:
                    mixed = await http.get(
                        f"/api/v1/accounts?org={org}&org={other}&limit=500", headers=bearer(token)
                    )
                    if org not in visible:
                        _problem(mixed, 404)
                    else:
                        cross_org_reads += len({i["org_id"] for i in mixed.json()["items"]} - visible)
    assert cross_org_reads == 0


async def test_grants_and_roles_take_effect_at_the_next_request(settings: Settings) -> None:
    async with serving(settings) as http:
        admin = bearer((await login(http, "admin@example.com"))["access_token"])
        user = bearer((await login(http, "nobody@example.com"))["access_token"])
        users = (await http.get("/api/v1/users", headers=admin)).json()
        user_id = next(u["id"] for u in users if u["email"] == "nobody@example.com")
        assert (await http.get("/api/v1/accounts", headers=user)).json()["items"] == []

        granted = await http.put(f"/api/v1/users/{user_id}/grants/apac", headers=admin)
        assert granted.status_code == 200 and granted.json()["org_ids"] == ["apac"]
        items = (await http.get("/api/v1/accounts?limit=500", headers=user)).json()["items"]
        assert {item["org_id"] for item in items} == {"apac"}

        assert (await http.delete(f"/api/v1/users/{user_id}/grants/apac", headers=admin)).status_code == 204
        assert (await http.get("/api/v1/accounts", headers=user)).json()["items"] == []

        promoted = await http.patch(f"/api/v1/users/{user_id}", json={"role": "admin"}, headers=admin)
        assert promoted.json()["role"] == "admin"
        assert (await http.get("/api/v1/users", headers=user)).status_code == 200

        disabled = await http.patch(f"/api/v1/users/{user_id}", json={"active": False}, headers=admin)
        assert disabled.json()["active"] is False
        _problem(await http.get("/api/v1/accounts", headers=user), 401)


async def test_changes_in_one_process_are_honoured_by_another_at_once(settings: Settings) -> None:
    # Two API processes (two apps, each with its own reused principals) and the CLI, over one database
    # and one Redis: a change made through any of them ends access in the others at the next request,
    # although the other process checked the token a moment before (within its reuse window).
    async with serving(settings) as one, serving(settings) as other:
        admin = bearer((await login(one, "admin@example.com"))["access_token"])
        users = (await one.get("/api/v1/users", headers=admin)).json()
        user_id = next(u["id"] for u in users if u["email"] == "analyst@example.com")
        ended = await login(one, "analyst@example.com")
        kept = bearer((await login(one, "analyst@example.com"))["access_token"])
        for _ in range(2):
            assert (
                await other.get("/api/v1/accounts", headers=bearer(ended["access_token"]))
            ).status_code == 200
            assert (await other.get("/api/v1/accounts", headers=kept)).status_code == 200

        logout = await one.post("/api/v1/auth/logout", json={"refresh_token": ended["refresh_token"]})
        assert logout.status_code == 204
        _problem(await other.get("/api/v1/accounts", headers=bearer(ended["access_token"])), 401)

        assert (await one.delete(f"/api/v1/users/{user_id}/grants/amer", headers=admin)).status_code == 204
        assert (await other.get("/api/v1/accounts", headers=kept)).json()["items"] == []

        await run_use_case(
            settings,
            UpdateUser,
            lambda use_case: use_case.execute(uuid.UUID(user_id), UserChange(active=False)),
        )
        _problem(await other.get("/api/v1/accounts", headers=kept), 401)
        _problem(await one.get("/api/v1/accounts", headers=kept), 401)


async def test_admin_routes(settings: Settings) -> None:
    async with serving(settings) as http:
        admin = bearer((await login(http, "admin@example.com"))["access_token"])
        created = await http.post(
            "/api/v1/users",
            json={
                "email": "New@Example.com",
                "display_name": "New",
                "role": "analyst",
                "password": PASSWORD,
                "org_ids": ["emea"],
            },
            headers=admin,
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["email"] == "new@example.com"
        assert set(body) == {"id", "email", "display_name", "role", "active", "org_ids", "created_at"}
        assert (await login(http, "new@example.com"))["access_token"]

        duplicate = await http.post(
            "/api/v1/users",
            json={"email": "new@example.com", "display_name": "N", "role": "sales", "password": PASSWORD},
            headers=admin,
        )
        _problem(duplicate, 409)
        short = await http.post(
            "/api/v1/users",
            json={"email": "x@example.com", "display_name": "X", "role": "sales", "password": "short"},
            headers=admin,
        )
        _problem(short, 400)
        bad_org = await http.post(
            "/api/v1/users",
            json={
                "email": "y@example.com",
                "display_name": "Y",
                "role": "sales",
                "password": PASSWORD,
                "org_ids": ["nowhere"],
            },
            headers=admin,
        )
        _problem(bad_org, 404)
        # Mass assignment: fields outside the schema are refused, not applied.
        sneaky = await http.patch(
            f"/api/v1/users/{body['id']}", json={"role": "sales", "password_hash": "x"}, headers=admin
        )
        _problem(sneaky, 400)
        unknown = str(uuid.uuid4())
        _problem(await http.patch(f"/api/v1/users/{unknown}", json={"role": "sales"}, headers=admin), 404)
        _problem(await http.put(f"/api/v1/users/{unknown}/grants/emea", headers=admin), 404)
        _problem(await http.put(f"/api/v1/users/{body['id']}/grants/nowhere", headers=admin), 404)
        users = (await http.get("/api/v1/users", headers=admin)).json()
        admin_id = next(u["id"] for u in users if u["email"] == "admin@example.com")
        _problem(await http.patch(f"/api/v1/users/{admin_id}", json={"active": False}, headers=admin), 409)


@pytest.mark.parametrize("email", ["analyst@example.com", "sales@example.com"])
async def test_non_admins_get_403_on_every_admin_route_and_method(settings: Settings, email: str) -> None:
    async with serving(settings) as http:
        token = bearer((await login(http, email))["access_token"])
        some_id = str(uuid.uuid4())
        calls = [
            ("GET", "/api/v1/users", None),
            (
                "POST",
                "/api/v1/users",
                {"email": "z@example.com", "display_name": "Z", "role": "admin", "password": PASSWORD},
            ),
            ("PATCH", f"/api/v1/users/{some_id}", {"role": "admin"}),
            ("PUT", f"/api/v1/users/{some_id}/grants/amer", None),
            ("DELETE", f"/api/v1/users/{some_id}/grants/amer", None),
        ]
        for method, path, body in calls:
            response = await http.request(method, path, json=body, headers=token)
            _problem(response, 403)
