"""Classification, calibration and ranking metrics against scikit-learn and hand-computed examples."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import date

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, brier_score_loss, ndcg_score, roc_auc_score

from application.errors import InvalidRequestError
from application.features.model import FeatureLayout
from application.models.dataset import CandidateSet
from application.models.metrics import (
    classification_metrics,
    evaluate,
    ranking_metrics,
    reliability_curve,
)


def _random_case(seed: int, rows: int = 400) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int8]]:
    rng = np.random.default_rng(seed)
    # Rounded scores make ties, which is where AUC and AP conventions differ.
    p = np.round(rng.uniform(0, 1, rows), 2)
    y = (rng.uniform(0, 1, rows) < p).astype(np.int8)
    return p, y


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_classification_metrics_match_scikit_learn(seed: int) -> None:
    p, y = _random_case(seed)

    metrics = classification_metrics(p, y)

    assert metrics["auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert metrics["pr_auc"] == pytest.approx(average_precision_score(y, p), abs=1e-12)
    assert metrics["brier"] == pytest.approx(brier_score_loss(y, p), abs=1e-12)
    assert metrics["positives"] == y.sum()
    assert metrics["rows"] == len(y)
    assert metrics["base_rate"] == pytest.approx(y.mean())


def test_ece_by_hand() -> None:
    # Bin [0.1, 0.2): mean 0.15, rate 1/2 -> gap 0.35; bin [0.9, 1.0]: mean 0.95, rate 1 -> gap 0.05.
    p = np.array([0.1, 0.2 - 1e-9, 0.9, 1.0])
    y = np.array([0, 1, 1, 1])

    ece = classification_metrics(p, y)["ece"]

    assert ece == pytest.approx(0.5 * abs(0.15 - 0.5) + 0.5 * abs(0.95 - 1.0), abs=1e-8)


def test_perfectly_calibrated_bins_have_zero_ece() -> None:
    p = np.array([0.25] * 4 + [0.75] * 4)
    y = np.array([1, 0, 0, 0, 1, 1, 1, 0])

    assert classification_metrics(p, y)["ece"] == pytest.approx(0.0)


@pytest.mark.parametrize("outcome", [[0, 0, 0], [1, 1, 1]])
def test_auc_and_pr_auc_are_nan_with_one_class(outcome: list[int]) -> None:
    metrics = classification_metrics([0.2, 0.5, 0.9], outcome)

    assert math.isnan(metrics["auc"])
    assert math.isnan(metrics["pr_auc"])
    assert not math.isnan(metrics["brier"])


@pytest.mark.parametrize(
    ("scores", "outcome", "message"),
    [
        ([], [], "no rows"),
        ([0.1, 0.2], [1], "outcomes"),
        ([0.1, 1.2], [0, 1], "within"),
        ([0.1, math.nan], [0, 1], "within"),
        ([0.1, 0.2], [0, 2], "0 or 1"),
    ],
)
def test_classification_metrics_refuse_malformed_input(
    scores: list[float], outcome: list[int], message: str
) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        classification_metrics(scores, outcome)


def test_rounding_errors_of_a_blend_are_clipped() -> None:
    metrics = classification_metrics([1 + 1e-12, -1e-12], [1, 0])

    assert metrics["brier"] == 0.0


def test_reliability_curve_by_hand() -> None:
    p = np.array([0.05, 0.15, 0.12, 0.95, 1.0])
    y = np.array([0, 1, 0, 1, 1])

    curve = reliability_curve(p, y, bins=10)

    assert [(b.lower, b.upper, b.observed_rate, b.count) for b in curve] == [
        (0.0, 0.1, 0.0, 1),
        (0.1, 0.2, 0.5, 2),
        (0.9, 1.0, 1.0, 2),
    ]
    assert [b.mean_predicted for b in curve] == pytest.approx([0.05, 0.135, 0.975])


def test_reliability_curve_refuses_no_bins() -> None:
    with pytest.raises(InvalidRequestError, match="at least one bin"):
        reliability_curve([0.5], [1], bins=0)


def test_ranking_metrics_by_hand() -> None:
    # Group 7 ranks rows (by score) as: 1, 0, 1, 0; group 3 ranks 0, 1, 0; group 5 has no positive.
    scores = [0.9, 0.8, 0.7, 0.6, 0.3, 0.9, 0.1, 0.5, 0.4]
    outcome = [1, 0, 1, 0, 0, 0, 0, 1, 0]
    groups = [7, 7, 7, 7, 5, 3, 5, 3, 3]

    metrics = ranking_metrics(scores, outcome, groups, k=2)

    # Group 7 top 2: hit at rank 1 -> precision 1/2, recall 1/2, AP@2 = (1/1) / min(2, 2), DCG = 1.
    # Group 3 top 2: hit at rank 2 -> precision 1/2, recall 1, AP@2 = (1/2) / min(2, 1), DCG = 1/log2(3).
    assert metrics["precision@2"] == pytest.approx(0.5)
    assert metrics["recall@2"] == pytest.approx((0.5 + 1.0) / 2)
    assert metrics["map@2"] == pytest.approx((0.5 + 0.5) / 2)
    ideal_7 = 1 + 1 / math.log2(3)
    assert metrics["ndcg@2"] == pytest.approx((1 / ideal_7 + (1 / math.log2(3)) / 1) / 2)
    assert metrics["groups_with_positives"] == 2


def test_map_uses_precision_at_every_hit() -> None:
    # Ranked 1, 0, 1, 1, 0: AP@5 = (1/1 + 2/3 + 3/4) / 3.
    metrics = ranking_metrics([5, 4, 3, 2, 1], [1, 0, 1, 1, 0], [0] * 5, k=5)

    assert metrics["map@5"] == pytest.approx((1 + 2 / 3 + 3 / 4) / 3)
    assert metrics["precision@5"] == pytest.approx(3 / 5)
    assert metrics["recall@5"] == pytest.approx(1.0)


def test_map_divides_by_k_when_a_group_has_more_positives_than_k() -> None:
    # Ranked 1, 0, 1, 1, 0 with k = 2: one hit at rank 1, over min(2, 3 positives) = 2.
    metrics = ranking_metrics([5, 4, 3, 2, 1], [1, 0, 1, 1, 0], [0] * 5, k=2)

    assert metrics["map@2"] == pytest.approx(0.5)
    assert metrics["recall@2"] == pytest.approx(1 / 3)


def test_ties_are_broken_by_row_order() -> None:
    # All scores equal: the first row ranks first, so only the first row's outcome is in the top 1.
    first_bought = ranking_metrics([0.5, 0.5, 0.5], [1, 0, 0], [0, 0, 0], k=1)
    last_bought = ranking_metrics([0.5, 0.5, 0.5], [0, 0, 1], [0, 0, 0], k=1)

    assert first_bought["precision@1"] == 1.0
    assert last_bought["precision@1"] == 0.0


@pytest.mark.parametrize("seed", [4, 5])
@pytest.mark.parametrize("k", [1, 3, 6])
def test_ndcg_matches_scikit_learn_on_groups_with_positives(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    groups, size = 30, 6
    scores = rng.permutation(groups * size).reshape(groups, size) / (groups * size)  # distinct: no tie rules
    outcome = (rng.uniform(size=(groups, size)) < 0.3).astype(int)
    outcome[0] = [0, 0, 1, 0, 0, 1]  # at least one group with positives
    keep = outcome.sum(axis=1) > 0

    metrics = ranking_metrics(scores.ravel(), outcome.ravel(), np.repeat(np.arange(groups), size), k=k)

    assert metrics[f"ndcg@{k}"] == pytest.approx(ndcg_score(outcome[keep], scores[keep], k=k))
    assert metrics["groups_with_positives"] == keep.sum()


def test_ranking_metrics_are_nan_without_positive_groups() -> None:
    metrics = ranking_metrics([0.1, 0.2], [0, 0], [0, 1], k=1)

    assert math.isnan(metrics["map@1"])
    assert metrics["groups_with_positives"] == 0


@pytest.mark.parametrize(
    ("k", "scores", "groups", "message"),
    [
        (0, [0.1, 0.2], [0, 0], "k must be"),
        (1, [0.1, math.inf], [0, 0], "finite"),
        (1, [0.1, 0.2], [0], "group labels"),
    ],
)
def test_ranking_metrics_refuse_malformed_input(
    k: int, scores: list[float], groups: list[int], message: str
) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        ranking_metrics(scores, [0, 1], groups, k=k)


@st.composite
def _labelled_groups(
    draw: st.DrawFn,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int8], npt.NDArray[np.int64]]:
    rows = draw(st.integers(min_value=2, max_value=60))
    # Distinct scores: with ties, rank depends on row order by design, and shuffling would change it.
    scores = np.array(draw(st.permutations(range(rows))), dtype=np.float64) / rows
    outcome = np.array(draw(st.lists(st.integers(0, 1), min_size=rows, max_size=rows)), dtype=np.int8)
    groups = np.array(draw(st.lists(st.integers(0, 5), min_size=rows, max_size=rows)), dtype=np.int64)
    return scores, outcome, groups


@settings(max_examples=60, deadline=None)
@given(case=_labelled_groups(), k=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_metrics_do_not_depend_on_row_order(
    case: tuple[npt.NDArray[np.float64], npt.NDArray[np.int8], npt.NDArray[np.int64]], k: int, seed: int
) -> None:
    scores, outcome, groups = case
    shuffle = np.random.default_rng(seed).permutation(len(scores))

    before = classification_metrics(scores, outcome) | ranking_metrics(scores, outcome, groups, k)
    after = classification_metrics(scores[shuffle], outcome[shuffle]) | ranking_metrics(
        scores[shuffle], outcome[shuffle], groups[shuffle], k
    )

    assert before.keys() == after.keys()
    for name, value in before.items():
        assert after[name] == pytest.approx(value, nan_ok=True), name


@settings(max_examples=60, deadline=None)
@given(case=_labelled_groups(), k=st.integers(1, 4))
def test_scores_equal_to_the_outcome_are_perfect(
    case: tuple[npt.NDArray[np.float64], npt.NDArray[np.int8], npt.NDArray[np.int64]], k: int
) -> None:
    _, outcome, groups = case
    perfect = outcome.astype(np.float64)

    metrics = classification_metrics(perfect, outcome) | ranking_metrics(perfect, outcome, groups, k)

    if 0 < outcome.sum() < len(outcome):
        assert metrics["auc"] == 1.0
        assert metrics["pr_auc"] == 1.0
    if outcome.any():
        assert metrics[f"map@{k}"] == pytest.approx(1.0)
        assert metrics[f"ndcg@{k}"] == pytest.approx(1.0)
    assert metrics["brier"] == 0.0


@settings(max_examples=60, deadline=None)
@given(case=_labelled_groups())
def test_reversed_scores_mirror_the_auc(
    case: tuple[npt.NDArray[np.float64], npt.NDArray[np.int8], npt.NDArray[np.int64]],
) -> None:
    scores, outcome, _ = case
    if not 0 < outcome.sum() < len(outcome):
        outcome = np.r_[outcome[:-2], 0, 1].astype(np.int8)

    auc = classification_metrics(scores, outcome)["auc"]
    reversed_auc = classification_metrics(1 - scores, outcome)["auc"]

    assert reversed_auc == pytest.approx(1 - auc)
    if auc > 0.5:
        assert reversed_auc < auc


@settings(max_examples=60, deadline=None)
@given(case=_labelled_groups(), k=st.integers(1, 4))
def test_metrics_lie_in_the_unit_interval(
    case: tuple[npt.NDArray[np.float64], npt.NDArray[np.int8], npt.NDArray[np.int64]], k: int
) -> None:
    scores, outcome, groups = case

    metrics = classification_metrics(scores, outcome) | ranking_metrics(scores, outcome, groups, k)

    for name in ("auc", "pr_auc", "brier", "ece", f"precision@{k}", f"recall@{k}", f"map@{k}", f"ndcg@{k}"):
        assert math.isnan(metrics[name]) or 0.0 <= metrics[name] <= 1.0 + 1e-12, name


def _candidates(outcome: list[int], customer: list[int], family: list[int]) -> CandidateSet:
    rows = len(outcome)
    layout = FeatureLayout("fs-test", numbers=(), labels=(), pair_numbers=("family_owned",))
    return CandidateSet(
        layout=layout,
        cutoffs=(date(2025, 6, 30),),
        customer_ids=("c0", "c1", "c2"),
        families=("fam-a", "fam-b", "fam-c"),
        cutoff=np.zeros(rows, dtype=np.int32),
        customer=np.array(customer, dtype=np.int32),
        family=np.array(family, dtype=np.int32),
        numbers=np.zeros((rows, 0)),
        labels=np.empty((rows, 0), dtype=object),
        pair_numbers=np.zeros((rows, 1)),
        outcome=np.array(outcome, dtype=np.int8),
    )


def test_evaluate_reports_overall_per_family_and_reliability() -> None:
    # c0 ranks fam-a (bought), fam-b; c1 ranks fam-b, fam-a (bought); c2 has only fam-a (not bought).
    candidates = _candidates(outcome=[1, 0, 0, 1, 0], customer=[0, 0, 1, 1, 2], family=[0, 1, 1, 0, 0])
    scores = np.array([0.8, 0.3, 0.6, 0.4, 0.1])

    evaluation = evaluate(scores, candidates, k=1)

    assert evaluation.overall["auc"] == pytest.approx(roc_auc_score(candidates.outcome, scores))
    assert evaluation.overall["recall@1"] == pytest.approx(0.5)
    assert evaluation.overall["groups_with_positives"] == 2
    assert set(evaluation.families) == {"fam-a", "fam-b"}
    # fam-a's buyers: c0 (its top 1) and c1 (ranked second) -> half were in their customer's top 1.
    assert evaluation.families["fam-a"]["recall@1"] == pytest.approx(0.5)
    assert evaluation.families["fam-a"]["positives"] == 2
    assert evaluation.families["fam-a"]["rows"] == 3
    assert evaluation.families["fam-a"]["auc"] == 1.0
    assert math.isnan(evaluation.families["fam-b"]["auc"])
    assert sum(b.count for b in evaluation.reliability) == 5


def test_evaluation_to_dict_is_json_with_none_for_nan() -> None:
    candidates = _candidates(outcome=[1, 0, 0, 1, 0], customer=[0, 0, 1, 1, 2], family=[0, 1, 1, 0, 0])

    document = evaluate([0.8, 0.3, 0.6, 0.4, 0.1], candidates, k=1).to_dict()

    assert json.loads(json.dumps(document, allow_nan=False)) == document
    assert document["families"]["fam-b"]["auc"] is None
    assert document["families"]["fam-b"]["recall@1"] is None
    assert document["reliability"][0] == {
        "lower": 0.1,
        "upper": 0.2,
        "mean_predicted": pytest.approx(0.1),
        "observed_rate": 0.0,
        "count": 1,
    }


def test_evaluate_refuses_candidates_without_outcomes_or_scores_of_other_length() -> None:
    candidates = _candidates(outcome=[1, 0], customer=[0, 0], family=[0, 1])

    with pytest.raises(InvalidRequestError, match="without outcomes"):
        evaluate([0.5, 0.5], replace(candidates, outcome=None), k=1)
    with pytest.raises(InvalidRequestError, match="3 scores"):
        evaluate([0.5, 0.5, 0.5], candidates, k=1)
