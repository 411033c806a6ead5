"""The model actors: `train`, `score` and `resolve` on their own queue, so long work never delays a sync.

Messages carry a profile name, a flag and a job id at most: the work reads everything else from the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import dramatiq

__all__ = [
    "RESOLVE_TIME_LIMIT_MS",
    "SCORE_TIME_LIMIT_MS",
    "TRAIN_TIME_LIMIT_MS",
    "ModelActors",
    "ModelRunner",
    "declare_model_actors",
]

QUEUE = "models"
TRAIN_TIME_LIMIT_MS = 3 * 60 * 60 * 1000
SCORE_TIME_LIMIT_MS = 60 * 60 * 1000
RESOLVE_TIME_LIMIT_MS = 2 * 60 * 60 * 1000


class ModelRunner(Protocol):
    async def train(self, profile: str, requested_by: str, job_id: str | None) -> None: ...

    async def score(self, job_id: str | None) -> None: ...

    async def resolve(self, full: bool, job_id: str | None) -> None: ...


@dataclass(frozen=True)
class ModelActors:
    train: dramatiq.Actor[Any, Any]
    score: dramatiq.Actor[Any, Any]
    resolve: dramatiq.Actor[Any, Any]


def declare_model_actors(broker: dramatiq.Broker, runner: ModelRunner | None) -> ModelActors:
    def _runner() -> ModelRunner:
        if runner is None:
            raise RuntimeError("this process only sends model jobs")
        return runner

    async def train(
        profile: str = "standard", requested_by: str = "worker", job_id: str | None = None
    ) -> None:
        await _runner().train(profile, requested_by, job_id)

    async def score(job_id: str | None = None) -> None:
        await _runner().score(job_id)

    async def resolve(full: bool = False, job_id: str | None = None) -> None:
        await _runner().resolve(full, job_id)

    # Neither is retried automatically: a failed training or scoring is reported and left for a person
    # (a retry would spend the same hour of CPU on the same failure).
    train_actor: dramatiq.Actor[Any, Any] = dramatiq.actor(
        broker=broker, actor_name="train", queue_name=QUEUE, max_retries=0, time_limit=TRAIN_TIME_LIMIT_MS
    )(train)
    score_actor: dramatiq.Actor[Any, Any] = dramatiq.actor(
        broker=broker, actor_name="score", queue_name=QUEUE, max_retries=0, time_limit=SCORE_TIME_LIMIT_MS
    )(score)
    resolve_actor: dramatiq.Actor[Any, Any] = dramatiq.actor(
        broker=broker, actor_name="resolve", queue_name=QUEUE, max_retries=0, time_limit=RESOLVE_TIME_LIMIT_MS
    )(resolve)
    return ModelActors(train_actor, score_actor, resolve_actor)
