"""CheckReadiness reports each dependency, and a slow one as a timeout rather than a hang."""

from __future__ import annotations

import asyncio

from tests.fakes import FakeProbe

from application.readiness import CheckReadiness


async def test_all_ok() -> None:
    result = await CheckReadiness([FakeProbe("postgresql"), FakeProbe("redis")]).execute()
    assert result.ready
    assert result.checks == {"postgresql": "ok", "redis": "ok"}


async def test_one_down_gives_its_reason() -> None:
    result = await CheckReadiness(
        [FakeProbe("postgresql"), FakeProbe("redis", "connection refused")]
    ).execute()
    assert not result.ready
    assert result.checks == {"postgresql": "ok", "redis": "connection refused"}


class _SlowProbe:
    name = "slow"

    async def check(self) -> None:
        await asyncio.sleep(5)


async def test_slow_dependency_times_out() -> None:
    result = await CheckReadiness([_SlowProbe()], timeout_seconds=0.05).execute()
    assert not result.ready
    assert result.checks["slow"].startswith("no answer within")
