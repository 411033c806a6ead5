"""TrainModel: learn from the synced history, register the version with its metrics beside the baselines."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from application.features.model import cutoff_instant
from application.models.baselines import fit_baselines
from application.models.dataset import CandidateSet
from application.models.evaluate import LearningData
from application.models.learning import LearningTask
from application.models.metrics import evaluate
from application.models.ports import ModelTrainer, TrainingBudget
from application.models.registry import ModelRegistry
from application.ports.clock import Clock
from domain.model_version import ModelStage, ModelVersion, TrainingWindow, promote_to_champion

__all__ = ["TrainModel", "TrainingOutcome"]

Progress = Callable[[str], None]

# Metrics kept on the version itself (the full evaluation, per family and the reliability curve, is in
# its details).
_HEADLINE = ("auc", "pr_auc", "brier", "ece")


@dataclass(frozen=True)
class TrainingOutcome:
    version: ModelVersion
    promoted: bool
    seconds: float


class TrainModel:
    def __init__(
        self, data: LearningData, trainer: ModelTrainer, registry: ModelRegistry, clock: Clock
    ) -> None:
        self._data = data
        self._trainer = trainer
        self._registry = registry
        self._clock = clock

    async def execute(
        self,
        *,
        by: str,
        horizon_days: int = 180,
        training_cutoffs: int = 6,
        budget: TrainingBudget | None = None,
        k: int = 5,
        as_of: date | None = None,
        progress: Progress | None = None,
    ) -> TrainingOutcome:
        """Train for cutoff `as_of` (default today): validate on as_of - horizon, train on earlier cutoffs.

        The first version ever trained becomes champion at once (something must serve); later ones stay
        candidates until promoted. Raises InvalidRequestError when the history has no purchases to learn from.
        """
        say = progress or (lambda _: None)
        started = time.monotonic()
        target = as_of or self._clock.now().date()
        plan = LearningTask(horizon_days=horizon_days, training_cutoffs=training_cutoffs).plan(target)
        say(f"reading outcomes up to {target}")
        inputs = await self._data.outcomes_source(target)
        train = CandidateSet.concat(await self._data.candidates(plan.training, horizon_days, inputs, say))
        (valid,) = await self._data.candidates([plan.validation], horizon_days, inputs, say)
        say(
            f"training on {len(train):,} candidates from {len(plan.training)} cutoffs,"
            f" validating on {len(valid):,}"
        )
        chosen = budget or TrainingBudget()
        model = await asyncio.to_thread(
            self._trainer.train,
            train,
            valid,
            chosen,
            study_prefix=f"train-{target.isoformat()}-{int(time.time())}",
            progress=say,
        )
        validation = evaluate(model.predict(valid), valid, k)
        baselines = {b.name: evaluate(b.score(valid), valid, k) for b in fit_baselines(train)}
        metrics = {
            f"validation_{name}": validation.overall[name] for name in (*_HEADLINE, f"map@{k}", f"ndcg@{k}")
        }
        for name, result in baselines.items():
            metrics[f"baseline_{name}_auc"] = result.overall["auc"]
            metrics[f"baseline_{name}_map@{k}"] = result.overall[f"map@{k}"]
        metrics = {
            name: value for name, value in metrics.items() if value == value
        }  # NaN: undefined, left out
        files = model.artifacts()
        checksums = {name: hashlib.sha256(content).hexdigest() for name, content in files.items()}
        now = self._clock.now()
        digest = hashlib.sha256(repr(sorted(checksums.items())).encode()).hexdigest()
        version_id = f"m-{now:%Y%m%d-%H%M%S}-{digest[:6]}"
        version = ModelVersion(
            id=version_id,
            algorithms=frozenset(model.algorithms),
            feature_set_version=valid.layout.feature_set_version,
            training_window=TrainingWindow(
                cutoff_instant(plan.training[0]) - timedelta(days=1),
                cutoff_instant(plan.validation + timedelta(days=horizon_days)),
            ),
            created_by=by,
            metrics=metrics,
            artifacts=checksums,
            created_at=now,
        )
        report = model.report
        details: dict[str, Any] = {
            "target": target.isoformat(),
            "horizon_days": horizon_days,
            "k": k,
            "training_cutoffs": [c.isoformat() for c in plan.training],
            "validation_cutoff": plan.validation.isoformat(),
            "candidates": {"training": len(train), "validation": len(valid)},
            "budget": {
                "seconds": chosen.seconds,
                "max_trials": chosen.max_trials,
                "max_rows": chosen.max_rows,
            },
            "members": dict(report.members),
            "weights": dict(report.weights),
            "calibration": dict(report.calibration),
            "validation": validation.to_dict(),
            "baselines": {name: result.to_dict() for name, result in baselines.items()},
            "note": "validation metrics are measured on the cutoff that also chose the blend and the"
            " calibration;"
            " `xsell evaluate` measures on purchases the model never saw",
        }
        promoted = False
        if not any(v.stage is ModelStage.CHAMPION for v in await self._registry.all()):
            promote_to_champion(version, None, by=by, at=now, reason="first model: nothing served before")
            promoted = True
        await self._registry.add(version, files, details)
        say(f"registered {version.id} as {version.stage}")
        return TrainingOutcome(version, promoted, time.monotonic() - started)
