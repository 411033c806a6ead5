"""The ensemble's four algorithms: search space, training with pruning, prediction, native artifacts.

Every algorithm reports its validation AUC as it trains (`report(step, auc)`), so Optuna can prune a
trial that is falling behind (a report may raise `optuna.TrialPruned`); a report that returns True means
the time budget is spent, and the algorithm stops where it is and returns what it has. Artifacts are
formats that hold
numbers, never code: XGBoost UBJSON, LightGBM text, scikit-learn through skops (types allow-listed on
load), the MLP's `state_dict` as a NumPy `.npz` read with `allow_pickle=False`.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import optuna
import skops.io
import torch
import xgboost as xgb
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score

__all__ = ["ALGORITHMS", "BOOSTER_TYPES", "Algorithm", "Member", "gpu_available"]

Matrix = npt.NDArray[np.float32]
Vector = npt.NDArray[np.float64]
Report = Callable[[int, float], bool]

_THREADS = max(1, min(4, os.cpu_count() or 1))


def gpu_available() -> bool:
    """Whether XGBoost can train on a CUDA device here (nothing requires one)."""
    return bool(torch.cuda.is_available())


def _auc(y: npt.NDArray[np.int8], p: Vector) -> float:
    return float(roc_auc_score(y, p))


class Member(Protocol):
    """One trained algorithm of the ensemble."""

    name: str
    params: dict[str, Any]

    def predict(self, x: Matrix) -> Vector: ...

    def contributions(self, x: Matrix) -> Vector | None:
        """TreeSHAP values (rows, columns + 1, the last the bias) in log-odds, or None when not a booster."""
        ...

    def artifact(self) -> tuple[str, bytes]: ...


class Algorithm(Protocol):
    name: str

    def suggest(self, trial: optuna.Trial) -> dict[str, Any]: ...

    def fit(
        self,
        x: Matrix,
        y: npt.NDArray[np.int8],
        xv: Matrix,
        yv: npt.NDArray[np.int8],
        params: dict[str, Any],
        report: Report,
    ) -> Member: ...

    def load(self, data: bytes, params: dict[str, Any]) -> Member: ...


# -- XGBoost ----------------------------------------------------------------------------------------


@dataclass
class _XgbMember:
    booster: xgb.Booster
    params: dict[str, Any]
    name: str = "xgboost"

    def predict(self, x: Matrix) -> Vector:
        return np.asarray(self.booster.inplace_predict(x, iteration_range=self._range()), dtype=np.float64)

    def contributions(self, x: Matrix) -> Vector | None:
        matrix = xgb.DMatrix(x, nthread=_THREADS)
        return np.asarray(
            self.booster.predict(matrix, pred_contribs=True, iteration_range=self._range()), dtype=np.float64
        )

    def artifact(self) -> tuple[str, bytes]:
        return "xgboost.ubj", bytes(self.booster.save_raw("ubj"))

    def _range(self) -> tuple[int, int]:
        return (0, int(self.params.get("best_iteration", self.booster.num_boosted_rounds() - 1)) + 1)


class _XgbReporter(xgb.callback.TrainingCallback):
    def __init__(self, report: Report, every: int = 10) -> None:
        super().__init__()
        self._report, self._every = report, every

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        if epoch % self._every == 0:
            return self._report(epoch, float(evals_log["valid"]["auc"][-1]))
        return False


class XGBoostAlgorithm:
    name = "xgboost"

    def __init__(self, device: str | None = None) -> None:
        self._device = device or ("cuda" if gpu_available() else "cpu")

    def suggest(self, trial: optuna.Trial) -> dict[str, Any]:
        return {
            "max_depth": trial.suggest_int("max_depth", 2, 8),
            "eta": trial.suggest_float("eta", 0.02, 0.3, log=True),
            "subsample": trial.suggest_float("subsample", 0.6, 1.0),
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.4, 1.0),
            "min_child_weight": trial.suggest_float("min_child_weight", 1.0, 30.0, log=True),
            "lambda": trial.suggest_float("lambda", 1e-3, 10.0, log=True),
        }

    def fit(self, x: Matrix, y: Any, xv: Matrix, yv: Any, params: dict[str, Any], report: Report) -> Member:
        train = xgb.DMatrix(x, label=y, nthread=_THREADS)
        valid = xgb.DMatrix(xv, label=yv, nthread=_THREADS)
        config = {
            **{k: v for k, v in params.items() if k != "best_iteration"},
            "objective": "binary:logistic",
            "eval_metric": "auc",
            "tree_method": "hist",
            "device": self._device,
            "nthread": _THREADS,
            "seed": 7,
        }
        booster = xgb.train(
            config,
            train,
            num_boost_round=600,
            evals=[(valid, "valid")],
            early_stopping_rounds=40,
            callbacks=[_XgbReporter(report)],
            verbose_eval=False,
        )
        # Early stopping records the best round; a trial stopped by the time budget keeps every round.
        best = booster.attributes().get("best_iteration")
        rounds = int(best) if best is not None else booster.num_boosted_rounds() - 1
        return _XgbMember(booster, {**params, "best_iteration": rounds})

    def load(self, data: bytes, params: dict[str, Any]) -> Member:
        booster = xgb.Booster()
        booster.load_model(bytearray(data))
        booster.set_param({"device": "cpu", "nthread": _THREADS})
        return _XgbMember(booster, params)


# -- LightGBM ---------------------------------------------------------------------------------------


@dataclass
class _LgbMember:
    booster: lgb.Booster
    params: dict[str, Any]
    name: str = "lightgbm"

    def predict(self, x: Matrix) -> Vector:
        return np.asarray(self.booster.predict(x, num_threads=_THREADS), dtype=np.float64)

    def contributions(self, x: Matrix) -> Vector | None:
        return np.asarray(self.booster.predict(x, pred_contrib=True, num_threads=_THREADS), dtype=np.float64)

    def artifact(self) -> tuple[str, bytes]:
        return "lightgbm.txt", self.booster.model_to_string().encode()


class LightGBMAlgorithm:
    name = "lightgbm"

    def suggest(self, trial: optuna.Trial) -> dict[str, Any]:
        return {
            "num_leaves": trial.suggest_int("num_leaves", 4, 96, log=True),
            "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.3, log=True),
            "feature_fraction": trial.suggest_float("feature_fraction", 0.4, 1.0),
            "bagging_fraction": trial.suggest_float("bagging_fraction", 0.6, 1.0),
            "min_child_samples": trial.suggest_int("min_child_samples", 5, 200, log=True),
            "lambda_l2": trial.suggest_float("lambda_l2", 1e-3, 10.0, log=True),
        }

    def fit(self, x: Matrix, y: Any, xv: Matrix, yv: Any, params: dict[str, Any], report: Report) -> Member:
        config = {
            **params,
            "objective": "binary",
            "metric": "auc",
            "bagging_freq": 1,
            "num_threads": _THREADS,
            "verbosity": -1,
            "seed": 7,
            "deterministic": True,
        }
        train = lgb.Dataset(x, label=y, free_raw_data=True)
        valid = lgb.Dataset(xv, label=yv, reference=train)

        def reporter(env: Any) -> None:
            if env.iteration % 10 == 0:
                score = float(env.evaluation_result_list[0][2])
                if report(env.iteration, score):
                    raise lgb.callback.EarlyStopException(env.iteration, env.evaluation_result_list)

        booster = lgb.train(
            config,
            train,
            num_boost_round=600,
            valid_sets=[valid],
            callbacks=[lgb.early_stopping(40, verbose=False), reporter],
        )
        return _LgbMember(
            booster, {**params, "best_iteration": int(booster.best_iteration or booster.current_iteration())}
        )

    def load(self, data: bytes, params: dict[str, Any]) -> Member:
        return _LgbMember(lgb.Booster(model_str=data.decode()), params)


# -- Random forest (scikit-learn) -------------------------------------------------------------------

# Exactly the types a saved forest contains; anything else in the file is refused.
_SKOPS_TRUSTED = [
    "sklearn.ensemble._forest.RandomForestClassifier",
    "sklearn.tree._classes.DecisionTreeClassifier",
    "sklearn.tree._tree.Tree",
    "numpy.dtype",
    "numpy.ndarray",
    "numpy.float64",
    "numpy.int64",
    "numpy.random.mtrand.RandomState",
    "builtins.int",
    "builtins.float",
    "builtins.str",
    "builtins.list",
    "builtins.dict",
    "builtins.tuple",
]


@dataclass
class _ForestMember:
    forest: RandomForestClassifier
    params: dict[str, Any]
    name: str = "random_forest"

    def predict(self, x: Matrix) -> Vector:
        return np.asarray(self.forest.predict_proba(_finite(x))[:, 1], dtype=np.float64)

    def contributions(self, x: Matrix) -> Vector | None:
        return None

    def artifact(self) -> tuple[str, bytes]:
        return "random_forest.skops", skops.io.dumps(self.forest)


def _finite(x: Matrix) -> Matrix:
    # The forest is given -1 for missing values: every feature here is non-negative or a share, so -1 is a
    # value of its own that a split can separate (and the same rule applies at training and prediction).
    return np.where(np.isnan(x), np.float32(-1.0), x)


class RandomForestAlgorithm:
    name = "random_forest"

    def suggest(self, trial: optuna.Trial) -> dict[str, Any]:
        return {
            "max_depth": trial.suggest_int("max_depth", 4, 20),
            "min_samples_leaf": trial.suggest_int("min_samples_leaf", 5, 200, log=True),
            "max_features": trial.suggest_float("max_features", 0.1, 0.7),
            "n_estimators": trial.suggest_int("n_estimators", 40, 160, step=40),
        }

    def fit(self, x: Matrix, y: Any, xv: Matrix, yv: Any, params: dict[str, Any], report: Report) -> Member:
        total = int(params["n_estimators"])
        forest = RandomForestClassifier(
            n_estimators=0,
            max_depth=params["max_depth"],
            min_samples_leaf=params["min_samples_leaf"],
            max_features=params["max_features"],
            n_jobs=_THREADS,
            random_state=7,
            warm_start=True,
            # Each tree learns from a bootstrap of at most 40k rows: on millions of candidates a forest of
            # full bootstraps would take most of the budget for little gain in AUC.
            max_samples=min(1.0, 40_000 / max(len(x), 1)),
        )
        x, xv = _finite(x), _finite(xv)
        grown = 0
        while grown < total:
            grown = min(total, grown + 40)
            forest.set_params(n_estimators=grown)
            forest.fit(x, y)
            if report(grown, _auc(yv, forest.predict_proba(xv)[:, 1])):
                break
        return _ForestMember(forest, params)

    def load(self, data: bytes, params: dict[str, Any]) -> Member:
        untrusted = [t for t in skops.io.get_untrusted_types(data=data) if t not in _SKOPS_TRUSTED]
        if untrusted:
            raise ValueError(f"the random forest artifact holds types that are not allowed: {untrusted}")
        forest = skops.io.loads(data, trusted=skops.io.get_untrusted_types(data=data))
        if not isinstance(forest, RandomForestClassifier):
            raise ValueError("the random forest artifact does not hold a random forest")
        return _ForestMember(forest, params)


# -- MLP (PyTorch) ----------------------------------------------------------------------------------


class _Net(torch.nn.Module):
    def __init__(self, inputs: int, hidden: int, layers: int, dropout: float) -> None:
        super().__init__()
        blocks: list[torch.nn.Module] = []
        width = inputs
        for _ in range(layers):
            blocks += [torch.nn.Linear(width, hidden), torch.nn.ReLU(), torch.nn.Dropout(dropout)]
            width = hidden
        blocks.append(torch.nn.Linear(width, 1))
        self.body = torch.nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.body(x)
        return out.squeeze(-1)


@dataclass(frozen=True)
class _Scaling:
    """Missing values to the training median, heavy tails compressed (signed log1p), then standardised."""

    median: npt.NDArray[np.float32]
    mean: npt.NDArray[np.float32]
    std: npt.NDArray[np.float32]

    @classmethod
    def fit(cls, x: Matrix) -> _Scaling:
        median = np.nan_to_num(np.nanmedian(np.where(np.isnan(x).all(axis=0), 0.0, x), axis=0)).astype(
            np.float32
        )
        z = cls._compress(np.where(np.isnan(x), median, x))
        std = z.std(axis=0)
        return cls(
            median, z.mean(axis=0).astype(np.float32), np.where(std > 1e-6, std, 1.0).astype(np.float32)
        )

    @staticmethod
    def _compress(x: Matrix) -> Matrix:
        return (np.sign(x) * np.log1p(np.abs(x))).astype(np.float32)

    def apply(self, x: Matrix) -> Matrix:
        return ((self._compress(np.where(np.isnan(x), self.median, x)) - self.mean) / self.std).astype(
            np.float32
        )


@dataclass
class _MlpMember:
    net: _Net
    scaling: _Scaling
    params: dict[str, Any]
    name: str = "mlp"

    def predict(self, x: Matrix) -> Vector:
        self.net.eval()
        out = np.empty(len(x), dtype=np.float64)
        with torch.inference_mode():
            for start in range(0, len(x), 65_536):
                chunk = torch.from_numpy(self.scaling.apply(x[start : start + 65_536]))
                out[start : start + len(chunk)] = torch.sigmoid(self.net(chunk)).numpy()
        return out

    def contributions(self, x: Matrix) -> Vector | None:
        return None

    def artifact(self) -> tuple[str, bytes]:
        arrays = {f"state.{k}": v.detach().cpu().numpy() for k, v in self.net.state_dict().items()}
        arrays.update(median=self.scaling.median, mean=self.scaling.mean, std=self.scaling.std)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        return "mlp.npz", buffer.getvalue()


class MLPAlgorithm:
    name = "mlp"

    def suggest(self, trial: optuna.Trial) -> dict[str, Any]:
        return {
            "hidden": trial.suggest_int("hidden", 16, 128, log=True),
            "layers": trial.suggest_int("layers", 1, 3),
            "dropout": trial.suggest_float("dropout", 0.0, 0.3),
            "lr": trial.suggest_float("lr", 3e-4, 1e-2, log=True),
            "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1e-3, log=True),
        }

    def fit(self, x: Matrix, y: Any, xv: Matrix, yv: Any, params: dict[str, Any], report: Report) -> Member:
        torch.manual_seed(7)
        torch.set_num_threads(_THREADS)
        scaling = _Scaling.fit(x)
        inputs = torch.from_numpy(scaling.apply(x))
        targets = torch.from_numpy(np.asarray(y, dtype=np.float32))
        net = _Net(x.shape[1], params["hidden"], params["layers"], params["dropout"])
        optimiser = torch.optim.AdamW(net.parameters(), lr=params["lr"], weight_decay=params["weight_decay"])
        loss = torch.nn.BCEWithLogitsLoss()
        generator = torch.Generator().manual_seed(7)
        best_auc, best_state, stale = -1.0, net.state_dict(), 0
        member = _MlpMember(net, scaling, params)
        for epoch in range(40):
            net.train()
            order = torch.randperm(len(inputs), generator=generator)
            for start in range(0, len(order), 512):
                batch = order[start : start + 512]
                optimiser.zero_grad()
                loss(net(inputs[batch]), targets[batch]).backward()
                optimiser.step()
            auc = _auc(yv, member.predict(xv))
            if auc > best_auc + 1e-4:
                best_auc, stale = auc, 0
                best_state = {k: v.clone() for k, v in net.state_dict().items()}
            else:
                stale += 1
            if report(epoch, auc) or stale >= 4:
                break
        net.load_state_dict(best_state)
        return _MlpMember(net, scaling, {**params, "inputs": int(x.shape[1])})

    def load(self, data: bytes, params: dict[str, Any]) -> Member:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            state = {
                k.removeprefix("state."): torch.from_numpy(arrays[k])
                for k in arrays.files
                if k.startswith("state.")
            }
            scaling = _Scaling(arrays["median"], arrays["mean"], arrays["std"])
        net = _Net(
            int(params["inputs"]), int(params["hidden"]), int(params["layers"]), float(params["dropout"])
        )
        net.load_state_dict(state)
        return _MlpMember(net, scaling, params)


# Members with exact, fast TreeSHAP contributions.
BOOSTER_TYPES = (_XgbMember, _LgbMember)

ALGORITHMS: dict[str, Callable[[], Algorithm]] = {
    "xgboost": XGBoostAlgorithm,
    "lightgbm": LightGBMAlgorithm,
    "random_forest": RandomForestAlgorithm,
    "mlp": MLPAlgorithm,
}
