"""Reasons: SHAP contributions as sentences with the row's numbers, and peer purchase paths per org."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from adapters.features.registry import PandasFeatureRegistry
from application.errors import InvalidRequestError
from application.features.model import FeatureInputs, FeatureLayout
from application.models.dataset import OWNED_FEATURE, CandidateSet
from application.models.ports import Explanation
from application.models.reasons import MIN_PEERS, TEMPLATED_FEATURES, PeerEvidence, feature_reasons
from domain.errors import InvariantViolationError
from domain.recommendation import Reason, ReasonKind

TIMES = "\N{MULTIPLICATION SIGN}"
LAYOUT: FeatureLayout = PandasFeatureRegistry().layout()
FAMILIES = ("crm", "data-platform", "analytics")
NAMES = {"crm": "CRM Suite", "data-platform": "Data Platform", "analytics": "Analytics"}
# What a model explains: every number but ownership (candidates never own), the categories, the family.
EXPLAINED = (
    *LAYOUT.numbers,
    *(n for n in LAYOUT.pair_numbers if n != OWNED_FEATURE),
    *LAYOUT.labels,
    "family",
)


@dataclass
class Row:
    """One candidate row: its family, the values it has (the rest NaN / None), and SHAP per feature."""

    family: str = "data-platform"
    values: dict[str, float] = field(default_factory=dict)
    labels: dict[str, str | None] = field(default_factory=dict)
    shap: dict[str, float] = field(default_factory=dict)


def _case(rows: list[Row], features: tuple[str, ...] = EXPLAINED) -> tuple[Explanation, CandidateSet]:
    n = len(rows)
    numbers = np.full((n, len(LAYOUT.numbers)), np.nan)
    pairs = np.full((n, len(LAYOUT.pair_numbers)), np.nan)
    labels = np.full((n, len(LAYOUT.labels)), None, dtype=object)
    contributions = np.zeros((n, len(features)))
    for i, row in enumerate(rows):
        for name, value in row.values.items():
            if name in LAYOUT.numbers:
                numbers[i, LAYOUT.numbers.index(name)] = value
            else:
                pairs[i, LAYOUT.pair_numbers.index(name)] = value
        for name, text in row.labels.items():
            labels[i, LAYOUT.labels.index(name)] = text
        for name, value in row.shap.items():
            contributions[i, features.index(name)] = value
    candidates = CandidateSet(
        layout=LAYOUT,
        cutoffs=(date(2025, 6, 30),),
        customer_ids=tuple(f"cust-{i}" for i in range(n)),
        families=FAMILIES,
        cutoff=np.zeros(n, dtype=np.int32),
        customer=np.arange(n, dtype=np.int32),
        family=np.array([FAMILIES.index(r.family) for r in rows], dtype=np.int32),
        numbers=numbers,
        labels=labels,
        pair_numbers=pairs,
    )
    return Explanation(features=features, contributions=contributions, base=-2.0), candidates


def _one(row: Row, **kwargs: Any) -> tuple[Reason, ...]:
    explanation, candidates = _case([row])
    return feature_reasons(explanation, candidates, family_names=NAMES, **kwargs)[0]


RETAIL_MID = {"industry": "Retail", "size_band": "250-999", "country": "DE"}


@pytest.mark.parametrize(
    ("feature", "values", "labels", "text", "kind"),
    [
        (
            "activity_trend",
            {"activity_trend": 3.14},
            {},
            f"Activity in the last 30 days is 3.1{TIMES} its usual level",
            ReasonKind.ACTIVITY,
        ),
        (
            "neighbour_adoption_share",
            {"neighbour_adoption_share": 0.6},
            RETAIL_MID,
            "6 of its 10 closest peers in Retail already own Data Platform",
            ReasonKind.FEATURE,
        ),
        (
            "segment_adoption_lift",
            {"segment_adoption_lift": 2.34},
            RETAIL_MID,
            f"Retail companies with 250-999 employees buy Data Platform 2.3{TIMES} as often as average",
            ReasonKind.INDUSTRY,
        ),
        (
            "segment_adoption_lift",
            {"segment_adoption_lift": 1.75},
            {},
            f"Similar companies buy Data Platform 1.8{TIMES} as often as average",
            ReasonKind.INDUSTRY,
        ),
        (
            "segment_adoption_rate",
            {"segment_adoption_rate": 0.14},
            {"industry": "Retail", "size_band": "unknown"},
            "14% of Retail companies own Data Platform",
            ReasonKind.INDUSTRY,
        ),
        (
            "families_owned",
            {"families_owned": 3, "orgs_present": 2},
            {},
            "Owns 3 product families across 2 orgs",
            ReasonKind.FEATURE,
        ),
        (
            "families_owned",
            {"families_owned": 1, "orgs_present": 1},
            {},
            "Owns 1 product family",
            ReasonKind.FEATURE,
        ),
        (
            "won_count",
            {"won_count": 4, "lost_count": 2},
            {},
            "Won 4 of its 6 closed deals",
            ReasonKind.FEATURE,
        ),
        (
            "lost_count",
            {"won_count": 4, "lost_count": 2},
            {},
            "Lost 2 of its 6 closed deals",
            ReasonKind.FEATURE,
        ),
        ("won_count", {"won_count": 1}, {}, "Won 1 deal", ReasonKind.FEATURE),
        (
            "activities_30d",
            {"activities_30d": 12},
            {},
            "12 activities in the last 30 days",
            ReasonKind.ACTIVITY,
        ),
        ("activities_365d", {"activities_365d": 1}, {}, "1 activity in the last year", ReasonKind.ACTIVITY),
        (
            "expected_deal_size",
            {"expected_deal_size": 48_000.0},
            {},
            "A typical Data Platform deal for similar companies is worth 48,000",
            ReasonKind.FEATURE,
        ),
        (
            "won_amount",
            {"won_amount": 1_234_567.8},
            {},
            "Won deals worth 1,234,568 in total",
            ReasonKind.FEATURE,
        ),
        ("tenure_days", {"tenure_days": 1200}, {}, "A customer for 3.3 years", ReasonKind.FEATURE),
        (
            "avg_days_to_close",
            {"avg_days_to_close": 38.4},
            {},
            "Closes deals in 38 days on average",
            ReasonKind.FEATURE,
        ),
        (
            "days_since_last_win",
            {"days_since_last_win": 45},
            {},
            "Last won a deal 45 days ago",
            ReasonKind.FEATURE,
        ),
        (
            "days_since_last_activity",
            {"days_since_last_activity": 0},
            {},
            "Its last activity was today",
            ReasonKind.ACTIVITY,
        ),
        (
            "activity_meeting_share",
            {"activity_meeting_share": 0.4},
            {},
            "Meetings make up 40% of its activities in the last year",
            ReasonKind.ACTIVITY,
        ),
        (
            "family_open_opportunities",
            {"family_open_opportunities": 2},
            {},
            "2 open deals include Data Platform",
            ReasonKind.FEATURE,
        ),
        (
            "spend_headroom",
            {"spend_headroom": 25_000.0},
            RETAIL_MID,
            "Spends 25,000 less than the top quarter of Retail companies with 250-999 employees",
            ReasonKind.INDUSTRY,
        ),
        ("industry", {}, RETAIL_MID, "In the Retail industry", ReasonKind.INDUSTRY),
        ("employees", {"employees": 1200}, {}, "Employs 1,200 people", ReasonKind.FEATURE),
    ],
)
def test_a_feature_reads_as_a_sentence_with_the_rows_number(
    feature: str, values: dict[str, float], labels: dict[str, str | None], text: str, kind: ReasonKind
) -> None:
    reasons = _one(Row(values=values, labels=labels, shap={feature: 0.4}))

    assert reasons == (Reason(kind=kind, text=text, contribution=0.4),)


def test_the_largest_positive_contributions_come_first_and_the_rest_are_left_out() -> None:
    row = Row(
        values={"activity_trend": 2.0, "activities_30d": 5, "won_count": 3, "lost_count": 1, "employees": 80},
        labels=RETAIL_MID,
        shap={
            "family": 2.5,  # the family indicator is never a reason
            "employees": 0.2,
            "activities_30d": 0.9,
            "won_count": -1.2,  # argues against the offer
            "activity_trend": 0.5,
            "industry": 0.01,  # too small to cite
            "country": 0.3,
        },
    )

    reasons = _one(row)

    assert [(r.text, r.contribution) for r in reasons] == [
        ("5 activities in the last 30 days", 0.9),
        (f"Activity in the last 30 days is 2.0{TIMES} its usual level", 0.5),
        ("Based in DE", 0.3),
    ]
    assert [r.text for r in _one(row, top=5)][3:] == ["Employs 80 people"]
    assert _one(row, top=0) == ()


def test_each_row_reads_its_own_values_and_family() -> None:
    explanation, candidates = _case(
        [
            Row(
                family="crm", values={"neighbour_adoption_share": 0.3}, shap={"neighbour_adoption_share": 0.2}
            ),
            Row(
                family="analytics",
                values={"neighbour_adoption_share": 0.8},
                shap={"neighbour_adoption_share": 0.7},
            ),
        ]
    )

    reasons = feature_reasons(explanation, candidates, family_names={"crm": "CRM Suite"})

    assert [[r.text for r in row] for row in reasons] == [
        ["3 of its 10 closest peers already own CRM Suite"],
        ["8 of its 10 closest peers already own analytics"],  # no display name: the slug
    ]


def test_a_missing_value_reads_well_or_gives_way_to_the_next_feature() -> None:
    row = Row(
        values={"activities_90d": 7},
        shap={
            "activity_trend": 1.0,
            "days_since_last_win": 0.8,
            "expected_deal_size": 0.6,
            "activities_90d": 0.4,
        },
    )

    reasons = _one(row)

    # activity_trend and expected_deal_size have no sentence without their number; a never-won customer does.
    assert [r.text for r in reasons] == ["Has never won a deal", "7 activities in the last 90 days"]


def test_a_non_finite_contribution_is_no_reason() -> None:
    row = Row(
        values={"activities_30d": 3, "employees": 10}, shap={"activities_30d": math.nan, "employees": 0.2}
    )

    assert [r.text for r in _one(row)] == ["Employs 10 people"]


# A missing number printed as such ("None of its peers" is a sentence, "is None" is not).
SHOWS_MISSING = re.compile(r"\bnan\b|\binf\b|(?<!^)\bNone\b", re.IGNORECASE)

# Typical values, so that every template renders its main sentence.
TYPICAL: dict[str, float] = {
    "family_owned": 0.0,
    "match_confidence": 0.97,
    "win_rate": 0.6,
    "activity_call_share": 0.3,
    "activity_email_share": 0.5,
    "activity_meeting_share": 0.2,
    "neighbour_adoption_share": 0.4,
    "segment_adoption_rate": 0.12,
    "segment_adoption_lift": 1.6,
    "activity_trend": 1.4,
}


@pytest.mark.parametrize("feature", [*LAYOUT.numbers, *LAYOUT.labels, *LAYOUT.pair_numbers])
def test_every_feature_of_the_registry_has_a_sentence(feature: str) -> None:
    assert feature in TEMPLATED_FEATURES
    values = {name: TYPICAL.get(name, 12.0) for name in (*LAYOUT.numbers, *LAYOUT.pair_numbers)}
    features = (*EXPLAINED, OWNED_FEATURE)
    explanation, candidates = _case([Row(values=values, labels=RETAIL_MID, shap={feature: 0.3})], features)

    reasons = feature_reasons(explanation, candidates, family_names=NAMES)[0]

    assert len(reasons) == 1
    text = reasons[0].text
    assert "_" not in text and not SHOWS_MISSING.search(text)
    assert text[0].isupper() or text[0].isdigit()


@pytest.mark.parametrize("feature", [*LAYOUT.numbers, *LAYOUT.labels, *LAYOUT.pair_numbers])
def test_a_missing_value_never_shows_as_nan(feature: str) -> None:
    features = (*EXPLAINED, OWNED_FEATURE)
    explanation, candidates = _case([Row(shap={feature: 0.3})], features)

    reasons = feature_reasons(explanation, candidates, family_names=NAMES)[0]

    assert not any(SHOWS_MISSING.search(r.text) for r in reasons)


def test_contributions_that_do_not_match_the_rows_are_refused() -> None:
    explanation, candidates = _case([Row(), Row()])
    short = Explanation(features=EXPLAINED, contributions=explanation.contributions[:1], base=0.0)

    with pytest.raises(InvariantViolationError):
        feature_reasons(short, candidates, family_names=NAMES)
    strange = Explanation(features=("made_up",), contributions=np.ones((2, 1)), base=0.0)
    with pytest.raises(InvariantViolationError):
        feature_reasons(strange, candidates, family_names=NAMES)
    with pytest.raises(InvalidRequestError):
        feature_reasons(explanation, candidates, family_names=NAMES, top=-1)


# --- peer evidence ----------------------------------------------------------------------------------------

AS_OF = date(2025, 6, 30)
KNOWN = datetime(2024, 1, 1, tzinfo=UTC)


OPPORTUNITY_COLUMNS = [
    "org_id",
    "opportunity_id",
    "account_id",
    "amount",
    "is_closed",
    "is_won",
    "close_date",
    "created_at",
]
LINE_ITEM_COLUMNS = ["org_id", "line_item_id", "opportunity_id", "product_id", "total_price", "created_at"]


class World:
    """Customers with an account in each org, and what they bought where and when (days after 2025-01-01)."""

    def __init__(self) -> None:
        self.members: list[dict[str, Any]] = []
        self.accounts: list[dict[str, Any]] = []
        self.opportunities: list[dict[str, Any]] = []
        self.line_items: list[dict[str, Any]] = []

    def customer(
        self, cid: str, industry: str | None, *, employees: float = 100.0, orgs: str = "ABC"
    ) -> World:
        for org in orgs:
            self.account(cid, org, industry, employees=employees)
        return self

    def account(self, cid: str, org: str, industry: str | None, *, employees: float = 100.0) -> None:
        account = f"{cid}-{org}"
        self.members.append({"customer_id": cid, "org_id": org, "account_id": account, "confidence": 1.0})
        self.accounts.append(
            {
                "org_id": org,
                "account_id": account,
                "industry": industry,
                "employees": employees,
                "annual_revenue": None,
                "country": "DE",
                "created_at": KNOWN,
            }
        )

    def bought(
        self,
        cid: str,
        family: str,
        day: int,
        org: str = "A",
        *,
        won: bool = True,
        created_at: datetime = KNOWN,
    ) -> World:
        n = len(self.opportunities)
        self.opportunities.append(
            {
                "org_id": org,
                "opportunity_id": f"opp-{n}",
                "account_id": f"{cid}-{org}",
                "amount": 1000.0,
                "is_closed": True,
                "is_won": won,
                "close_date": date(2025, 1, 1) + timedelta(days=day),
                "created_at": created_at,
            }
        )
        self.line_items.append(
            {
                "org_id": org,
                "line_item_id": f"li-{n}",
                "opportunity_id": f"opp-{n}",
                "product_id": f"{org}-{family}",
                "total_price": 1000.0,
                "created_at": created_at,
            }
        )
        return self

    def path(self, cids: list[str], first: str, then: str, org: str, industry: str = "Retail") -> World:
        """Each customer buys `first` through org A on day 10, then `then` through `org` on day 20."""
        for cid in cids:
            self.customer(cid, industry).bought(cid, first, 10).bought(cid, then, 20, org)
        return self

    def evidence(self) -> PeerEvidence:
        products = pd.DataFrame(
            [{"org_id": o, "product_id": f"{o}-{f}", "family_id": f} for o in "ABC" for f in FAMILIES]
        )
        activity_columns = ["org_id", "account_id", "kind", "activity_type", "activity_at", "created_at"]
        inputs = FeatureInputs(
            as_of=AS_OF,
            families=FAMILIES,
            members=pd.DataFrame(self.members),
            accounts=pd.DataFrame(self.accounts),
            products=products,
            opportunities=pd.DataFrame(self.opportunities, columns=OPPORTUNITY_COLUMNS),
            line_items=pd.DataFrame(self.line_items, columns=LINE_ITEM_COLUMNS),
            activities=pd.DataFrame(columns=activity_columns),
        )
        return PeerEvidence(inputs, org_names={"A": "Org A", "B": "Org B", "C": "Org C"}, family_names=NAMES)


def _me(world: World, industry: str = "Retail") -> World:
    return world.customer("me", industry).bought("me", "crm", 5)


def test_peers_are_counted_per_org_and_the_larger_org_is_cited() -> None:
    world = _me(World())
    world.path([f"b{i}" for i in range(4)], "crm", "data-platform", "B")
    world.path([f"c{i}" for i in range(3)], "crm", "data-platform", "C")

    reason = world.evidence().reason("me", "data-platform", "Retail")

    assert reason == Reason(
        kind=ReasonKind.PEER,
        text="4 similar Retail accounts in Org B bought Data Platform after CRM Suite",
        contribution=4.0,
        org_id="B",
    )


def test_the_customer_itself_is_not_its_own_peer() -> None:
    # Counting "me" would tie B with C at 4, and the tie would go to B.
    world = World().customer("me", "Retail").bought("me", "crm", 5).bought("me", "data-platform", 30, "B")
    world.path([f"b{i}" for i in range(3)], "crm", "data-platform", "B")
    world.path([f"c{i}" for i in range(4)], "crm", "data-platform", "C")

    reason = world.evidence().reason("me", "data-platform", "Retail")

    assert reason is not None
    assert (reason.org_id, reason.contribution) == ("C", 4.0)


def test_the_owned_family_must_come_strictly_before_the_offered_one() -> None:
    world = _me(World())
    for i in range(3):  # the other way round
        world.customer(f"r{i}", "Retail").bought(f"r{i}", "data-platform", 10, "B").bought(f"r{i}", "crm", 20)
    for i in range(3):  # the same day
        world.customer(f"s{i}", "Retail").bought(f"s{i}", "data-platform", 15, "B").bought(f"s{i}", "crm", 15)

    assert world.evidence().reason("me", "data-platform", "Retail") is None


def test_the_first_purchase_decides_the_order() -> None:
    world = _me(World())
    # Bought the offered family first, then crm, then the offered family again: not the cited path.
    for i in range(3):
        world.customer(f"p{i}", "Retail").bought(f"p{i}", "data-platform", 1, "B").bought(f"p{i}", "crm", 5)
        world.bought(f"p{i}", "data-platform", 40, "B")

    assert world.evidence().reason("me", "data-platform", "Retail") is None


@pytest.mark.parametrize(("peers", "cited"), [(MIN_PEERS - 1, False), (MIN_PEERS, True)])
def test_fewer_than_three_peers_are_too_thin_to_cite(peers: int, cited: bool) -> None:
    world = _me(World()).path([f"b{i}" for i in range(peers)], "crm", "data-platform", "B")

    reason = world.evidence().reason("me", "data-platform", "Retail")

    assert (reason is not None) == cited


def test_only_peers_of_the_same_industry_count() -> None:
    world = _me(World()).path([f"f{i}" for i in range(5)], "crm", "data-platform", "B", industry="Finance")
    world.path([f"r{i}" for i in range(2)], "crm", "data-platform", "B")
    evidence = world.evidence()

    assert evidence.reason("me", "data-platform", "Retail") is None
    finance = evidence.reason("me", "data-platform", "Finance")
    assert finance is not None and finance.text.startswith("5 similar Finance accounts in Org B")


def test_the_path_starts_from_a_family_the_customer_owns() -> None:
    world = World().customer("me", "Retail").bought("me", "analytics", 5)
    world.path([f"b{i}" for i in range(5)], "crm", "data-platform", "B")
    world.path([f"a{i}" for i in range(3)], "analytics", "data-platform", "C")

    reason = world.evidence().reason("me", "data-platform", "Retail")

    assert reason is not None
    assert reason.text == "3 similar Retail accounts in Org C bought Data Platform after Analytics"


def test_the_most_travelled_path_among_owned_families_is_cited() -> None:
    world = _me(World()).bought("me", "analytics", 6)
    world.path([f"a{i}" for i in range(3)], "analytics", "data-platform", "C")
    world.path([f"b{i}" for i in range(5)], "crm", "data-platform", "B")

    reason = world.evidence().reason("me", "data-platform", "Retail")

    assert reason is not None
    assert reason.text == "5 similar Retail accounts in Org B bought Data Platform after CRM Suite"


def test_only_what_was_won_and_known_at_the_cutoff_counts() -> None:
    world = _me(World())
    world.path(["ok0", "ok1"], "crm", "data-platform", "B")
    world.customer("late", "Retail").bought("late", "crm", 10).bought(
        "late", "data-platform", 200, "B"
    )  # after t
    world.customer("lost", "Retail").bought("lost", "crm", 10).bought(
        "lost", "data-platform", 20, "B", won=False
    )
    world.customer("new", "Retail").bought("new", "crm", 10)
    world.bought(
        "new", "data-platform", 20, "B", created_at=datetime(2025, 7, 2, tzinfo=UTC)
    )  # known after t

    evidence = world.evidence()

    assert evidence.reason("me", "data-platform", "Retail") is None
    # One more valid peer reaches the threshold, so the three above were left out, not the whole path.
    world.path(["ok2"], "crm", "data-platform", "B")
    assert world.evidence().reason("me", "data-platform", "Retail") is not None


def test_a_customers_industry_comes_from_its_largest_account() -> None:
    world = _me(World())
    for i in range(3):
        world.account(f"p{i}", "A", "Finance", employees=10)
        world.account(f"p{i}", "B", "Retail", employees=5000)
        world.bought(f"p{i}", "crm", 10).bought(f"p{i}", "data-platform", 20, "B")

    evidence = world.evidence()

    assert evidence.reason("me", "data-platform", "Retail") is not None
    assert evidence.reason("me", "data-platform", "Finance") is None


def test_unknown_customers_families_and_industries_give_no_reason() -> None:
    world = _me(World()).path([f"b{i}" for i in range(4)], "crm", "data-platform", "B")
    evidence = world.evidence()

    assert evidence.reason("nobody", "data-platform", "Retail") is None
    assert evidence.reason("me", "no-such-family", "Retail") is None
    assert evidence.reason("me", "data-platform", None) is None
    assert evidence.reason("me", "data-platform", "Mining") is None
    assert evidence.reason("me", "data-platform", "Retail") is not None


def test_no_purchases_at_all_give_no_reason() -> None:
    evidence = World().customer("me", "Retail").customer("other", "Retail").evidence()

    assert evidence.reason("me", "data-platform", "Retail") is None


def test_inputs_without_a_documented_column_are_refused() -> None:
    world = _me(World())
    inputs = FeatureInputs(
        as_of=AS_OF,
        families=FAMILIES,
        members=pd.DataFrame(world.members),
        accounts=pd.DataFrame(world.accounts).drop(columns="industry"),
        products=pd.DataFrame(columns=["org_id", "product_id", "family_id"]),
        opportunities=pd.DataFrame(world.opportunities),
        line_items=pd.DataFrame(world.line_items),
        activities=pd.DataFrame(),
    )

    with pytest.raises(InvariantViolationError, match="industry"):
        PeerEvidence(inputs, org_names={})


def test_the_threshold_applies_after_leaving_the_customer_out() -> None:
    world = World().customer("me", "Retail").bought("me", "crm", 5).bought("me", "data-platform", 30, "B")
    world.path(["b0", "b1"], "crm", "data-platform", "B")

    assert world.evidence().reason("me", "data-platform", "Retail") is None


def test_equally_travelled_paths_go_to_the_first_family() -> None:
    world = World().customer("me", "Retail").bought("me", "analytics", 5).bought("me", "crm", 6)
    world.path([f"a{i}" for i in range(3)], "analytics", "data-platform", "C")
    world.path([f"b{i}" for i in range(3)], "crm", "data-platform", "B")

    reason = world.evidence().reason("me", "data-platform", "Retail")

    assert reason is not None and reason.text.endswith("after CRM Suite")  # crm comes first in FAMILIES
