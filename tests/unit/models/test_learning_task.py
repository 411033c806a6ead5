"""The learning task over time, purchase windows, and bulk suppression against the domain's rules."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from application.errors import InvalidRequestError
from application.features.model import FeatureInputs
from application.models.learning import LearningTask, purchases_in_window
from application.models.scoring import suppressed_pairs
from domain.opportunity import OpportunityStatus
from domain.suppression import FamilyDeal, SuppressionPolicy

AS_OF = date(2025, 6, 30)


@given(
    horizon=st.integers(7, 730),
    cutoffs=st.integers(1, 24),
    step=st.integers(1, 365),
    target=st.dates(date(2015, 1, 1), date(2035, 1, 1)),
)
def test_no_training_outcome_is_later_than_the_validation_cutoff(
    horizon: int, cutoffs: int, step: int, target: date
) -> None:
    plan = LearningTask(horizon, cutoffs, step).plan(target)
    assert len(plan.training) == cutoffs and list(plan.training) == sorted(plan.training)
    for cutoff in plan.training:
        assert plan.window(cutoff)[1] <= plan.validation
    assert plan.window(plan.validation)[1] == plan.target


@pytest.mark.parametrize(
    ("horizon", "cutoffs", "step"), [(6, 3, 91), (731, 3, 91), (180, 0, 91), (180, 3, 0)]
)
def test_a_task_out_of_range_is_refused(horizon: int, cutoffs: int, step: int) -> None:
    with pytest.raises(InvalidRequestError):
        LearningTask(horizon, cutoffs, step)


def _inputs(deals: list[tuple[str, str, str, bool, bool, date]]) -> FeatureInputs:
    """deals: (opportunity, account, family, closed, won, close date); one org, one item per deal."""
    opportunities = pd.DataFrame(
        [
            {
                "org_id": "o",
                "opportunity_id": opp,
                "account_id": account,
                "amount": 1.0,
                "is_closed": closed,
                "is_won": won,
                "close_date": close,
                "created_at": pd.Timestamp(close - timedelta(days=90), tz="UTC"),
            }
            for opp, account, _, closed, won, close in deals
        ],
        columns=[
            "org_id",
            "opportunity_id",
            "account_id",
            "amount",
            "is_closed",
            "is_won",
            "close_date",
            "created_at",
        ],
    )
    items = pd.DataFrame(
        [
            {"org_id": "o", "line_item_id": f"i{opp}", "opportunity_id": opp, "product_id": family}
            for opp, _, family, *_ in deals
        ],
        columns=["org_id", "line_item_id", "opportunity_id", "product_id"],
    )
    products = pd.DataFrame([{"org_id": "o", "product_id": f, "family_id": f} for f in ("f1", "f2", "f3")])
    members = pd.DataFrame(
        [
            {"customer_id": f"c-{a}", "org_id": "o", "account_id": a, "confidence": 1.0}
            for a in ("a1", "a2", "a3")
        ]
    )
    empty = pd.DataFrame()
    return FeatureInputs(AS_OF, ("f1", "f2", "f3"), members, empty, products, opportunities, items, empty)


def test_purchases_are_won_deals_closing_inside_the_window() -> None:
    inputs = _inputs(
        [
            ("p1", "a1", "f1", True, True, AS_OF + timedelta(days=1)),
            ("p2", "a1", "f2", True, True, AS_OF),  # on the cutoff: known at t, not a future purchase
            ("p3", "a2", "f2", True, False, AS_OF + timedelta(days=10)),  # lost
            ("p4", "a3", "f3", True, True, AS_OF + timedelta(days=91)),  # after the window
            ("p5", "a3", "f1", True, True, AS_OF + timedelta(days=90)),  # last day of the window
        ]
    )
    assert purchases_in_window(inputs, AS_OF, AS_OF + timedelta(days=90)) == {("c-a1", "f1"), ("c-a3", "f1")}


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000))
def test_bulk_suppression_follows_the_domain_rules(seed: int) -> None:
    rng = random.Random(seed)
    deals = []
    for n in range(rng.randint(0, 25)):
        closed = rng.random() < 0.7
        deals.append(
            (
                f"006{n:012d}",
                rng.choice(("a1", "a2", "a3")),
                rng.choice(("f1", "f2", "f3")),
                closed,
                closed and rng.random() < 0.5,
                AS_OF + timedelta(days=rng.randint(-400, 60)),
            )
        )
    policy = SuppressionPolicy(lost_window_days=rng.choice((0, 90, 180)))
    bulk = suppressed_pairs(_inputs(deals), AS_OF, policy)
    expected = set()
    for account in ("a1", "a2", "a3"):
        mine = [
            FamilyDeal(
                family_id=family,
                org_id="o",
                opportunity_id=opp,
                status=OpportunityStatus.WON
                if closed and won and close <= AS_OF
                else OpportunityStatus.LOST
                if closed and close <= AS_OF
                else OpportunityStatus.OPEN,
                close_date=close,
            )
            for opp, acc, family, closed, won, close in deals
            if acc == account
        ]
        expected |= {(f"c-{account}", f) for f in policy.suppressed_families(mine, as_of=AS_OF)}
    assert bulk == expected
