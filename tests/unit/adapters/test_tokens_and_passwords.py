"""The JWT codec (HS256 pinned, typed, leeway, key rotation) and the argon2id hasher (rehash, dummy)."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from adapters.security.passwords import Argon2PasswordHasher
from adapters.security.tokens import JwtTokenCodec, TokenKeyError, decode_key, generate_token_key
from application.auth.ports import TokenType
from application.errors import AuthenticationError
from entrypoints.settings import Settings, SettingsError


def _now() -> datetime:
    return datetime.now(UTC)


def test_issued_tokens_carry_every_required_claim() -> None:
    key = generate_token_key()
    codec = JwtTokenCodec([key])
    issued = codec.issue(TokenType.ACCESS, "user-1", "session-1", _now())
    header = jwt.get_unverified_header(issued.token)
    claims = jwt.decode(issued.token, decode_key(key), algorithms=["HS256"], audience="xsell-api")
    assert header["alg"] == "HS256" and header["kid"]
    assert {"iss", "aud", "sub", "iat", "nbf", "exp", "jti", "typ", "sid"} <= set(claims)
    assert claims["exp"] - claims["iat"] == 15 * 60
    refresh = codec.issue(TokenType.REFRESH, "user-1", "session-1", _now())
    assert refresh.claims.expires_at - refresh.claims.issued_at == timedelta(days=7)
    assert codec.decode(issued.token, TokenType.ACCESS).subject == "user-1"
    assert issued.claims.jti != refresh.claims.jti


@pytest.mark.parametrize(("age_s", "valid"), [(15 * 60 + 29, True), (15 * 60 + 31, False)])
def test_expiry_has_thirty_seconds_of_leeway(age_s: int, valid: bool) -> None:
    codec = JwtTokenCodec([generate_token_key()])
    token = codec.issue(TokenType.ACCESS, "u", "s", _now() - timedelta(seconds=age_s)).token
    if valid:
        codec.decode(token, TokenType.ACCESS)
    else:
        with pytest.raises(AuthenticationError):
            codec.decode(token, TokenType.ACCESS)


@pytest.mark.parametrize(("ahead_s", "valid"), [(29, True), (31, False)])
def test_not_before_has_thirty_seconds_of_leeway(ahead_s: int, valid: bool) -> None:
    codec = JwtTokenCodec([generate_token_key()])
    token = codec.issue(TokenType.ACCESS, "u", "s", _now() + timedelta(seconds=ahead_s)).token
    if valid:
        codec.decode(token, TokenType.ACCESS)
    else:
        with pytest.raises(AuthenticationError):
            codec.decode(token, TokenType.ACCESS)


def test_types_are_distinct() -> None:
    codec = JwtTokenCodec([generate_token_key()])
    refresh = codec.issue(TokenType.REFRESH, "u", "s", _now()).token
    access = codec.issue(TokenType.ACCESS, "u", "s", _now()).token
    with pytest.raises(AuthenticationError):
        codec.decode(refresh, TokenType.ACCESS)
    with pytest.raises(AuthenticationError):
        codec.decode(access, TokenType.REFRESH)


def test_rotation_old_key_still_verifies_new_key_signs() -> None:
    old, new = generate_token_key(), generate_token_key()
    before = JwtTokenCodec([old]).issue(TokenType.ACCESS, "u", "s", _now()).token
    rotated = JwtTokenCodec([new, old])
    assert rotated.decode(before, TokenType.ACCESS).subject == "u"
    after = rotated.issue(TokenType.ACCESS, "u", "s", _now()).token
    with pytest.raises(AuthenticationError):
        JwtTokenCodec([old]).decode(after, TokenType.ACCESS)


@pytest.mark.parametrize("key", ["c2hvcnQ", "not base64 at all!", ""])
def test_short_or_malformed_keys_are_refused(key: str) -> None:
    with pytest.raises(TokenKeyError):
        JwtTokenCodec([key])


@pytest.mark.parametrize("value", ["c2hvcnQ", "a,,", "%%%%"])
def test_settings_refuse_weak_jwt_keys(value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"XSELL_JWT_KEYS": value})
    assert str(caught.value).startswith("XSELL_JWT_KEYS")


def test_settings_read_jwt_keys_newest_first() -> None:
    keys = [generate_token_key(), generate_token_key()]
    settings = Settings.from_env({"XSELL_JWT_KEYS": ",".join(keys), "XSELL_LOGIN_CONCURRENCY": "2"})
    assert settings.jwt_keys == tuple(keys)
    assert settings.login_concurrency == 2
    assert keys[0] not in repr(settings)


def _cheap(concurrency: int = 2, time_cost: int = 1) -> Argon2PasswordHasher:
    return Argon2PasswordHasher(concurrency, time_cost=time_cost, memory_cost_kib=1024)


async def test_argon2id_hash_verify_and_rehash() -> None:
    hasher = _cheap()
    stored = await hasher.hash("correct horse battery staple")
    assert stored.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert await hasher.verify(stored, "correct horse battery staple")
    assert not await hasher.verify(stored, "wrong")
    assert not await hasher.verify(None, "correct horse battery staple")  # unknown user: the dummy hash
    assert not await hasher.verify("not a hash", "x")
    assert not hasher.needs_rehash(stored)
    assert _cheap(time_cost=2).needs_rehash(stored)
    hasher.close()


def test_default_parameters_meet_owasp_minimum() -> None:
    hasher = Argon2PasswordHasher(1)
    stored = hasher._hasher.hash("x")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    hasher.close()


async def test_hashing_runs_off_the_event_loop_and_is_bounded() -> None:
    hasher = _cheap(concurrency=2, time_cost=3)
    running = 0
    most = 0
    lock = threading.Lock()
    loop_thread = threading.get_ident()
    threads: set[int] = set()
    inner = hasher._hasher

    class Counting:
        def hash(self, password: str) -> str:
            return inner.hash(password)

        def verify(self, hash_: str, password: str) -> bool:
            return counting(hash_, password)

    def counting(hash_: str, password: str) -> bool:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            threads.add(threading.get_ident())
        try:
            time.sleep(0.02)
            return inner.verify(hash_, password)
        finally:
            with lock:
                running -= 1

    hasher._hasher = Counting()  # type: ignore[assignment]
    stored = await hasher.hash("pw")
    results = await asyncio.gather(*(hasher.verify(stored, "pw") for _ in range(8)))
    assert all(results)
    assert most == 2
    assert loop_thread not in threads
    hasher.close()
