"""EvaluateModels: train on what was known before a cutoff, score the purchases that followed it.

Every model is reported beside the three baselines (and, on generated data, beside the generator's true
propensities), on the same candidates, with the same metrics.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from application.errors import InvalidRequestError
from application.features.build import BuildFeatures
from application.features.model import FeatureBatch, FeatureInputs
from application.features.ports import FeatureRegistry, FeatureSource, OfflineFeatureStore
from application.models.baselines import fit_baselines
from application.models.dataset import CandidateSet
from application.models.learning import CutoffPlan, LearningTask, purchases_in_window
from application.models.metrics import Evaluation, evaluate
from application.models.ports import ModelTrainer, TrainedModel, TrainingBudget
from application.ports.clock import Clock

__all__ = ["EvaluateModels", "EvaluationReport", "LearningData", "ReferenceScores", "ScoredRow"]

Progress = Callable[[str], None]


class ReferenceScores(Protocol):
    """Known true propensities (generated data only): NaN where a row has none."""

    name: str

    def scores(
        self, candidates: CandidateSet, members: dict[str, list[tuple[str, str]]], horizon_days: int
    ) -> npt.NDArray[np.float64]: ...


@dataclass(frozen=True)
class ScoredRow:
    """One line of the evaluation table: a model, a member of it, a baseline or the reference."""

    name: str
    kind: str  # ensemble | member | baseline | reference
    evaluation: Evaluation


@dataclass(frozen=True)
class EvaluationReport:
    plan: CutoffPlan
    k: int
    feature_set_version: str
    candidates: dict[str, int]
    positives: dict[str, int]
    rows: list[ScoredRow]
    training: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.plan.target.isoformat(),
            "horizon_days": self.plan.horizon_days,
            "k": self.k,
            "training_cutoffs": [c.isoformat() for c in self.plan.training],
            "validation_cutoff": self.plan.validation.isoformat(),
            "feature_set_version": self.feature_set_version,
            "candidates": self.candidates,
            "positives": self.positives,
            "results": [{"name": r.name, "kind": r.kind, **r.evaluation.to_dict()} for r in self.rows],
            "training": self.training,
            "seconds": round(self.seconds, 1),
            "notes": self.notes,
        }


class LearningData:
    """Feature batches and outcomes for a cutoff plan; builds any missing cutoff into the offline store."""

    def __init__(
        self,
        source: FeatureSource,
        registry: FeatureRegistry,
        offline: OfflineFeatureStore,
        build: BuildFeatures,
    ) -> None:
        self._source = source
        self._registry = registry
        self._offline = offline
        self._build = build

    async def batch(self, cutoff: date, say: Progress) -> FeatureBatch:
        """Features as of `cutoff`, always built afresh from what is synced now.

        An earlier build of the same cutoff may predate a sync, a merge or a crosswalk change; training on
        it would mix two states of the data, so the build is repeated (offline only: serving is untouched).
        """
        version = self._registry.layout().feature_set_version
        say(f"building features as of {cutoff}")
        await self._build.execute(cutoff, publish=False)
        batch = await self._offline.load(version, cutoff)
        if batch is None:  # pragma: no cover - the build just wrote it
            raise InvalidRequestError(f"features as of {cutoff} could not be built")
        if not batch.families:
            raise InvalidRequestError(
                "no product families are mapped yet: run `xsell products suggest` (and confirm the crosswalk)"
                " before training"
            )
        return batch

    async def outcomes_source(self, latest: date) -> FeatureInputs:
        return await self._source.load(latest)

    async def candidates(
        self, cutoffs: Sequence[date], horizon_days: int, inputs: FeatureInputs | None, say: Progress
    ) -> list[CandidateSet]:
        sets = []
        for cutoff in cutoffs:
            batch = await self.batch(cutoff, say)
            purchases = None
            if inputs is not None:
                end = date.fromordinal(cutoff.toordinal() + horizon_days)
                purchases = purchases_in_window(inputs, cutoff, end)
            sets.append(CandidateSet.from_batch(batch, purchases))
        return sets


class EvaluateModels:
    def __init__(self, data: LearningData, trainer: ModelTrainer, clock: Clock) -> None:
        self._data = data
        self._trainer = trainer
        self._clock = clock

    async def execute(
        self,
        as_of: date,
        *,
        horizon_days: int = 180,
        k: int = 5,
        budget: TrainingBudget | None = None,
        training_cutoffs: int = 6,
        reference: ReferenceScores | None = None,
        progress: Progress | None = None,
    ) -> EvaluationReport:
        """Train on cutoffs before `as_of` (validated on as_of - horizon); test on (as_of, as_of + horizon].

        Raises InvalidRequestError for a future cutoff, k outside 1..50, or a window without purchases.
        """
        say = progress or (lambda _: None)
        started = time.monotonic()
        today = self._clock.now().date()
        if as_of >= today:
            raise InvalidRequestError(
                f"as-of {as_of} is not in the past; evaluation needs purchases after it"
            )
        if not 1 <= k <= 50:
            raise InvalidRequestError(f"k is 1 to 50, got {k}")
        task = LearningTask(horizon_days=horizon_days, training_cutoffs=training_cutoffs)
        plan = task.plan(as_of)
        notes = []
        end = date.fromordinal(as_of.toordinal() + horizon_days)
        if end > today:
            notes.append(
                f"the evaluation window ends {end}, after today: purchases after {today} are not known yet"
            )
        say(f"reading outcomes up to {min(end, today)}")
        inputs = await self._data.outcomes_source(min(end, today))
        train_sets = await self._data.candidates(plan.training, horizon_days, inputs, say)
        (valid,) = await self._data.candidates([plan.validation], horizon_days, inputs, say)
        (test,) = await self._data.candidates([as_of], horizon_days, inputs, say)
        train = CandidateSet.concat(train_sets)
        assert test.outcome is not None
        if not test.outcome.any():
            raise InvalidRequestError(
                f"no purchases in ({as_of}, {end}] among {len(test)} candidates: nothing to evaluate against"
            )
        say(
            f"training on {len(train):,} candidates from {len(plan.training)} cutoffs,"
            f" validating on {len(valid):,}"
        )
        model: TrainedModel = await asyncio.to_thread(
            self._trainer.train,
            train,
            valid,
            budget or TrainingBudget(),
            study_prefix=f"evaluate-{as_of.isoformat()}-{int(time.time())}",
            progress=say,
        )
        say("scoring the evaluation cutoff")
        rows = [ScoredRow("ensemble", "ensemble", evaluate(model.predict(test), test, k))]
        for name, scores in model.member_predictions(test).items():
            rows.append(ScoredRow(name, "member", evaluate(scores, test, k)))
        for baseline in fit_baselines(CandidateSet.concat([train, valid])):
            rows.append(ScoredRow(baseline.name, "baseline", evaluate(baseline.score(test), test, k)))
        if reference is not None:
            members = _members(inputs)
            truth = reference.scores(test, members, horizon_days)
            known = ~np.isnan(truth)
            if known.any():
                rows.append(ScoredRow(reference.name, "reference", evaluate(np.nan_to_num(truth), test, k)))
                if not known.all():
                    notes.append(f"{int((~known).sum())} candidates have no true propensity (scored 0)")
        report = model.report
        return EvaluationReport(
            plan=plan,
            k=k,
            feature_set_version=test.layout.feature_set_version,
            candidates={"training": len(train), "validation": len(valid), "evaluation": len(test)},
            positives={
                "training": int(train.outcome.sum()) if train.outcome is not None else 0,
                "validation": int(valid.outcome.sum()) if valid.outcome is not None else 0,
                "evaluation": int(test.outcome.sum()),
            },
            rows=rows,
            training={
                "members": dict(report.members),
                "weights": dict(report.weights),
                "calibration": dict(report.calibration),
            },
            seconds=time.monotonic() - started,
            notes=notes,
        )


def _members(inputs: FeatureInputs) -> dict[str, list[tuple[str, str]]]:
    members: dict[str, list[tuple[str, str]]] = {}
    frame: Any = inputs.members
    for customer, org, account in zip(
        frame["customer_id"].tolist(), frame["org_id"].tolist(), frame["account_id"].tolist(), strict=True
    ):
        members.setdefault(str(customer), []).append((str(org), str(account)))
    return members
