"""Ports of the propensity models: the trainer that tunes and blends, and what a trained model can do."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from application.models.dataset import CandidateSet

__all__ = [
    "TRAINING_PROFILES",
    "Explanation",
    "ModelTrainer",
    "TrainedModel",
    "TrainingBudget",
    "TrainingReport",
]


@dataclass(frozen=True)
class TrainingBudget:
    """How long tuning may take: `seconds` in all, split between the algorithms; `max_trials` per algorithm.

    A trial still running when its algorithm's share is spent stops where it is and keeps what it learnt.
    `max_rows` caps the training candidates (a random sample beyond it). `algorithms` picks the ensemble's
    members (default: all four). `seed` makes a run repeatable.
    """

    seconds: float = 120.0
    max_trials: int = 40
    max_rows: int = 400_000
    algorithms: tuple[str, ...] = ("xgboost", "lightgbm", "random_forest", "mlp")
    seed: int = 7


# Tuning effort by name: `quick` is what the demo uses, `standard` the default of `xsell train`.
TRAINING_PROFILES: dict[str, TrainingBudget] = {
    "quick": TrainingBudget(seconds=40, max_trials=2, max_rows=150_000),
    "standard": TrainingBudget(seconds=300, max_trials=25),
    "thorough": TrainingBudget(seconds=1800, max_trials=100, max_rows=2_000_000),
}


@dataclass(frozen=True)
class Explanation:
    """Additive contributions to the blended log-odds of each explained row, one column per feature.

    `features` names the model inputs in plain terms (one-hot columns are folded back into their feature),
    `base` is the log-odds before any feature is known.
    """

    features: tuple[str, ...]
    contributions: npt.NDArray[np.float64]
    base: float


@dataclass(frozen=True)
class TrainingReport:
    """What tuning found: per algorithm its best validation AUC, trials and parameters; blend weights."""

    members: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    weights: Mapping[str, float] = field(default_factory=dict)
    calibration: Mapping[str, Any] = field(default_factory=dict)


class TrainedModel(Protocol):
    @property
    def algorithms(self) -> tuple[str, ...]: ...

    @property
    def report(self) -> TrainingReport: ...

    def predict(self, candidates: CandidateSet) -> npt.NDArray[np.float64]:
        """Calibrated probability per row."""
        ...

    def member_predictions(self, candidates: CandidateSet) -> dict[str, npt.NDArray[np.float64]]:
        """Each member's own (uncalibrated) probability per row, for reporting members beside the blend."""
        ...

    def explain(self, candidates: CandidateSet) -> Explanation:
        """SHAP contributions for every row of `candidates` (pass only the rows to explain)."""
        ...

    def artifacts(self) -> dict[str, bytes]:
        """Every file needed to load the model again, in native non-executable formats."""
        ...


class ModelTrainer(Protocol):
    def train(
        self,
        train: CandidateSet,
        valid: CandidateSet,
        budget: TrainingBudget,
        *,
        study_prefix: str,
        progress: Callable[[str], None] | None = None,
    ) -> TrainedModel:
        """Tune each algorithm on `valid`, blend and calibrate. CPU-bound: run it off the event loop.

        Raises InvalidRequestError when either set has no positive or no negative outcome.
        """
        ...

    def load(self, artifacts: Mapping[str, bytes]) -> TrainedModel:
        """A model from its artifacts (checksums are verified by the caller before)."""
        ...
