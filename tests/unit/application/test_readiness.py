"""CheckReadiness reports each dependency, and a slow one as a timeout rather than a hang."""

from __future__ import annotations

import asyncio

from tests.fakes import FakeProbe

from application.readiness import CheckReadiness


async def test_all_ok() -> None:
    result = await CheckReadiness([FakeProbe("postgresql"), FakeProbe("redis")]).execute()
    assert result.ready
    assert result.checks == {"postgresql": "ok", "redis": "ok"}
    assert result.status == "ok"


async def test_one_down_gives_its_reason() -> None:
    result = await CheckReadiness(
        [FakeProbe("postgresql"), FakeProbe("redis", "connection refused")]
    ).execute()
    assert not result.ready
    assert result.status == "unavailable"
    assert result.checks == {"postgresql": "ok", "redis": "connection refused"}


async def test_an_optional_dependency_down_only_degrades() -> None:
    probes = [FakeProbe("postgresql"), FakeProbe("redis", "connection refused")]
    result = await CheckReadiness(probes, optional={"redis"}).execute()
    assert result.ready
    assert result.status == "degraded"
    assert result.checks["redis"] == "connection refused"
    down = CheckReadiness([FakeProbe("postgresql", "refused"), FakeProbe("redis")], optional={"redis"})
    assert (await down.execute()).status == "unavailable"


class _SlowProbe:
    name = "slow"

    async def check(self) -> None:
        await asyncio.sleep(5)


async def test_slow_dependency_times_out() -> None:
    result = await CheckReadiness([_SlowProbe()], timeout_seconds=0.05).execute()
    assert not result.ready
    assert result.checks["slow"].startswith("no answer within")
