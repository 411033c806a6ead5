"""Feature values on a small hand-made group, and the point-in-time rules that keep the future out."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from adapters.features.registry import PandasFeatureRegistry
from application.features.model import FeatureBatch, FeatureInputs

AS_OF = date(2025, 6, 30)
FAMILIES = ("fam-a", "fam-b", "fam-c")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _opportunity(
    org: str, oid: str, account: str, amount: float, created: str, close: str | None, closed: bool, won: bool
) -> dict[str, Any]:
    return {
        "org_id": org,
        "opportunity_id": oid,
        "account_id": account,
        "amount": amount,
        "is_closed": closed,
        "is_won": won,
        "close_date": None if close is None else date.fromisoformat(close),
        "created_at": _at(created),
    }


def _item(org: str, iid: str, oid: str, product: str, price: float, created: str) -> dict[str, Any]:
    return {
        "org_id": org,
        "line_item_id": iid,
        "opportunity_id": oid,
        "product_id": product,
        "total_price": price,
        "created_at": _at(created),
    }


def _activity(org: str, account: str, kind: str, kind_type: str, at: str, created: str) -> dict[str, Any]:
    return {
        "org_id": org,
        "account_id": account,
        "kind": kind,
        "activity_type": kind_type,
        "activity_at": _at(at),
        "created_at": _at(created),
    }


def world() -> FeatureInputs:
    """Acme: accounts in org1 (big) and org2; Beta: one account in org1. Same industry."""
    members = pd.DataFrame(
        [
            ("acme", "org1", "a1", 0.97),
            ("acme", "org2", "a2", 0.91),
            ("beta", "org1", "b1", 1.0),
        ],
        columns=["customer_id", "org_id", "account_id", "confidence"],
    )
    accounts = pd.DataFrame(
        [
            ("org1", "a1", "Banking", 800, 5e7, "DE", _at("2020-01-01")),
            ("org2", "a2", "Retail", 40, 1e6, "FR", _at("2022-01-01")),
            ("org1", "b1", "Banking", 700, 4e7, "US", _at("2021-01-01")),
        ],
        columns=["org_id", "account_id", "industry", "employees", "annual_revenue", "country", "created_at"],
    )
    products = pd.DataFrame(
        [
            ("org1", "p-a", "fam-a"),
            ("org2", "p-b", "fam-b"),
            ("org1", "p-b1", "fam-b"),
            ("org1", "p-c", "fam-c"),
        ],
        columns=["org_id", "product_id", "family_id"],
    )
    opportunities = pd.DataFrame(
        [
            _opportunity("org1", "o1", "a1", 100.0, "2025-01-10", "2025-03-01", True, True),
            _opportunity("org2", "o2", "a2", 50.0, "2025-02-01", "2025-05-01", True, False),
            # Open at t: it was won only after the cutoff.
            _opportunity("org1", "o3", "a1", 70.0, "2025-06-01", "2025-07-15", True, True),
            _opportunity("org1", "o4", "b1", 300.0, "2024-01-01", "2024-06-30", True, True),
        ]
    )
    items = pd.DataFrame(
        [
            _item("org1", "i1", "o1", "p-a", 100.0, "2025-01-10"),
            _item("org2", "i2", "o2", "p-b", 50.0, "2025-02-01"),
            _item("org1", "i3", "o3", "p-b1", 70.0, "2025-06-01"),
            _item("org1", "i4", "o4", "p-a", 120.0, "2024-01-01"),
            _item("org1", "i5", "o4", "p-c", 180.0, "2024-01-01"),
        ]
    )
    activities = pd.DataFrame(
        [
            _activity("org1", "a1", "event", "Meeting", "2025-06-20T10:00", "2025-06-20T11:00"),
            _activity("org1", "a1", "task", "Call", "2025-05-21T10:00", "2025-05-21T10:05"),
            _activity("org2", "a2", "task", "Email", "2024-12-12T10:00", "2024-12-12T10:00"),
        ]
    )
    return FeatureInputs(AS_OF, FAMILIES, members, accounts, products, opportunities, items, activities)


def _value(batch: FeatureBatch, customer: str, name: str) -> Any:
    row = batch.customer_ids.index(customer)
    layout = batch.layout
    if name in layout.labels:
        return batch.labels[row, layout.labels.index(name)]
    return batch.numbers[row, layout.numbers.index(name)]


def _pair(batch: FeatureBatch, customer: str, family: str, name: str) -> float:
    row = batch.customer_ids.index(customer)
    return float(batch.pair_numbers[row, batch.families.index(family), batch.layout.pair_numbers.index(name)])


@pytest.fixture(scope="module")
def batch() -> FeatureBatch:
    return PandasFeatureRegistry().compute(world())


def test_firmographics_come_from_the_largest_member_account(batch: FeatureBatch) -> None:
    assert _value(batch, "acme", "industry") == "Banking"
    assert _value(batch, "acme", "country") == "DE"
    assert _value(batch, "acme", "size_band") == "250-999"
    assert _value(batch, "acme", "employees") == 800
    assert _value(batch, "acme", "annual_revenue") == 5e7


def test_ownership_counts_only_deals_won_by_the_cutoff(batch: FeatureBatch) -> None:
    assert _pair(batch, "acme", "fam-a", "family_owned") == 1
    assert _pair(batch, "acme", "fam-b", "family_owned") == 0  # lost in org2, won in org1 only after t
    assert _value(batch, "acme", "families_owned") == 1
    assert _value(batch, "beta", "families_owned") == 2
    assert _value(batch, "beta", "max_families_owned_in_one_org") == 2
    assert _pair(batch, "acme", "fam-a", "family_owned_orgs") == 1
    assert _pair(batch, "acme", "fam-a", "family_days_since_purchase") == 121
    assert np.isnan(_pair(batch, "acme", "fam-c", "family_days_since_purchase"))
    assert _value(batch, "acme", "orgs_present") == 2
    assert _value(batch, "acme", "match_confidence") == pytest.approx(0.91)
    assert _value(batch, "acme", "tenure_days") == (AS_OF - date(2020, 1, 1)).days


def test_opportunity_history_treats_later_closes_as_open(batch: FeatureBatch) -> None:
    assert (_value(batch, "acme", "won_count"), _value(batch, "acme", "lost_count")) == (1, 1)
    assert _value(batch, "acme", "open_count") == 1
    assert (_value(batch, "acme", "won_amount"), _value(batch, "acme", "lost_amount")) == (100.0, 50.0)
    assert _value(batch, "acme", "open_amount") == 70.0
    assert _value(batch, "acme", "win_rate") == pytest.approx(2 / 4)
    assert _value(batch, "acme", "days_since_last_win") == 121
    assert _value(batch, "acme", "avg_days_to_close") == pytest.approx((50 + 89) / 2)
    assert _value(batch, "acme", "open_age_days") == 29
    assert _pair(batch, "acme", "fam-b", "family_open_opportunities") == 1
    assert _pair(batch, "acme", "fam-b", "family_lost_opportunities") == 1


def test_activity_windows_trend_recency_and_mix(batch: FeatureBatch) -> None:
    assert _value(batch, "acme", "activities_30d") == 1
    assert _value(batch, "acme", "activities_90d") == 2
    assert _value(batch, "acme", "activities_365d") == 3
    assert _value(batch, "acme", "activity_trend") == pytest.approx((1 / 30) / (4 / 365))
    assert _value(batch, "acme", "days_since_last_activity") == 10
    assert _value(batch, "acme", "activity_meeting_share") == pytest.approx(1 / 3)
    assert _value(batch, "acme", "activity_call_share") == pytest.approx(1 / 3)
    assert _value(batch, "acme", "activity_email_share") == pytest.approx(1 / 3)
    assert _value(batch, "beta", "activities_365d") == 0
    assert np.isnan(_value(batch, "beta", "activity_call_share"))


def test_neighbours_in_the_same_industry_vote_for_their_families(batch: FeatureBatch) -> None:
    # Two Banking customers: each is the other's only neighbour.
    assert _pair(batch, "acme", "fam-c", "neighbour_adoption_share") == 1.0
    assert _pair(batch, "acme", "fam-b", "neighbour_adoption_share") == 0.0
    assert _pair(batch, "acme", "fam-c", "neighbour_days_since_purchase") == 365
    assert np.isnan(_pair(batch, "acme", "fam-b", "neighbour_days_since_purchase"))


def test_segment_adoption_is_shrunk_to_the_base_rate(batch: FeatureBatch) -> None:
    # Acme (Banking, 250-999) and Beta (Banking, 250-999) form one segment; fam-c: 1 owner of 2, base 1/2.
    rate = (1 + 10 * 0.5) / (2 + 10)
    assert _pair(batch, "acme", "fam-c", "segment_adoption_rate") == pytest.approx(rate)
    assert _pair(batch, "acme", "fam-c", "segment_adoption_lift") == pytest.approx(rate / 0.5)
    assert _pair(batch, "acme", "fam-b", "segment_adoption_lift") == 1.0  # nobody owns it: no lift


def test_revenue_potential_scales_the_expected_deal(batch: FeatureBatch) -> None:
    # Fewer than 5 deals per segment: the family-wide median deal is the expectation.
    assert _pair(batch, "acme", "fam-a", "expected_deal_size") == pytest.approx(110.0)
    assert np.isnan(_pair(batch, "acme", "fam-b", "expected_deal_size"))
    size = np.clip(800 / 750, 0.5, 2.0)
    spend = np.clip(np.sqrt(101 / 201), 0.5, 2.0)
    assert _pair(batch, "acme", "fam-a", "revenue_potential") == pytest.approx(110.0 * size * spend)
    assert _value(batch, "acme", "spend_headroom") == pytest.approx(np.quantile([100, 300], 0.75) - 100)


def test_a_customer_whose_accounts_were_all_created_later_does_not_exist_yet() -> None:
    inputs = world()
    accounts = inputs.accounts.copy()
    accounts.loc[accounts["account_id"] == "b1", "created_at"] = _at("2025-07-01")
    later = FeatureInputs(**{**inputs.__dict__, "accounts": accounts})
    assert PandasFeatureRegistry().compute(later).customer_ids == ("acme",)


def test_an_empty_group_gives_an_empty_batch() -> None:
    inputs = world()
    empty = FeatureInputs(
        AS_OF,
        FAMILIES,
        *(frame.iloc[0:0] for frame in (inputs.members, inputs.accounts, inputs.products)),
        *(frame.iloc[0:0] for frame in (inputs.opportunities, inputs.line_items, inputs.activities)),
    )
    batch = PandasFeatureRegistry().compute(empty)
    assert batch.customer_ids == ()
    assert batch.pair_numbers.shape == (0, 3, len(batch.layout.pair_numbers))
