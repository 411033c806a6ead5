"""The propensity ensemble: each algorithm tuned by Optuna on a later cutoff, blended, then calibrated.

Tuning maximises validation AUC on the validation cutoff's candidates (time-based: every training row is
from an earlier cutoff whose horizon ends before the validation cutoff). The blend weights minimise the
validation log loss over the simplex; the calibrator is chosen by cross-fitted Brier on the same rows.
Studies are stored in PostgreSQL (schema `optuna`) when a database URL is given.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import optuna
import sqlalchemy
from scipy.optimize import minimize
from sklearn.metrics import roc_auc_score

from adapters.ml.encoding import Encoder
from adapters.ml.members import ALGORITHMS, BOOSTER_TYPES, Member, XGBoostAlgorithm
from application.errors import InvalidRequestError
from application.models.calibration import Calibrator, choose_calibrator
from application.models.dataset import CandidateSet
from application.models.ports import Explanation, TrainingBudget, TrainingReport

__all__ = ["EnsembleModel", "EnsembleTrainer", "optuna_storage_url"]

_DESCRIPTION = "ensemble.json"
_FORMAT = "xsell-ensemble/1"
_EPS = 1e-6

optuna.logging.set_verbosity(optuna.logging.WARNING)


def optuna_storage_url(database_url: str) -> str:
    """The synchronous (psycopg) form of an asyncpg database URL, for Optuna's storage."""
    url = sqlalchemy.make_url(database_url)
    return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


@dataclass
class EnsembleModel:
    encoder: Encoder
    members: dict[str, Member]
    weights: dict[str, float]
    calibrator: Calibrator
    training: TrainingReport

    @property
    def algorithms(self) -> tuple[str, ...]:
        return tuple(self.members)

    @property
    def report(self) -> TrainingReport:
        return self.training

    def _raw(self, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        blend = np.zeros(len(x), dtype=np.float64)
        for name, member in self.members.items():
            if self.weights[name] > 0:
                blend += self.weights[name] * member.predict(x)
        return blend

    def predict(self, candidates: CandidateSet) -> npt.NDArray[np.float64]:
        if not len(candidates):
            return np.empty(0, dtype=np.float64)
        return np.clip(self.calibrator.apply(self._raw(self.encoder.transform(candidates))), 0.0, 1.0)

    def member_predictions(self, candidates: CandidateSet) -> dict[str, npt.NDArray[np.float64]]:
        x = self.encoder.transform(candidates)
        return {name: member.predict(x) for name, member in self.members.items()}

    def explain(self, candidates: CandidateSet) -> Explanation:
        """TreeSHAP of the boosted members, weighted by their blend weights renormalised among them.

        The forest and the MLP have no exact fast SHAP; they are left out of explanations (their share of
        the blend is reported with the model), and when the blend kept neither booster, both explain it
        with equal weight.
        """
        x = self.encoder.transform(candidates)
        sources = self.encoder.sources
        features = tuple(dict.fromkeys(sources))
        index = np.array([features.index(s) for s in sources])
        boosters = [n for n, m in self.members.items() if isinstance(m, BOOSTER_TYPES)]
        weighted = [n for n in boosters if self.weights[n] > 0]
        # When the blend gave the boosters no weight, they still explain it: they learnt the same task
        # on the same rows, and the forest and the MLP have no exact fast SHAP of their own.
        chosen = {n: self.weights[n] for n in weighted} if weighted else dict.fromkeys(boosters, 1.0)
        parts: list[tuple[float, npt.NDArray[np.float64]]] = []
        for name, weight in chosen.items():
            values = self.members[name].contributions(x)
            if values is not None:
                parts.append((weight, values))
        folded = np.zeros((len(x), len(features)))
        base = 0.0
        if parts:
            total = sum(w for w, _ in parts)
            for weight, values in parts:
                share = weight / total
                np.add.at(folded.T, index, share * values[:, :-1].T)
                base += share * float(values[:, -1].mean()) if len(values) else 0.0
        return Explanation(features=features, contributions=folded, base=base)

    def artifacts(self) -> dict[str, bytes]:
        files = {}
        members = {}
        for name, member in self.members.items():
            filename, content = member.artifact()
            files[filename] = content
            members[name] = {"file": filename, "params": member.params}
        description = {
            "format": _FORMAT,
            "encoder": self.encoder.to_dict(),
            "members": members,
            "weights": self.weights,
            "calibrator": self.calibrator.to_dict(),
            "training": {
                "members": self.training.members,
                "weights": self.training.weights,
                "calibration": self.training.calibration,
            },
        }
        files[_DESCRIPTION] = json.dumps(description, sort_keys=True, default=float).encode()
        return files


class EnsembleTrainer:
    """Tunes, blends and calibrates; `storage_url` keeps every Optuna study in PostgreSQL."""

    def __init__(self, storage_url: str | None = None, *, device: str | None = None) -> None:
        self._storage_url = storage_url
        self._device = device

    def _storage(self) -> optuna.storages.BaseStorage | None:
        if self._storage_url is None:
            return None
        engine = sqlalchemy.create_engine(self._storage_url)
        try:
            with engine.begin() as connection:
                connection.execute(sqlalchemy.text("CREATE SCHEMA IF NOT EXISTS optuna"))
        finally:
            engine.dispose()
        return optuna.storages.RDBStorage(
            self._storage_url,
            engine_kwargs={"connect_args": {"options": "-c search_path=optuna"}, "pool_pre_ping": True},
        )

    def train(
        self,
        train: CandidateSet,
        valid: CandidateSet,
        budget: TrainingBudget,
        *,
        study_prefix: str,
        progress: Callable[[str], None] | None = None,
    ) -> EnsembleModel:
        say = progress or (lambda _: None)
        y, yv = _outcomes(train, "training"), _outcomes(valid, "validation")
        unknown = sorted(set(budget.algorithms) - set(ALGORITHMS))
        if unknown or not budget.algorithms:
            raise InvalidRequestError(
                f"unknown algorithms {unknown}; choose from {', '.join(ALGORITHMS)}"
                if unknown
                else "an ensemble needs at least one algorithm"
            )
        encoder = Encoder.fit(train)
        if len(train) > budget.max_rows:
            # Tuning cost grows with rows while AUC stops improving long before millions of candidates.
            keep = np.sort(
                np.random.default_rng(budget.seed).choice(len(train), budget.max_rows, replace=False)
            )
            say(f"tuning on a random {budget.max_rows:,} of {len(train):,} training candidates")
            train, y = train.take(keep), y[keep]
        x, xv = encoder.transform(train), encoder.transform(valid)
        storage = self._storage()
        seconds = budget.seconds / len(budget.algorithms)
        members: dict[str, Member] = {}
        summaries: dict[str, dict[str, Any]] = {}
        for name in budget.algorithms:
            algorithm = XGBoostAlgorithm(self._device) if name == "xgboost" else ALGORITHMS[name]()
            started = time.monotonic()
            deadline = started + seconds
            best: dict[str, Any] = {"auc": -1.0, "member": None}

            def objective(
                trial: optuna.Trial,
                algorithm: Any = algorithm,
                best: dict[str, Any] = best,
                deadline: float = deadline,
            ) -> float:
                params = algorithm.suggest(trial)

                def report(step: int, auc: float) -> bool:
                    trial.report(auc, step)
                    if trial.should_prune():
                        raise optuna.TrialPruned()
                    return time.monotonic() > deadline

                member = algorithm.fit(x, y, xv, yv, params, report)
                auc = float(roc_auc_score(yv, member.predict(xv)))
                if auc > best["auc"]:
                    best.update(auc=auc, member=member)
                return auc

            study = optuna.create_study(
                study_name=f"{study_prefix}-{name}",
                storage=storage,
                direction="maximize",
                sampler=optuna.samplers.TPESampler(seed=budget.seed),
                pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1),
            )
            study.optimize(objective, n_trials=budget.max_trials, timeout=seconds)
            if best["member"] is None:
                raise InvalidRequestError(
                    f"{name} finished no trial within {seconds:.0f} s; give it more time"
                )
            members[name] = best["member"]
            states = [t.state for t in study.trials]
            summaries[name] = {
                "validation_auc": best["auc"],
                "trials": len(states),
                "pruned": sum(s == optuna.trial.TrialState.PRUNED for s in states),
                "seconds": round(time.monotonic() - started, 1),
                "params": members[name].params,
                "study": study.study_name,
            }
            say(
                f"{name}: {summaries[name]['trials']} trials ({summaries[name]['pruned']} pruned) in "
                f"{summaries[name]['seconds']:.0f} s, validation AUC {best['auc']:.3f}"
            )
        predictions = np.vstack([members[name].predict(xv) for name in members])
        weights = dict(zip(members, _blend_weights(predictions, yv).tolist(), strict=True))
        blend = np.asarray(sum(w * p for w, p in zip(weights.values(), predictions, strict=True)))
        calibrator, held_out = choose_calibrator(blend, yv, seed=budget.seed)
        say(
            "blend: "
            + ", ".join(f"{n} {w:.2f}" for n, w in weights.items())
            + f"; calibration: {calibrator.method}"
        )
        report = TrainingReport(
            members=summaries,
            weights=weights,
            calibration={"method": calibrator.method, "held_out_brier": held_out},
        )
        return EnsembleModel(encoder, members, weights, calibrator, report)

    def load(self, artifacts: Mapping[str, bytes]) -> EnsembleModel:
        """Raises ValueError when the description is missing, of another format, or names a missing file."""
        if _DESCRIPTION not in artifacts:
            raise ValueError(f"a model needs {_DESCRIPTION}")
        description = json.loads(artifacts[_DESCRIPTION])
        if description.get("format") != _FORMAT:
            raise ValueError(f"unknown model format {description.get('format')!r}")
        members: dict[str, Member] = {}
        for name, entry in description["members"].items():
            if name not in ALGORITHMS or entry["file"] not in artifacts:
                raise ValueError(f"the model's member {name!r} or its file is missing")
            members[name] = ALGORITHMS[name]().load(artifacts[entry["file"]], entry["params"])
        training = description.get("training", {})
        return EnsembleModel(
            encoder=Encoder.from_dict(description["encoder"]),
            members=members,
            weights={k: float(v) for k, v in description["weights"].items()},
            calibrator=Calibrator.from_dict(description["calibrator"]),
            training=TrainingReport(
                members=training.get("members", {}),
                weights=training.get("weights", {}),
                calibration=training.get("calibration", {}),
            ),
        )


def _outcomes(candidates: CandidateSet, role: str) -> npt.NDArray[np.int8]:
    outcome = candidates.outcome
    if outcome is None or not len(outcome):
        raise InvalidRequestError(f"the {role} cutoffs have no candidates with known outcomes")
    positives = int(outcome.sum())
    if positives == 0 or positives == len(outcome):
        raise InvalidRequestError(
            f"the {role} cutoffs have {positives} purchases among {len(outcome)} candidates; a model needs"
            " both buyers and non-buyers (sync more history or choose another date)"
        )
    return outcome


def _blend_weights(
    predictions: npt.NDArray[np.float64], outcome: npt.NDArray[np.int8]
) -> npt.NDArray[np.float64]:
    """Non-negative weights summing to 1 that minimise the log loss of the weighted average."""
    y = outcome.astype(np.float64)

    def loss(theta: npt.NDArray[np.float64]) -> float:
        w = np.exp(theta - theta.max())
        w /= w.sum()
        p = np.clip(w @ predictions, _EPS, 1 - _EPS)
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))

    result = minimize(
        loss, np.zeros(len(predictions)), method="Nelder-Mead" if len(predictions) < 3 else "Powell"
    )
    w = np.exp(result.x - result.x.max())
    w /= w.sum()
    # Weights below 1 % add cost at scoring time and nothing measurable: drop them and renormalise.
    kept: npt.NDArray[np.float64] = np.where(w < 0.01, 0.0, w)
    normalised: npt.NDArray[np.float64] = kept / kept.sum()
    return normalised
