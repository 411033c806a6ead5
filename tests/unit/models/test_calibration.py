"""Calibration on data from a known miscalibrated generator, the JSON form, and the rules it keeps."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit, logit
from sklearn.isotonic import IsotonicRegression

from application.errors import InvalidRequestError
from application.models.calibration import (
    METHODS,
    CalibrationMethod,
    Calibrator,
    choose_calibrator,
    fit_calibrator,
)
from application.models.metrics import classification_metrics


def _underconfident_scores(seed: int, rows: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int8]]:
    """Scores s whose true probability is sigmoid(2 logit(s)): the model is not confident enough."""
    rng = np.random.default_rng(seed)
    s = rng.uniform(0.02, 0.98, rows)
    truth = expit(2 * logit(s))
    return s, (rng.uniform(size=rows) < truth).astype(np.int8)


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_calibration_lowers_brier_and_ece_on_fresh_data(method: CalibrationMethod) -> None:
    train_p, train_y = _underconfident_scores(seed=11, rows=20_000)
    test_p, test_y = _underconfident_scores(seed=12, rows=20_000)

    calibrator = fit_calibrator(train_p, train_y, method)
    before = classification_metrics(test_p, test_y)
    after = classification_metrics(calibrator.apply(test_p), test_y)

    assert after["brier"] < before["brier"] - 0.005
    assert after["ece"] < before["ece"] / 2


def test_platt_recovers_the_generators_slope() -> None:
    p, y = _underconfident_scores(seed=13, rows=50_000)

    calibrator = fit_calibrator(p, y, "platt")

    assert calibrator.slope == pytest.approx(2.0, abs=0.1)
    assert calibrator.intercept == pytest.approx(0.0, abs=0.05)


def test_isotonic_applies_like_scikit_learn() -> None:
    p, y = _underconfident_scores(seed=14, rows=2_000)
    reference = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(p, y)
    grid = np.linspace(0, 1, 501)

    calibrated = fit_calibrator(p, y, "isotonic").apply(grid)

    np.testing.assert_allclose(calibrated, reference.predict(grid), atol=1e-12)


def test_identity_changes_nothing() -> None:
    p = np.array([0.0, 0.3, 1.0])

    assert fit_calibrator(p, [0, 1, 1], "identity").apply(p).tolist() == [0.0, 0.3, 1.0]


def test_choose_calibrator_picks_the_lowest_held_out_brier_and_reports_each() -> None:
    p, y = _underconfident_scores(seed=15, rows=10_000)

    calibrator, held_out = choose_calibrator(p, y, seed=3)

    assert set(held_out) == set(METHODS)
    assert calibrator.method == min(held_out, key=lambda m: held_out[m])
    assert calibrator.method != "identity"
    # Identity fits nothing, so its held-out Brier is the Brier of the raw scores.
    assert held_out["identity"] == pytest.approx(classification_metrics(p, y)["brier"])
    # The winner is refitted on all rows.
    assert calibrator == fit_calibrator(p, y, calibrator.method)


def test_choose_calibrator_keeps_identity_for_calibrated_scores() -> None:
    rng = np.random.default_rng(16)
    p = rng.uniform(0.02, 0.98, 2_000)
    y = (rng.uniform(size=2_000) < p).astype(np.int8)

    calibrator, held_out = choose_calibrator(p, y, seed=3)

    # Already calibrated: fitting more parameters only adds noise on held-out rows.
    assert held_out["isotonic"] > held_out["identity"]
    assert calibrator.method in {"identity", "platt"}


def test_choose_calibrator_is_repeatable_for_a_seed() -> None:
    p, y = _underconfident_scores(seed=17, rows=1_000)

    assert choose_calibrator(p, y, seed=5) == choose_calibrator(p, y, seed=5)


def test_choose_calibrator_needs_two_rows_of_each_class() -> None:
    with pytest.raises(InvalidRequestError, match="2 rows of each"):
        choose_calibrator([0.1, 0.2, 0.9], [0, 0, 1], seed=1)


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_fitting_needs_both_classes(method: CalibrationMethod) -> None:
    with pytest.raises(InvalidRequestError, match="both classes"):
        fit_calibrator([0.1, 0.2], [1, 1], method)


@pytest.mark.parametrize(
    ("p", "y", "method", "message"),
    [
        ([0.1, 0.2], [0, 1], "spline", "unknown calibration method"),
        ([0.1, 1.5], [0, 1], "platt", "within"),
        ([0.1, 0.2], [0, 1, 1], "platt", "2 probabilities for 3 outcomes"),
        ([], [], "platt", "no rows"),
        ([0.1, 0.2], [0, 3], "platt", "0 or 1"),
    ],
)
def test_fitting_refuses_malformed_input(p: list[float], y: list[int], method: Any, message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        fit_calibrator(p, y, method)


def _fitted() -> list[Calibrator]:
    p, y = _underconfident_scores(seed=18, rows=3_000)
    return [fit_calibrator(p, y, method) for method in METHODS]


def test_to_dict_and_from_dict_round_trip_through_json() -> None:
    grid = np.linspace(0, 1, 1001)

    for calibrator in _fitted():
        restored = Calibrator.from_dict(json.loads(json.dumps(calibrator.to_dict(), allow_nan=False)))

        assert restored == calibrator
        assert np.array_equal(restored.apply(grid), calibrator.apply(grid))


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    rows=st.integers(4, 200),
    method=st.sampled_from(METHODS),
    points=st.lists(st.floats(0, 1), min_size=2, max_size=50),
)
def test_apply_never_reverses_the_order(
    seed: int, rows: int, method: CalibrationMethod, points: list[float]
) -> None:
    rng = np.random.default_rng(seed)
    p = rng.uniform(size=rows)
    y = (rng.uniform(size=rows) < rng.uniform(size=rows)).astype(np.int8)
    y[:2] = [0, 1]  # both classes
    calibrator = fit_calibrator(p, y, method)
    ordered = np.sort(np.array(points))

    calibrated = calibrator.apply(ordered)

    assert np.all(np.diff(calibrated) >= 0)
    assert np.all((calibrated >= 0) & (calibrated <= 1))


def test_platt_keeps_the_order_when_scores_are_backwards() -> None:
    # Higher scores buy less: the best order-keeping fit is flat, never a reversal.
    p = np.linspace(0.05, 0.95, 200)
    y = (p < 0.5).astype(np.int8)

    calibrator = fit_calibrator(p, y, "platt")

    assert calibrator.slope == 0.0
    assert np.all(np.diff(calibrator.apply(p)) >= 0)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([1, 2], "must be a mapping"),
        ({}, "unknown calibration method None"),
        ({"method": "spline"}, "unknown calibration method 'spline'"),
        ({"method": "platt", "slope": 1.0}, "misses intercept"),
        ({"method": "identity", "slope": 1.0}, "unexpected slope"),
        ({"method": "platt", "slope": "1", "intercept": 0.0}, "slope must be a number"),
        ({"method": "platt", "slope": True, "intercept": 0.0}, "slope must be a number"),
        ({"method": "platt", "slope": -1.0, "intercept": 0.0}, "slope must be >= 0"),
        ({"method": "platt", "slope": math.inf, "intercept": 0.0}, "finite"),
        ({"method": "isotonic", "thresholds": 0.5, "values": [0.5]}, "thresholds must be a list"),
        ({"method": "isotonic", "thresholds": [], "values": []}, "at least one threshold"),
        ({"method": "isotonic", "thresholds": [0.1, 0.5], "values": [0.2]}, "differ in length"),
        ({"method": "isotonic", "thresholds": [0.5, 0.1], "values": [0.2, 0.3]}, "strictly increasing"),
        ({"method": "isotonic", "thresholds": [0.1, 0.5], "values": [0.3, 0.2]}, "non-decreasing"),
        ({"method": "isotonic", "thresholds": [0.1, 0.5], "values": [0.3, 1.2]}, "within"),
        ({"method": "isotonic", "thresholds": [0.1, None], "values": [0.3, 0.4]}, "must be a number"),
    ],
)
def test_from_dict_refuses_malformed_documents(document: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Calibrator.from_dict(document)


def test_apply_refuses_values_that_are_no_probabilities() -> None:
    with pytest.raises(InvalidRequestError, match="within"):
        Calibrator().apply([0.5, math.nan])


def test_apply_clips_rounding_errors_of_a_blend() -> None:
    blend = 0.3 * np.ones(2) + 0.7 * np.ones(2) + np.array([1e-12, 0.0])  # one ulp-ish above 1

    assert Calibrator().apply(blend).tolist() == [1.0, 1.0]
    assert fit_calibrator([*blend, 0.0, -1e-12], [1, 1, 0, 0], "platt").method == "platt"
