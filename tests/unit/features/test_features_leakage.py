"""Leakage: records dated or created after the cutoff, and later changes to old records, change nothing."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
from bench.bench_features import synthetic_inputs

from adapters.features.registry import PandasFeatureRegistry
from application.features.model import FeatureBatch, FeatureInputs, cutoff_instant

AS_OF = date(2025, 6, 30)


def _same(left: FeatureBatch, right: FeatureBatch) -> None:
    assert left.customer_ids == right.customer_ids
    assert left.layout == right.layout
    np.testing.assert_array_equal(left.numbers, right.numbers)
    np.testing.assert_array_equal(left.labels, right.labels)
    np.testing.assert_array_equal(left.pair_numbers, right.pair_numbers)


def _with_the_future(inputs: FeatureInputs, seed: int) -> FeatureInputs:
    """The same group a year later: new records after t, and old records modified after t."""
    rng = np.random.default_rng(seed)
    cutoff = pd.Timestamp(cutoff_instant(inputs.as_of))
    after = cutoff + pd.to_timedelta(rng.integers(0, 365 * 86_400, 2_000), unit="s")

    opportunities = inputs.opportunities.copy()
    # Deals open at t close (won or lost) after t; closed-lost deals dated after t get reopened and won.
    open_at_t = ~(opportunities["is_closed"] & (opportunities["close_date"] <= inputs.as_of))
    later_close = [inputs.as_of + timedelta(days=int(d)) for d in rng.integers(1, 200, int(open_at_t.sum()))]
    opportunities.loc[open_at_t, "is_closed"] = True
    opportunities.loc[open_at_t, "is_won"] = rng.random(int(open_at_t.sum())) < 0.5
    opportunities.loc[open_at_t, "close_date"] = pd.Series(later_close, index=opportunities.index[open_at_t])

    accounts = inputs.accounts.sample(300, random_state=seed)
    new_opportunities = pd.DataFrame(
        {
            "org_id": accounts["org_id"].to_numpy(),
            "opportunity_id": [f"future-o{i}" for i in range(300)],
            "account_id": accounts["account_id"].to_numpy(),
            "amount": 1e6,
            "is_closed": True,
            "is_won": True,
            "close_date": [(cutoff + pd.Timedelta(days=30)).date()] * 300,
            "created_at": after[:300],
        }
    )
    products = inputs.products.drop_duplicates("org_id").set_index("org_id")["product_id"]
    existing = inputs.opportunities.sample(300, random_state=seed)
    new_items = pd.DataFrame(
        {
            "org_id": np.concatenate([new_opportunities["org_id"], existing["org_id"]]),
            "line_item_id": [f"future-i{i}" for i in range(600)],
            "opportunity_id": np.concatenate(
                [new_opportunities["opportunity_id"], existing["opportunity_id"]]
            ),
            "product_id": products.reindex(
                np.concatenate([new_opportunities["org_id"], existing["org_id"]])
            ).to_numpy(),
            "total_price": 5e5,
            "created_at": after[300:900],  # added to old deals after t, too
        }
    )
    acts = inputs.activities.sample(600, random_state=seed)
    new_activities = pd.DataFrame(
        {
            "org_id": acts["org_id"].to_numpy(),
            "account_id": acts["account_id"].to_numpy(),
            "kind": "task",
            "activity_type": "Call",
            # Half dated after t; half dated before t (up to 400 days) but logged after t.
            "activity_at": np.concatenate([after[900:1200], after[900:1200] - pd.Timedelta(days=400)]),
            "created_at": after[1200:1800],
        }
    )
    new_accounts = pd.DataFrame(
        {
            "org_id": "org-a",
            "account_id": [f"future-a{i}" for i in range(50)],
            "industry": "Banking",
            "employees": 10_000,
            "annual_revenue": 1e9,
            "country": "US",
            "created_at": after[1800:1850],
        }
    )
    members = inputs.members.iloc[:50]
    new_members = pd.DataFrame(
        {
            # Joined to existing customers and to new ones.
            "customer_id": np.concatenate(
                [members["customer_id"].to_numpy()[:25], [f"future-c{i}" for i in range(25)]]
            ),
            "org_id": "org-a",
            "account_id": new_accounts["account_id"].to_numpy(),
            "confidence": 0.5,
        }
    )
    return FeatureInputs(
        as_of=inputs.as_of,
        families=inputs.families,
        members=pd.concat([inputs.members, new_members], ignore_index=True),
        accounts=pd.concat([inputs.accounts, new_accounts], ignore_index=True),
        products=inputs.products,
        opportunities=pd.concat([opportunities, new_opportunities], ignore_index=True),
        line_items=pd.concat([inputs.line_items, new_items], ignore_index=True),
        activities=pd.concat([inputs.activities, new_activities], ignore_index=True),
    )


def test_records_after_the_cutoff_leave_every_value_unchanged() -> None:
    inputs = synthetic_inputs(2_000, 6, AS_OF, seed=11)
    registry = PandasFeatureRegistry()
    before = registry.compute(inputs)
    assert before.numbers.shape[0] > 1_500  # a real population, not an empty one
    _same(before, registry.compute(_with_the_future(inputs, seed=3)))


def test_the_future_does_change_a_later_cutoff() -> None:
    # The guard above is only meaningful if the added records matter at all.
    inputs = synthetic_inputs(2_000, 6, AS_OF, seed=11)
    future = _with_the_future(inputs, seed=3)
    later = FeatureInputs(**{**future.__dict__, "as_of": AS_OF + timedelta(days=400)})
    registry = PandasFeatureRegistry()
    base = registry.compute(FeatureInputs(**{**inputs.__dict__, "as_of": AS_OF + timedelta(days=400)}))
    changed = registry.compute(later)
    assert changed.customer_ids != base.customer_ids
