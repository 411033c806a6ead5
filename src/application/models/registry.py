"""The model registry port and its use cases: list, promote, roll back, A/B share; what served when."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from application.errors import InvalidRequestError
from application.ports.clock import Clock
from domain.errors import NotFoundError
from domain.model_version import ModelStage, ModelVersion, promote_to_champion, roll_back
from domain.serving import ServingPolicy

__all__ = [
    "ArmOutcome",
    "ListModels",
    "ModelRegistry",
    "PromoteModel",
    "RollBackModel",
    "SetServingPolicy",
    "ShowModel",
]


@dataclass(frozen=True)
class ArmOutcome:
    """Feedback on one model version's recommendations in one arm."""

    model_version_id: str
    arm: str
    recommendations: int
    accepted: int
    dismissed: int
    converted: int
    revenue: float

    @property
    def acceptance_rate(self) -> float | None:
        decided = self.accepted + self.dismissed + self.converted
        return None if not decided else (self.accepted + self.converted) / decided

    @property
    def conversion_rate(self) -> float | None:
        return None if not self.recommendations else self.converted / self.recommendations


class ModelRegistry(Protocol):
    """Versions with their stage history and artifacts; every method is one transaction."""

    async def add(
        self, version: ModelVersion, artifacts: Mapping[str, bytes], details: Mapping[str, Any]
    ) -> None:
        """Register a version with its artifacts (their checksums are in `version.artifacts`)."""
        ...

    async def get(self, version_id: str) -> ModelVersion | None: ...

    async def details(self, version_id: str) -> dict[str, Any]: ...

    async def all(self) -> list[ModelVersion]:
        """Every version, newest first."""
        ...

    async def save_stages(self, versions: list[ModelVersion]) -> None:
        """Persist the stages and new history entries of `versions` together (all or nothing).

        Raises ConflictError when another process changed one of them since it was read.
        """
        ...

    async def artifacts(self, version_id: str) -> dict[str, bytes]: ...

    async def serving_policy(self) -> ServingPolicy: ...

    async def set_serving_policy(self, policy: ServingPolicy, *, by: str) -> None: ...

    async def arm_outcomes(self) -> list[ArmOutcome]:
        """Acceptance, conversion and revenue per model version and arm, from recommendation feedback."""
        ...


class ListModels:
    def __init__(self, registry: ModelRegistry) -> None:
        self._registry = registry

    async def execute(self) -> tuple[list[ModelVersion], ServingPolicy, list[ArmOutcome]]:
        return (
            await self._registry.all(),
            await self._registry.serving_policy(),
            await self._registry.arm_outcomes(),
        )


class ShowModel:
    def __init__(self, registry: ModelRegistry) -> None:
        self._registry = registry

    async def execute(self, version_id: str) -> tuple[ModelVersion, dict[str, Any]]:
        """Raises NotFoundError for an unknown version."""
        version = await self._registry.get(version_id)
        if version is None:
            raise NotFoundError(f"no model version {version_id!r}")
        return version, await self._registry.details(version_id)


async def _stage(registry: ModelRegistry, stage: ModelStage) -> ModelVersion | None:
    return next((v for v in await registry.all() if v.stage is stage), None)


class PromoteModel:
    """Make a version the champion (the serving one is archived) or the challenger of an A/B test."""

    def __init__(self, registry: ModelRegistry, clock: Clock) -> None:
        self._registry = registry
        self._clock = clock

    async def execute(
        self, version_id: str, *, by: str, challenger: bool = False, reason: str | None = None
    ) -> ModelVersion:
        """Raises NotFoundError for an unknown version, InvalidStageTransitionError or
        InvariantViolationError for a move the stage rules forbid (nothing changes then)."""
        version = await self._registry.get(version_id)
        if version is None:
            raise NotFoundError(f"no model version {version_id!r}")
        now = self._clock.now()
        if challenger:
            changed = [version]
            current = await _stage(self._registry, ModelStage.CHALLENGER)
            if current is not None and current.id != version.id:
                current.move_to(ModelStage.CANDIDATE, by=by, at=now, reason=f"replaced by {version.id}")
                changed.append(current)
            version.move_to(ModelStage.CHALLENGER, by=by, at=now, reason=reason)
            await self._registry.save_stages(changed)
            return version
        champion = await _stage(self._registry, ModelStage.CHAMPION)
        promote_to_champion(version, champion, by=by, at=now, reason=reason)
        await self._registry.save_stages([v for v in (version, champion) if v is not None])
        return version


class RollBackModel:
    """Archive the champion and bring back the version that served before it."""

    def __init__(self, registry: ModelRegistry, clock: Clock) -> None:
        self._registry = registry
        self._clock = clock

    async def execute(self, *, by: str, reason: str | None = None) -> tuple[ModelVersion, ModelVersion]:
        """Returns (archived, restored). Raises InvalidRequestError when nothing serves or nothing served
        before it."""
        versions = await self._registry.all()
        champion = next((v for v in versions if v.stage is ModelStage.CHAMPION), None)
        if champion is None:
            raise InvalidRequestError("no model serves yet, so there is nothing to roll back")
        # The previous champion is the one whose last time as champion ended most recently.
        previous = max(
            (v for v in versions if v.stage is ModelStage.ARCHIVED and v.was_champion),
            key=lambda v: max(c.at for c in v.history if c.from_stage is ModelStage.CHAMPION),
            default=None,
        )
        if previous is None:
            raise InvalidRequestError(
                f"{champion.id} is the first model that served; there is none to go back to"
            )
        roll_back(champion, previous, by=by, at=self._clock.now(), reason=reason)
        await self._registry.save_stages([champion, previous])
        return champion, previous


class SetServingPolicy:
    def __init__(self, registry: ModelRegistry) -> None:
        self._registry = registry

    async def execute(self, *, challenger_share: float, salt: str | None, by: str) -> ServingPolicy:
        """Raises InvariantViolationError for a share outside [0, 0.5] or an empty salt."""
        current = await self._registry.serving_policy()
        policy = ServingPolicy(challenger_share, salt or current.salt)
        await self._registry.set_serving_policy(policy, by=by)
        return policy
