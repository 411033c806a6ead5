"""The cache's Redis client (`create_cache_redis`): no socket timeouts and no poll of pooled connections,
one deadline per call instead. These hold it to what that gives up nothing: a command cut off before
its reply never hands that reply to the next command, and a Redis that stops answering still fails
each call within its deadline."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator

import pytest

from adapters.cache import redis_cache
from adapters.cache.redis_cache import (
    LuaScript,
    RedisCache,
    RedisGeneration,
    RedisProbe,
    create_cache_redis,
)
from adapters.cache.redis_rate_limiter import RedisAdmissionGate
from adapters.embedded.services import ServiceUrls
from application.errors import DependencyUnavailableError


async def test_a_command_cut_off_before_its_reply_leaves_nothing_for_the_next(services: ServiceUrls) -> None:
    client = create_cache_redis(services.cache_redis_url)
    try:
        await client.set("xsell:test:cut-off", b"the value")
        for _ in range(3):
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.05):
                    await client.execute_command("DEBUG", "SLEEP", "0.2")  # its +OK comes after the cut
            # The pool hands the same connection out again; a stale +OK would be read as this reply.
            assert await client.get("xsell:test:cut-off") == b"the value"
            assert await client.incr("xsell:test:cut-off-count") >= 1
        assert len(client.connection_pool._available_connections) == 1  # one connection, reused each time
    finally:
        await client.delete("xsell:test:cut-off", "xsell:test:cut-off-count")
        await client.aclose()


# Busy for 0.2 s inside Redis, then answers 'late'.
_SLOW = """
local function us(t) return tonumber(t[1]) * 1000000 + tonumber(t[2]) end
local start = us(redis.call('TIME'))
while us(redis.call('TIME')) - start < 200000 do end
return 'late'
"""


async def test_a_script_cut_off_before_its_reply_leaves_nothing_for_the_next(services: ServiceUrls) -> None:
    client = create_cache_redis(services.cache_redis_url)
    slow, echo = LuaScript(client, _SLOW), LuaScript(client, "return ARGV[1]")
    try:
        for attempt in range(3):
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.05):
                    await slow([])
            assert await echo([], [f"answer {attempt}"]) == f"answer {attempt}".encode()
        assert len(client.connection_pool._available_connections) == 1
    finally:
        await client.aclose()


async def test_a_script_redis_does_not_know_is_sent_whole_once(services: ServiceUrls) -> None:
    client = create_cache_redis(services.cache_redis_url)
    script = LuaScript(client, "return redis.call('INCR', KEYS[1])")
    try:
        await client.delete("xsell:test:script-count")
        await client.script_flush()  # as after a restart: EVALSHA answers NOSCRIPT
        assert await script(["xsell:test:script-count"]) == 1
        sha = hashlib.sha1(b"return redis.call('INCR', KEYS[1])", usedforsecurity=False).hexdigest()
        assert await client.script_exists(sha) == [True]  # loaded by that EVAL: EVALSHA from now on
        assert await script(["xsell:test:script-count"]) == 2
    finally:
        await client.delete("xsell:test:script-count")
        await client.aclose()


@pytest.fixture
async def silent_redis() -> AsyncIterator[str]:
    """A server that accepts connections and never answers: a Redis hung (or a network path lost)."""
    held: list[asyncio.StreamWriter] = []

    async def accept(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_every_call_fails_within_its_deadline_on_a_redis_that_never_answers(
    silent_redis: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_cache, "COMMAND_TIMEOUT_S", 0.3)
    client = create_cache_redis(silent_redis)
    try:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await RedisCache(client).get_many(["a"])
        with pytest.raises(TimeoutError):
            await RedisCache(client).set_many({"a": b"1"}, ttl_seconds=5)
        assert await RedisGeneration(client, "xsell:test:generation").current() is None
        answer = await RedisAdmissionGate(client, "xsell:test:auth").enter("ana", 10, 60)
        assert (answer.decision, answer.version) == (None, None)
        with pytest.raises(DependencyUnavailableError):
            await RedisProbe(client).check()
        assert time.monotonic() - started < 5 * 0.3 + 2  # five calls, each cut at its deadline
    finally:
        await client.aclose()
