"""Whether this process can serve: every dependency probed at once, with a reason for each failure.

A dependency the process can do without (the API without Redis: no cache, rate limits not enforced, jobs
wait in the outbox) only degrades it; it stays ready, and says so."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from application.ports.health import DependencyProbe

__all__ = ["CheckReadiness", "Readiness"]


@dataclass(frozen=True)
class Readiness:
    ready: bool
    checks: dict[str, str]  # dependency name -> "ok" or the reason it failed

    @property
    def status(self) -> str:
        """`ok`, `degraded` (ready, but an optional dependency is down) or `unavailable`."""
        if not self.ready:
            return "unavailable"
        return "ok" if all(result == "ok" for result in self.checks.values()) else "degraded"


class CheckReadiness:
    def __init__(
        self,
        probes: Sequence[DependencyProbe],
        timeout_seconds: float = 3.0,
        optional: Collection[str] = (),
    ) -> None:
        self._probes = probes
        self._timeout = timeout_seconds
        self._optional = frozenset(optional)

    async def _one(self, probe: DependencyProbe) -> str:
        try:
            await asyncio.wait_for(probe.check(), self._timeout)
        except TimeoutError:
            return f"no answer within {self._timeout:g} s"
        except Exception as exc:  # a probe's failure is data here, never a crash of /ready
            return str(exc) or type(exc).__name__
        return "ok"

    async def execute(self) -> Readiness:
        results = await asyncio.gather(*(self._one(probe) for probe in self._probes))
        checks = {probe.name: result for probe, result in zip(self._probes, results, strict=True)}
        ready = all(result == "ok" for name, result in checks.items() if name not in self._optional)
        return Readiness(ready=ready, checks=checks)
