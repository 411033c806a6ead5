"""Calibration of predicted probabilities: identity, Platt scaling or isotonic, chosen by held-out Brier."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize
from scipy.special import expit, logit
from sklearn.isotonic import IsotonicRegression

from application.errors import InvalidRequestError

__all__ = ["METHODS", "CalibrationMethod", "Calibrator", "choose_calibrator", "fit_calibrator"]

CalibrationMethod = Literal["identity", "platt", "isotonic"]
# In order of preference when held-out Brier scores tie: the simpler method wins.
METHODS: tuple[CalibrationMethod, ...] = ("identity", "platt", "isotonic")
# Platt scaling works on log-odds; 0 and 1 are clipped this far inside so their log-odds stay finite.
LOGIT_CLIP = 1e-6
# How far a probability may stray outside [0, 1] by rounding (a blend of probabilities) before it is refused.
ROUNDING = 1e-9
# The keys each method's dict holds besides "method".
_PARAMETERS: dict[str, tuple[str, ...]] = {
    "identity": (),
    "platt": ("slope", "intercept"),
    "isotonic": ("thresholds", "values"),
}

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Calibrator:
    """Maps a model's probability to a calibrated one.

    identity: unchanged. platt: sigmoid(slope * logit(p) + intercept), slope >= 0 so order is kept.
    isotonic: linear interpolation through (thresholds, values), constant beyond the ends; thresholds
    strictly increasing, values non-decreasing, both within [0, 1]. Parameters a method does not use keep
    their defaults, so each calibration has exactly one representation. Raises InvalidRequestError when
    the parameters break these rules.
    """

    method: CalibrationMethod = "identity"
    slope: float = 1.0
    intercept: float = 0.0
    thresholds: tuple[float, ...] = ()
    values: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InvalidRequestError(
                f"unknown calibration method {self.method!r}; expected one of {METHODS}"
            )
        if self.method != "platt" and (self.slope, self.intercept) != (1.0, 0.0):
            raise InvalidRequestError(f"a {self.method} calibrator has no slope or intercept")
        if self.method != "isotonic" and (self.thresholds or self.values):
            raise InvalidRequestError(f"a {self.method} calibrator has no thresholds or values")
        if self.method == "platt":
            if not (math.isfinite(self.slope) and math.isfinite(self.intercept)):
                raise InvalidRequestError("platt slope and intercept must be finite")
            if self.slope < 0:
                raise InvalidRequestError(f"platt slope must be >= 0 to keep the order, got {self.slope}")
        if self.method == "isotonic":
            _check_isotonic(self.thresholds, self.values)

    def apply(self, probabilities: npt.ArrayLike) -> Floats:
        """The calibrated probability of each of `probabilities` (a new array).

        Probabilities a rounding error (1e-9) outside [0, 1] are clipped first. Raises InvalidRequestError
        when one is further outside [0, 1] or not finite.
        """
        p = _probabilities(probabilities)
        if self.method == "platt":
            return np.asarray(expit(self.slope * _log_odds(p) + self.intercept), dtype=np.float64)
        if self.method == "isotonic":
            return np.interp(p, self.thresholds, self.values)
        return p.copy()

    def to_dict(self) -> dict[str, Any]:
        """The method and its parameters as JSON-safe values; from_dict reads it back."""
        document: dict[str, Any] = {"method": self.method}
        for key in _PARAMETERS[self.method]:
            value = getattr(self, key)
            document[key] = list(value) if isinstance(value, tuple) else value
        return document

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Calibrator:
        """A calibrator from to_dict's output.

        Raises InvalidRequestError (a ValueError) when `document` is not a mapping, names no known method,
        misses a parameter or has one too many, holds a parameter of the wrong type, or holds parameters
        that break the rules in the class docstring.
        """
        if not isinstance(document, Mapping):
            raise InvalidRequestError(f"a calibrator must be a mapping, got {type(document).__name__}")
        method = document.get("method")
        if method not in _PARAMETERS:
            raise InvalidRequestError(f"unknown calibration method {method!r}; expected one of {METHODS}")
        expected = {"method", *_PARAMETERS[method]}
        if missing := sorted(expected - document.keys()):
            raise InvalidRequestError(f"{method} calibrator misses {', '.join(missing)}")
        if extra := sorted(str(k) for k in document.keys() - expected):
            raise InvalidRequestError(f"{method} calibrator has unexpected {', '.join(extra)}")
        if method == "platt":
            return cls(
                "platt",
                slope=_number(document["slope"], "slope"),
                intercept=_number(document["intercept"], "intercept"),
            )
        if method == "isotonic":
            return cls(
                "isotonic",
                thresholds=_numbers(document["thresholds"], "thresholds"),
                values=_numbers(document["values"], "values"),
            )
        return cls()


def fit_calibrator(
    probabilities: npt.ArrayLike, outcome: npt.ArrayLike, method: CalibrationMethod
) -> Calibrator:
    """A calibrator of `method` fitted to map `probabilities` to the observed `outcome` (0 or 1).

    platt maximises the likelihood of the outcomes with the slope kept >= 0; isotonic fits a non-decreasing
    step function (pool adjacent violators). Raises InvalidRequestError for an unknown method, empty or
    different-length inputs, probabilities more than 1e-9 outside [0, 1] or not finite, outcomes other
    than 0 and 1, or (platt and isotonic) outcomes of only one class.
    """
    if method not in METHODS:
        raise InvalidRequestError(f"unknown calibration method {method!r}; expected one of {METHODS}")
    p, y = _inputs(probabilities, outcome)
    if method == "identity":
        return Calibrator()
    if not 0 < y.sum() < len(y):
        raise InvalidRequestError(f"{method} calibration needs outcomes of both classes")
    if method == "platt":
        return _fit_platt(p, y)
    isotonic = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip").fit(p, y)
    thresholds = np.asarray(isotonic.X_thresholds_, dtype=np.float64)
    values = np.clip(np.asarray(isotonic.y_thresholds_, dtype=np.float64), 0.0, 1.0)
    return Calibrator("isotonic", thresholds=tuple(thresholds.tolist()), values=tuple(values.tolist()))


def choose_calibrator(
    probabilities: npt.ArrayLike, outcome: npt.ArrayLike, seed: int
) -> tuple[Calibrator, dict[str, float]]:
    """The method of lowest held-out Brier score, refitted on all rows, and each method's held-out Brier.

    Held-out scores are cross-fitted on 2 folds, split at random by `seed` within each outcome class, so the
    same inputs and seed always give the same folds. Ties go to the simpler method (identity, platt,
    isotonic). Raises InvalidRequestError for inputs fit_calibrator refuses, or when either class has fewer
    than 2 rows (each fold must see both classes).
    """
    p, y = _inputs(probabilities, outcome)
    positives = int(y.sum())
    if min(positives, len(y) - positives) < 2:
        raise InvalidRequestError("choosing a calibration needs at least 2 rows of each outcome class")
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), dtype=np.int8)
    for label in (0.0, 1.0):
        rows = rng.permutation(np.flatnonzero(y == label))
        fold[rows] = np.arange(len(rows)) % 2
    held_out: dict[str, float] = {}
    for method in METHODS:
        predicted = np.empty_like(p)
        for part in (0, 1):
            fit_rows, test_rows = fold != part, fold == part
            predicted[test_rows] = fit_calibrator(p[fit_rows], y[fit_rows], method).apply(p[test_rows])
        held_out[method] = float(np.mean((predicted - y) ** 2))
    best = min(METHODS, key=lambda m: held_out[m])
    return fit_calibrator(p, y, best), held_out


def _fit_platt(p: Floats, y: Floats) -> Calibrator:
    x = _log_odds(p)

    def loss(parameters: Floats) -> tuple[float, Floats]:
        z = parameters[0] * x + parameters[1]
        # log(1 + e^z) - y z is the negative log-likelihood of y under sigmoid(z), stable for large |z|.
        value = float(np.mean(np.logaddexp(0.0, z) - y * z))
        error = expit(z) - y
        return value, np.array([np.mean(error * x), np.mean(error)])

    found = minimize(
        loss, x0=np.array([1.0, 0.0]), jac=True, method="L-BFGS-B", bounds=[(0.0, None), (None, None)]
    )
    slope, intercept = (float(v) for v in found.x)
    return Calibrator("platt", slope=slope, intercept=intercept)


def _log_odds(p: Floats) -> Floats:
    return np.asarray(logit(np.clip(p, LOGIT_CLIP, 1 - LOGIT_CLIP)), dtype=np.float64)


def _probabilities(values: npt.ArrayLike) -> Floats:
    p = np.asarray(values, dtype=np.float64).reshape(-1)
    if not np.all((p >= -ROUNDING) & (p <= 1 + ROUNDING)):  # also false for NaN
        raise InvalidRequestError("probabilities must be finite and within [0, 1]")
    return np.clip(p, 0.0, 1.0)


def _inputs(probabilities: npt.ArrayLike, outcome: npt.ArrayLike) -> tuple[Floats, Floats]:
    p = _probabilities(probabilities)
    y = np.asarray(outcome).reshape(-1)
    if len(y) != len(p):
        raise InvalidRequestError(f"{len(p)} probabilities for {len(y)} outcomes")
    if not len(p):
        raise InvalidRequestError("no rows to calibrate on")
    if not np.all((y == 0) | (y == 1)):
        raise InvalidRequestError("outcomes must be 0 or 1")
    return p, y.astype(np.float64)


def _check_isotonic(thresholds: tuple[float, ...], values: tuple[float, ...]) -> None:
    if not thresholds:
        raise InvalidRequestError("an isotonic calibrator needs at least one threshold")
    if len(thresholds) != len(values):
        raise InvalidRequestError(
            f"isotonic thresholds and values differ in length: {len(thresholds)} and {len(values)}"
        )
    x, v = np.array(thresholds, dtype=np.float64), np.array(values, dtype=np.float64)
    if not (np.all((x >= 0) & (x <= 1)) and np.all((v >= 0) & (v <= 1))):
        raise InvalidRequestError("isotonic thresholds and values must be finite and within [0, 1]")
    if np.any(np.diff(x) <= 0):
        raise InvalidRequestError("isotonic thresholds must be strictly increasing")
    if np.any(np.diff(v) < 0):
        raise InvalidRequestError("isotonic values must be non-decreasing")


def _number(value: Any, key: str) -> float:
    # bool is an int in Python, but true is no slope.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRequestError(f"calibrator {key} must be a number, got {value!r}")
    return float(value)


def _numbers(values: Any, key: str) -> tuple[float, ...]:
    if not isinstance(values, list | tuple):
        raise InvalidRequestError(f"calibrator {key} must be a list of numbers, got {type(values).__name__}")
    return tuple(_number(v, key) for v in values)
