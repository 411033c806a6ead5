"""How well scores separate buyers from non-buyers: classification, calibration and top-k ranking metrics."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.stats import rankdata

from application.errors import InvalidRequestError
from application.models.dataset import CandidateSet

__all__ = [
    "Evaluation",
    "ReliabilityBin",
    "classification_metrics",
    "evaluate",
    "ranking_metrics",
    "reliability_curve",
]

CALIBRATION_BINS = 10
# How far a probability may stray outside [0, 1] by rounding (a blend of probabilities) before it is refused.
ROUNDING = 1e-9

Floats = npt.NDArray[np.float64]
Outcomes = npt.ArrayLike


@dataclass(frozen=True)
class ReliabilityBin:
    """One equal-width probability bin: [lower, upper), the last bin closed at 1."""

    lower: float
    upper: float
    mean_predicted: float
    observed_rate: float
    count: int


@dataclass(frozen=True)
class Evaluation:
    """Scores judged against outcomes: overall, per family (keyed by family id) and a reliability curve.

    `overall` holds classification_metrics and ranking_metrics together; each family holds auc, pr_auc,
    positives, rows and recall@k (the share of the family's buyers that were in their customer's top k).
    """

    k: int
    overall: dict[str, float]
    families: dict[str, dict[str, float]]
    reliability: tuple[ReliabilityBin, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict; NaN (a metric that is undefined, e.g. AUC with one class) becomes None."""
        return {
            "k": self.k,
            "overall": _json_safe(self.overall),
            "families": {family: _json_safe(values) for family, values in self.families.items()},
            "reliability": [_json_safe(asdict(b)) for b in self.reliability],
        }


def _json_safe(values: dict[str, Any]) -> dict[str, Any]:
    return {key: None if isinstance(v, float) and math.isnan(v) else v for key, v in values.items()}


def classification_metrics(scores: npt.ArrayLike, outcome: Outcomes) -> dict[str, float]:
    """auc, pr_auc (average precision), brier, ece, base_rate, positives and rows of probabilities in [0, 1].

    auc and pr_auc are NaN when only one class is present (they are undefined then; print them as "n/a").
    Tied scores count half in auc, and share one threshold in pr_auc, as in scikit-learn. ece uses 10
    equal-width bins, each weighted by its share of rows. Scores a rounding error (1e-9) outside [0, 1] are
    clipped. Raises InvalidRequestError for empty or different-length arrays, scores further outside
    [0, 1] or not finite, or outcomes other than 0 and 1.
    """
    p, y = _probabilities_and_outcome(scores, outcome)
    positives = int(y.sum())
    rows = len(y)
    both = 0 < positives < rows
    return {
        "auc": _roc_auc(p, y) if both else math.nan,
        "pr_auc": _average_precision(p, y) if both else math.nan,
        "brier": float(np.mean((p - y) ** 2)),
        "ece": _expected_calibration_error(p, y, CALIBRATION_BINS),
        "base_rate": positives / rows,
        "positives": float(positives),
        "rows": float(rows),
    }


def reliability_curve(
    probabilities: npt.ArrayLike, outcome: Outcomes, bins: int = CALIBRATION_BINS
) -> list[ReliabilityBin]:
    """Mean predicted probability beside the observed rate in `bins` equal-width bins; empty bins left out.

    Raises InvalidRequestError when bins < 1, and for inputs classification_metrics refuses.
    """
    if bins < 1:
        raise InvalidRequestError(f"a reliability curve needs at least one bin, got {bins}")
    p, y = _probabilities_and_outcome(probabilities, outcome)
    count, predicted, observed = _bin_sums(p, y, bins)
    return [
        ReliabilityBin(
            lower=b / bins,
            upper=(b + 1) / bins,
            mean_predicted=float(predicted[b] / count[b]),
            observed_rate=float(observed[b] / count[b]),
            count=int(count[b]),
        )
        for b in np.flatnonzero(count).tolist()
    ]


def ranking_metrics(
    scores: npt.ArrayLike, outcome: Outcomes, groups: npt.ArrayLike, k: int
) -> dict[str, float]:
    """precision@k, recall@k, map@k, ndcg@k (keys carry the actual k: "map@5") and groups_with_positives.

    Rows are ranked by descending score within each group (a customer at a cutoff); ties keep row order, so
    results are deterministic. precision@k divides the group's hits in its top k by k; map@k averages the
    precision at each hit's rank over min(k, the group's positives); ndcg@k uses binary gains and a log2
    discount. Each is the mean over groups with at least one positive, and NaN when no group has one.
    Scores may be any finite numbers. Raises InvalidRequestError when k < 1, for empty or different-length
    arrays, scores that are not finite, or outcomes other than 0 and 1.
    """
    s, y, g = _ranking_inputs(scores, outcome, groups, k)
    return _ranking_metrics(y, _Ranking.of(s, g), k)


def _ranking_metrics(y: Floats, ranking: _Ranking, k: int) -> dict[str, float]:
    rank, group = ranking.rank, ranking.group
    hit = (rank < k) & (y > 0)
    # Hits ranked above each row in its group: a running count over rows in (group, rank) order.
    y_ranked = y[ranking.order]
    above_ranked = np.cumsum(y_ranked) - y_ranked
    hits_above = np.empty_like(y)
    hits_above[ranking.order] = above_ranked - above_ranked[ranking.starts]
    count = ranking.groups
    positives = np.bincount(group, weights=y, minlength=count)
    scored = positives > 0
    found = int(scored.sum())
    names = (f"precision@{k}", f"recall@{k}", f"map@{k}", f"ndcg@{k}")
    if not found:
        return dict.fromkeys(names, math.nan) | {"groups_with_positives": 0.0}
    relevant = np.minimum(positives[scored], k).astype(np.intp)
    hits = np.bincount(group, weights=hit, minlength=count)[scored]
    precision_sum = np.bincount(
        group, weights=np.where(hit, (hits_above + 1) / (rank + 1), 0.0), minlength=count
    )
    dcg = np.bincount(group, weights=np.where(hit, 1 / np.log2(rank + 2), 0.0), minlength=count)[scored]
    ideal_dcg = np.concatenate([[0.0], np.cumsum(1 / np.log2(np.arange(k) + 2))])[relevant]
    values = (
        hits / k,
        hits / positives[scored],
        precision_sum[scored] / relevant,
        dcg / ideal_dcg,
    )
    return {name: float(np.mean(v)) for name, v in zip(names, values, strict=True)} | {
        "groups_with_positives": float(found)
    }


def evaluate(scores: npt.ArrayLike, candidates: CandidateSet, k: int) -> Evaluation:
    """Scores of `candidates` against their outcomes: overall, per family, and the reliability curve.

    Raises InvalidRequestError when the candidates have no outcomes, when scores and rows differ in number,
    and for the inputs classification_metrics and ranking_metrics refuse.
    """
    if candidates.outcome is None:
        raise InvalidRequestError("candidates without outcomes cannot be evaluated")
    p, y = _probabilities_and_outcome(scores, candidates.outcome)
    if k < 1:
        raise InvalidRequestError(f"k must be at least 1, got {k}")
    ranking = _Ranking.of(p, candidates.groups())
    overall = classification_metrics(p, y) | _ranking_metrics(y, ranking, k)
    in_top = ranking.rank < k
    families: dict[str, dict[str, float]] = {}
    for index, family in enumerate(candidates.families):
        rows = candidates.family == index
        if not rows.any():
            continue
        metrics = classification_metrics(p[rows], y[rows])
        positives = metrics["positives"]
        found = float(np.sum(y[rows] * in_top[rows]))
        families[family] = {
            "auc": metrics["auc"],
            "pr_auc": metrics["pr_auc"],
            "positives": positives,
            "rows": metrics["rows"],
            f"recall@{k}": found / positives if positives else math.nan,
        }
    return Evaluation(k=k, overall=overall, families=families, reliability=tuple(reliability_curve(p, y)))


def _probabilities_and_outcome(scores: npt.ArrayLike, outcome: Outcomes) -> tuple[Floats, Floats]:
    p = np.asarray(scores, dtype=np.float64).reshape(-1)
    y = _outcome(outcome, len(p))
    if not np.all((p >= -ROUNDING) & (p <= 1 + ROUNDING)):  # also false for NaN
        raise InvalidRequestError("probabilities must be finite and within [0, 1]")
    return np.clip(p, 0.0, 1.0), y


def _outcome(outcome: Outcomes, rows: int) -> Floats:
    y = np.asarray(outcome).reshape(-1)
    if len(y) != rows:
        raise InvalidRequestError(f"{rows} scores for {len(y)} outcomes")
    if not rows:
        raise InvalidRequestError("no rows to evaluate")
    if not np.all((y == 0) | (y == 1)):
        raise InvalidRequestError("outcomes must be 0 or 1")
    return y.astype(np.float64)


def _ranking_inputs(
    scores: npt.ArrayLike, outcome: Outcomes, groups: npt.ArrayLike, k: int
) -> tuple[Floats, Floats, npt.NDArray[np.int64]]:
    if k < 1:
        raise InvalidRequestError(f"k must be at least 1, got {k}")
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(s)):
        raise InvalidRequestError("scores must be finite")
    y = _outcome(outcome, len(s))
    g = np.asarray(groups).reshape(-1)
    if len(g) != len(s):
        raise InvalidRequestError(f"{len(s)} scores for {len(g)} group labels")
    return s, y, g.astype(np.int64)


@dataclass(frozen=True)
class _Ranking:
    """Rows ranked within their groups.

    order: row ids sorted by (group, descending score, row id); starts: for each position of `order`, the
    position where its group begins; rank: each row's 0-based rank in its group; group: a dense group index
    per row; groups: how many groups.
    """

    order: npt.NDArray[np.intp]
    starts: npt.NDArray[np.intp]
    rank: npt.NDArray[np.intp]
    group: npt.NDArray[np.intp]
    groups: int

    @classmethod
    def of(cls, scores: Floats, groups: npt.ArrayLike) -> _Ranking:
        labels = np.asarray(groups)
        # lexsort is stable: rows with equal group and score keep their order.
        order = np.lexsort((-scores, labels))
        sorted_labels = labels[order]
        new = np.concatenate([[True], sorted_labels[1:] != sorted_labels[:-1]])
        positions = np.arange(len(order))
        starts = np.maximum.accumulate(np.where(new, positions, 0))
        rank = np.empty(len(order), dtype=np.intp)
        rank[order] = positions - starts
        group = np.empty(len(order), dtype=np.intp)
        group[order] = np.cumsum(new) - 1
        return cls(order=order, starts=starts, rank=rank, group=group, groups=int(new.sum()))


def _roc_auc(p: Floats, y: Floats) -> float:
    # Mann-Whitney: the chance a random positive outranks a random negative, ties counting half.
    positives = y.sum()
    negatives = len(y) - positives
    ranks = rankdata(p)
    return float((ranks[y > 0].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def _average_precision(p: Floats, y: Floats) -> float:
    order = np.argsort(-p, kind="stable")
    p_sorted, y_sorted = p[order], y[order]
    # One threshold per distinct score: the last row of each run of equal scores.
    last = np.concatenate([p_sorted[1:] != p_sorted[:-1], [True]])
    true_positives = np.cumsum(y_sorted)[last]
    predicted = (np.arange(len(y)) + 1)[last]
    recall = true_positives / true_positives[-1]
    precision = true_positives / predicted
    return float(np.sum(np.diff(recall, prepend=0.0) * precision))


def _bin_sums(p: Floats, y: Floats, bins: int) -> tuple[Floats, Floats, Floats]:
    """Rows, summed probabilities and summed outcomes per equal-width bin (bin b is [b/bins, (b+1)/bins))."""
    index = np.minimum((p * bins).astype(np.intp), bins - 1)
    count = np.bincount(index, minlength=bins).astype(np.float64)
    predicted = np.bincount(index, weights=p, minlength=bins).astype(np.float64, copy=False)
    observed = np.bincount(index, weights=y, minlength=bins).astype(np.float64, copy=False)
    return count, predicted, observed


def _expected_calibration_error(p: Floats, y: Floats, bins: int) -> float:
    # Each bin's |mean predicted - observed rate| weighted by count / rows is |sum p - sum y| / rows.
    _, predicted, observed = _bin_sums(p, y, bins)
    return float(np.sum(np.abs(predicted - observed)) / len(p))
