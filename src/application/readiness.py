"""Whether this process can serve: every dependency probed at once, with a reason for each failure."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from application.ports.health import DependencyProbe

__all__ = ["CheckReadiness", "Readiness"]


@dataclass(frozen=True)
class Readiness:
    ready: bool
    checks: dict[str, str]  # dependency name -> "ok" or the reason it failed


class CheckReadiness:
    def __init__(self, probes: Sequence[DependencyProbe], timeout_seconds: float = 3.0) -> None:
        self._probes = probes
        self._timeout = timeout_seconds

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
        return Readiness(ready=all(result == "ok" for result in results), checks=checks)
