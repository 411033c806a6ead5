"""The three baselines on a small hand-made group of customers, with scores computed by hand."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from application.errors import InvalidRequestError
from application.features.model import FeatureBatch, FeatureLayout
from application.models.baselines import (
    CoPurchaseBaseline,
    PopularityBaseline,
    SegmentPopularityBaseline,
    fit_baselines,
)
from application.models.dataset import CandidateSet
from domain.errors import InvariantViolationError

LAYOUT = FeatureLayout(
    "fs-test", numbers=(), labels=("industry", "size_band"), pair_numbers=("family_owned",)
)
TRAIN_FAMILIES = ("fam-a", "fam-b", "fam-c")
# The scoring set orders its families differently and has one the training never saw.
SCORE_FAMILIES = ("fam-d", "fam-c", "fam-a", "fam-b")


def _candidates(
    customers: Sequence[tuple[str, str | None, str | None, Sequence[str]]],
    families: tuple[str, ...],
    purchases: set[tuple[str, str]] | None,
) -> CandidateSet:
    """customers: (id, industry, size band, families owned)."""
    owned = np.array([[[float(f in c[3])] for f in families] for c in customers])
    batch = FeatureBatch(
        as_of=date(2025, 6, 30),
        layout=LAYOUT,
        customer_ids=tuple(c[0] for c in customers),
        families=families,
        numbers=np.zeros((len(customers), 0)),
        labels=np.array([[c[1], c[2]] for c in customers], dtype=object).reshape(len(customers), 2),
        pair_numbers=owned.reshape(len(customers), len(families), 1),
    )
    return CandidateSet.from_batch(batch, purchases)


def _train() -> CandidateSet:
    # Rows: c0 b c | c1 b c | c2 a b c | c3 a b | c4 a b c; buyers: c0 b, c1 b, c2 c, c3 a.
    # Family rates (buyers + 1) / (rows + 2): a 2/5, b 3/7, c 2/6; overall 4/12.
    return _candidates(
        [
            ("c0", "retail", "1-49", ["fam-a"]),
            ("c1", "retail", "1-49", ["fam-a"]),
            ("c2", "retail", "50-249", []),
            ("c3", "tech", "1-49", ["fam-c"]),
            ("c4", None, None, []),
        ],
        TRAIN_FAMILIES,
        {("c0", "fam-b"), ("c1", "fam-b"), ("c2", "fam-c"), ("c3", "fam-a")},
    )


def _to_score() -> CandidateSet:
    return _candidates(
        [
            ("s0", "retail", "1-49", ["fam-a", "fam-c"]),
            ("s1", "finance", "1-49", ["fam-c"]),
            ("s2", None, None, []),
            ("s3", "tech", "1-49", ["fam-d"]),
        ],
        SCORE_FAMILIES,
        None,
    )


def _by_pair(candidates: CandidateSet, scores: npt.NDArray[np.float64]) -> dict[tuple[str, str], float]:
    return {
        (candidates.customer_ids[c], candidates.families[f]): s
        for c, f, s in zip(
            candidates.customer.tolist(), candidates.family.tolist(), scores.tolist(), strict=True
        )
    }


RATE = {"fam-a": 2 / 5, "fam-b": 3 / 7, "fam-c": 2 / 6, "fam-d": 4 / 12}


def test_popularity_scores_the_laplace_smoothed_family_rate() -> None:
    candidates = _to_score()

    scores = _by_pair(candidates, PopularityBaseline().fit(_train()).score(candidates))

    assert scores == pytest.approx({(c, f): RATE[f] for c, f in scores})
    assert scores[("s2", "fam-d")] == pytest.approx(4 / 12)  # unseen family: the overall training rate


def test_a_family_every_training_customer_owned_scores_the_overall_rate() -> None:
    train = _candidates(
        [("c0", "retail", "1-49", ["fam-a"]), ("c1", "retail", "1-49", ["fam-a"])],
        TRAIN_FAMILIES,
        {("c0", "fam-b")},
    )
    candidates = _to_score()

    scores = _by_pair(candidates, PopularityBaseline().fit(train).score(candidates))

    # Rows: c0 b c, c1 b c; one buyer in 4 rows. No fam-a candidate: the overall rate, not Laplace's 1/2.
    assert scores[("s1", "fam-a")] == pytest.approx(1 / 4)
    assert scores[("s1", "fam-b")] == pytest.approx((1 + 1) / (2 + 2))


def test_segment_popularity_shrinks_the_segment_rate_to_the_family_rate() -> None:
    candidates = _to_score()

    baseline = SegmentPopularityBaseline(pseudo_rows=2).fit(_train())
    scores = _by_pair(candidates, baseline.score(candidates))

    # retail|1-49 (c0, c1): b 2 of 2 -> (2 + 2 * 3/7) / 4; fam-d unseen -> overall rate.
    assert scores[("s0", "fam-b")] == pytest.approx((2 + 2 * 3 / 7) / 4)
    assert scores[("s0", "fam-d")] == pytest.approx(4 / 12)
    # finance|1-49 never seen: the family rates.
    assert scores[("s1", "fam-a")] == pytest.approx(2 / 5)
    assert scores[("s1", "fam-b")] == pytest.approx(3 / 7)
    # Missing industry and size band form a segment of their own (c4, who bought nothing).
    assert scores[("s2", "fam-a")] == pytest.approx((0 + 2 * 2 / 5) / 3)
    assert scores[("s2", "fam-b")] == pytest.approx((0 + 2 * 3 / 7) / 3)
    assert scores[("s2", "fam-c")] == pytest.approx((0 + 2 * 2 / 6) / 3)
    # tech|1-49 (c3): a 1 of 1; fam-c had no tech candidate -> the family rate.
    assert scores[("s3", "fam-a")] == pytest.approx((1 + 2 * 2 / 5) / 3)
    assert scores[("s3", "fam-c")] == pytest.approx(2 / 6)


def test_segment_popularity_shrinks_with_twenty_pseudo_rows_by_default() -> None:
    candidates = _to_score()

    scores = _by_pair(candidates, SegmentPopularityBaseline().fit(_train()).score(candidates))

    assert scores[("s0", "fam-b")] == pytest.approx((2 + 20 * 3 / 7) / 22)


def test_co_purchase_scores_the_best_rate_over_owned_families() -> None:
    candidates = _to_score()

    scores = _by_pair(candidates, CoPurchaseBaseline(pseudo_rows=2).fit(_train()).score(candidates))

    # Owners of fam-a (c0, c1) bought fam-b 2 of 2 and fam-c 0 of 2; the owner of fam-c (c3) bought fam-a.
    a_then_b, c_then_b = (2 + 2 * 3 / 7) / 4, (0 + 2 * 3 / 7) / 3
    assert scores[("s0", "fam-b")] == pytest.approx(max(a_then_b, c_then_b))
    assert scores[("s0", "fam-d")] == pytest.approx(4 / 12)
    assert scores[("s1", "fam-a")] == pytest.approx((1 + 2 * 2 / 5) / 3)
    assert scores[("s1", "fam-b")] == pytest.approx(c_then_b)
    # Owning nothing, or only a family the training never saw: the family rate.
    assert scores[("s2", "fam-b")] == pytest.approx(3 / 7)
    assert scores[("s3", "fam-c")] == pytest.approx(2 / 6)


def test_co_purchase_ranks_the_family_bought_with_an_owned_one_first() -> None:
    candidates = _to_score()
    s1 = candidates.customer == candidates.customer_ids.index("s1")

    co_purchase = CoPurchaseBaseline().fit(_train()).score(candidates)[s1]
    popularity = PopularityBaseline().fit(_train()).score(candidates)[s1]

    families = [candidates.families[f] for f in candidates.family[s1]]
    # fam-b is the more popular overall, but owners of fam-c (which s1 owns) went on to buy fam-a.
    assert families[int(np.argmax(popularity))] == "fam-b"
    assert families[int(np.argmax(co_purchase))] == "fam-a"


def _naive_co_purchase(train: CandidateSet, candidates: CandidateSet, m: float) -> list[float]:
    assert train.outcome is not None
    y = train.outcome.astype(float)
    owned_train = train.owned_matrix()
    owned = candidates.owned_matrix()
    scores = []
    for row in range(len(candidates)):
        family = candidates.families[candidates.family[row]]
        for_family = train.family == train.families.index(family)
        family_rate = (y[for_family].sum() + 1) / (for_family.sum() + 2) if for_family.any() else y.mean()
        best = None
        for column, g in enumerate(candidates.families):
            if owned[row, column] and g in train.families:
                rows = owned_train[:, train.families.index(g)] & for_family
                value = (y[rows].sum() + m * family_rate) / (rows.sum() + m)
                best = value if best is None else max(best, value)
        scores.append(float(family_rate if best is None else best))
    return scores


@st.composite
def _world(draw: st.DrawFn) -> tuple[CandidateSet, CandidateSet]:
    families = ("fam-a", "fam-b", "fam-c", "fam-d")
    industries = st.sampled_from(["retail", "tech", None])
    sizes = st.sampled_from(["1-49", "5000+", None])

    def customers(prefix: str) -> list[tuple[str, str | None, str | None, list[str]]]:
        count = draw(st.integers(1, 8))
        return [
            (
                f"{prefix}{i}",
                draw(industries),
                draw(sizes),
                draw(st.lists(st.sampled_from(families), max_size=3)),
            )
            for i in range(count)
        ]

    train_customers = customers("t")
    bought = draw(
        st.sets(st.tuples(st.sampled_from([c[0] for c in train_customers]), st.sampled_from(families)))
    )
    train = _candidates(train_customers, families, bought)
    score = _candidates(customers("s"), families[::-1], None)
    return train, score


@settings(max_examples=40, deadline=None)
@given(world=_world())
def test_baseline_scores_are_probabilities(world: tuple[CandidateSet, CandidateSet]) -> None:
    train, candidates = world  # every customer owns at most 3 of 4 families: both sets have rows

    for baseline in fit_baselines(train):
        scores = baseline.score(candidates)
        assert scores.shape == (len(candidates),)
        assert np.all((scores >= 0) & (scores <= 1)), baseline.name


@settings(max_examples=40, deadline=None)
@given(world=_world())
def test_co_purchase_matches_a_row_by_row_reference(world: tuple[CandidateSet, CandidateSet]) -> None:
    train, candidates = world  # every customer owns at most 3 of 4 families: both sets have rows

    scores = CoPurchaseBaseline(pseudo_rows=3).fit(train).score(candidates)

    assert scores.tolist() == pytest.approx(_naive_co_purchase(train, candidates, 3))


def test_fit_baselines_fits_all_three() -> None:
    baselines = fit_baselines(_train())

    assert [b.name for b in baselines] == ["popularity", "segment_popularity", "co_purchase"]
    assert all(len(b.score(_to_score())) == len(_to_score()) for b in baselines)


@pytest.mark.parametrize(
    "baseline", [PopularityBaseline(), SegmentPopularityBaseline(), CoPurchaseBaseline()]
)
def test_baselines_refuse_to_score_unfitted_or_fit_without_outcomes(
    baseline: PopularityBaseline | SegmentPopularityBaseline | CoPurchaseBaseline,
) -> None:
    with pytest.raises(InvalidRequestError, match="fitted before"):
        baseline.score(_to_score())
    with pytest.raises(InvalidRequestError, match="with outcomes"):
        baseline.fit(_to_score())


def test_segment_popularity_needs_industry_and_size_band() -> None:
    train = _train()
    bare = replace(train, layout=replace(LAYOUT, labels=("country", "size_band")))

    with pytest.raises(InvariantViolationError, match="industry"):
        SegmentPopularityBaseline().fit(bare)
