"""The admission gate on a real Redis: one script counts the request and reads the versions, shared by
every client of that Redis, and an unreachable Redis answers "unknown" instead of failing the request."""

from __future__ import annotations

from redis.asyncio import Redis

from adapters.cache.redis_cache import RedisGeneration, create_redis
from adapters.cache.redis_rate_limiter import RedisAdmissionGate
from adapters.embedded.services import ServiceUrls

AUTH = "xsell:auth:generation"
LISTS = "xsell:cache:recommendations:generation"


async def test_one_step_counts_per_subject_and_reads_every_version(services: ServiceUrls) -> None:
    first, second = create_redis(services.redis_url), create_redis(services.redis_url)
    try:
        await first.delete(AUTH, LISTS, "xsell:ratelimit:api:ana", "xsell:ratelimit:api:bo")
        gates = [RedisAdmissionGate(client, AUTH, {"lists": LISTS}) for client in (first, second)]
        answers = [await gates[n % 2].enter("ana", 3, 60) for n in range(4)]  # two processes, one count
        assert [a.decision.allowed for a in answers if a.decision] == [True, True, True, False]
        assert [a.decision.remaining for a in answers if a.decision] == [2, 1, 0, 0]
        assert all(a.decision and 1 <= a.decision.reset_seconds <= 60 for a in answers)
        versions = {(a.version, tuple(a.watched.items())) for a in answers}
        assert len(versions) == 1  # the first read fixed each version; later reads agree
        ((auth, ((_, lists),)),) = versions
        assert (
            await RedisGeneration(second, AUTH).current(),
            await RedisGeneration(second, LISTS).current(),
        ) == (
            auth,
            lists,
        )
        assert (await gates[0].enter("bo", 3, 60)).decision.remaining == 2  # type: ignore[union-attr]
        await RedisGeneration(first, AUTH).changed()
        await RedisGeneration(first, LISTS).changed()
        await RedisGeneration(first, LISTS).changed()
        moved = await gates[1].enter("bo", 3, 60)
        assert (moved.version, moved.watched) == (str(int(auth) + 1), {"lists": str(int(lists) + 2)})
        assert 0 < await first.pttl("xsell:ratelimit:api:ana") <= 60_000
    finally:
        await first.aclose()
        await second.aclose()


async def test_an_unreachable_redis_answers_unknown(services: ServiceUrls) -> None:
    client = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    try:
        answer = await RedisAdmissionGate(client, AUTH, {"lists": LISTS}).enter("ana", 3, 60)
    finally:
        await client.aclose()
    assert (answer.decision, answer.version, answer.watched) == (None, None, {})


async def test_a_lost_version_never_comes_back_to_a_value_seen_before(services: ServiceUrls) -> None:
    """A cache Redis that restarts empty loses its counters; readers that kept something checked under an
    earlier value must see a value they have never seen, or they would trust it again."""
    client = create_redis(services.redis_url)
    try:
        await client.delete(LISTS)
        generation = RedisGeneration(client, LISTS)
        seen = [await generation.current()]
        await generation.changed()
        seen.append(await generation.current())
        await client.delete(LISTS)  # what a restart without persistence does
        after_loss = await RedisAdmissionGate(client, AUTH, {"lists": LISTS}).enter("ana", 100, 60)
        assert after_loss.watched["lists"] not in seen
        assert int(after_loss.watched["lists"]) > max(int(value) for value in seen if value)
        assert await generation.current() == after_loss.watched["lists"]
    finally:
        await client.aclose()
