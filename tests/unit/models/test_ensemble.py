"""The ensemble trainer on a synthetic task: it learns the signal, round-trips its artifacts, explains."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from tests.unit.models.synthetic import synthetic_candidates

from adapters.ml.ensemble import EnsembleTrainer
from application.errors import InvalidRequestError
from application.models.dataset import CandidateSet
from application.models.metrics import classification_metrics
from application.models.ports import TrainingBudget


@pytest.fixture(scope="module")
def sets() -> tuple[CandidateSet, CandidateSet, CandidateSet]:
    train = CandidateSet.concat(
        [synthetic_candidates(date(2024, 1, 1), 1500, 1), synthetic_candidates(date(2024, 4, 1), 1500, 2)]
    )
    return (
        train,
        synthetic_candidates(date(2024, 10, 1), 1500, 3),
        synthetic_candidates(date(2025, 4, 1), 1500, 4),
    )


@pytest.fixture(scope="module")
def model(sets: tuple[CandidateSet, CandidateSet, CandidateSet]):  # type: ignore[no-untyped-def]
    train, valid, _ = sets
    budget = TrainingBudget(seconds=8, max_trials=2)
    return EnsembleTrainer().train(train, valid, budget, study_prefix="test")


def test_the_ensemble_learns_the_signal_on_unseen_customers(model, sets) -> None:  # type: ignore[no-untyped-def]
    _, _, test = sets
    scores = model.predict(test)
    assert scores.shape == (len(test),)
    assert ((scores >= 0) & (scores <= 1)).all()
    assert classification_metrics(scores, test.outcome)["auc"] > 0.72
    assert set(model.algorithms) == {"xgboost", "lightgbm", "random_forest", "mlp"}
    assert abs(sum(model.report.weights.values()) - 1) < 1e-9


def test_artifacts_load_back_to_identical_predictions(model, sets) -> None:  # type: ignore[no-untyped-def]
    _, _, test = sets
    files = model.artifacts()
    assert {"ensemble.json", "xgboost.ubj", "lightgbm.txt", "random_forest.skops", "mlp.npz"} <= set(files)
    again = EnsembleTrainer().load(files)
    np.testing.assert_allclose(again.predict(test), model.predict(test), rtol=1e-6, atol=1e-9)


def test_a_forest_artifact_with_foreign_types_is_refused(model) -> None:  # type: ignore[no-untyped-def]
    import skops.io

    files = dict(model.artifacts())
    files["random_forest.skops"] = skops.io.dumps({"payload": np.float16(1)})
    with pytest.raises(ValueError, match=r"not allowed|does not hold"):
        EnsembleTrainer().load(files)


def test_explanations_add_up_to_the_boosters_log_odds(model, sets) -> None:  # type: ignore[no-untyped-def]
    _, _, test = sets
    rows = test.take(np.arange(50))
    explanation = model.explain(rows)
    assert explanation.contributions.shape == (50, len(explanation.features))
    assert "activity_trend" in explanation.features and "industry" in explanation.features
    # The trend drives purchases in the generator: on average it is among the strongest contributions.
    strength = np.abs(explanation.contributions).mean(axis=0)
    assert explanation.features[int(strength.argmax())] in {
        "activity_trend",
        "segment_adoption_lift",
        "activities_30d",
    }


def test_training_without_buyers_is_refused(sets) -> None:  # type: ignore[no-untyped-def]
    train, valid, _ = sets
    assert valid.outcome is not None
    silent = CandidateSet(**{**valid.__dict__, "outcome": np.zeros_like(valid.outcome)})
    with pytest.raises(InvalidRequestError, match="both buyers and non-buyers"):
        EnsembleTrainer().train(train, silent, TrainingBudget(seconds=2, max_trials=1), study_prefix="t")


def test_the_boosters_explain_a_blend_that_gave_them_no_weight(model, sets) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    _, _, test = sets
    forest_only = dataclasses.replace(
        model, weights={"xgboost": 0.0, "lightgbm": 0.0, "random_forest": 1.0, "mlp": 0.0}
    )
    explanation = forest_only.explain(test.take(np.arange(20)))
    assert np.abs(explanation.contributions).sum() > 0
