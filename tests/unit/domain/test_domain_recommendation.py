"""Recommendation: expected value, reasons, and the status graph with every allowed and forbidden move."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidCurrencyError, InvalidStatusTransitionError, InvariantViolationError
from domain.events import (
    RecommendationAccepted,
    RecommendationConverted,
    RecommendationDismissed,
    RecommendationLost,
)
from domain.money import Money
from domain.recommendation import (
    ALLOWED_TRANSITIONS,
    Arm,
    Reason,
    ReasonKind,
    Recommendation,
    RecommendationStatus,
    expected_value,
)

S = RecommendationStatus
T0 = datetime(2025, 4, 1, tzinfo=UTC)
T1, T2, T3 = (T0 + timedelta(days=d) for d in (1, 2, 3))

ALLOWED = {(S.NEW, S.ACCEPTED), (S.NEW, S.DISMISSED), (S.ACCEPTED, S.CONVERTED), (S.ACCEPTED, S.LOST)}
ALL_PAIRS = set(itertools.product(S, S))


def recommendation(**overrides: object) -> Recommendation:
    fields: dict[str, object] = {
        "id": "rec-1",
        "customer_id": "cus-1",
        "family_id": "data-platform",
        "target_org_id": "amer",
        "probability": 0.34,
        "expected_value": Money.of(41_000, "USD"),
        "model_version_id": "mv-1",
        "arm": Arm.CHAMPION,
        "created_at": T0,
    }
    fields.update(overrides)
    return Recommendation(**fields)  # type: ignore[arg-type]


def at_status(status: RecommendationStatus) -> Recommendation:
    """A recommendation that reached `status` by the allowed path."""
    rec = recommendation()
    path = {
        S.NEW: [],
        S.ACCEPTED: [S.ACCEPTED],
        S.DISMISSED: [S.DISMISSED],
        S.CONVERTED: [S.ACCEPTED, S.CONVERTED],
        S.LOST: [S.ACCEPTED, S.LOST],
    }[status]
    for step in path:
        rec.transition_to(step, by="ann", at=T1, amount=Money.of(1, "USD"))
    rec.events.clear()
    return rec


# -- expected value -----------------------------------------------------------------------------------


def test_expected_value_is_probability_times_deal_size_times_match_confidence() -> None:
    assert expected_value(0.34, Money.of(150_000, "USD"), 0.8) == Money.of(40_800, "USD")
    assert expected_value(0.1, Money.of(100, "EUR"), 1.0).amount == Decimal("10.0")
    assert expected_value(0.0, Money.of(100, "EUR"), 1.0) == Money.zero("EUR")


@pytest.mark.parametrize(
    ("probability", "size", "confidence"),
    [
        (1.1, Money.of(1, "USD"), 1.0),
        (-0.1, Money.of(1, "USD"), 1.0),
        (float("nan"), Money.of(1, "USD"), 1.0),
        (0.5, Money.of(1, "USD"), 1.5),
        (0.5, Money.of(-1, "USD"), 1.0),
    ],
)
def test_expected_value_rejects_impossible_inputs(probability: float, size: Money, confidence: float) -> None:
    with pytest.raises(InvariantViolationError):
        expected_value(probability, size, confidence)


@given(
    st.floats(min_value=0, max_value=1),
    st.decimals(min_value=0, max_value=10**7, places=2),
    st.floats(min_value=0, max_value=1),
)
def test_expected_value_never_exceeds_the_deal_size(
    probability: float, size: Decimal, confidence: float
) -> None:
    value = expected_value(probability, Money(size, "USD"), confidence)
    assert value.currency == "USD"
    assert Money.zero("USD") <= value <= Money(size, "USD")


def test_score_builds_a_new_recommendation_with_computed_value() -> None:
    reasons = (Reason(ReasonKind.PEER, "12 similar accounts in org B bought Data Platform", 0.12, "b"),)
    rec = Recommendation.score(
        customer_id="cus-1",
        family_id="data-platform",
        target_org_id="b",
        probability=0.5,
        expected_deal_size=Money.of(10_000, "USD"),
        match_confidence=0.9,
        model_version_id="mv-1",
        arm=Arm.CHALLENGER,
        reasons=reasons,
        at=T0,
    )
    assert rec.expected_value == Money.of(4_500, "USD")
    assert rec.status is S.NEW
    assert rec.reasons == reasons
    assert rec.arm is Arm.CHALLENGER
    assert rec.created_at == T0
    assert len(rec.id) == 32


# -- invariants ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"probability": 1.01},
        {"probability": -0.01},
        {"probability": float("inf")},
        {"probability": True},
        {"expected_value": Money.of(-1, "USD")},
        {"customer_id": ""},
        {"family_id": " "},
        {"target_org_id": ""},
        {"model_version_id": ""},
        {"id": ""},
        {"arm": "control"},
        {"status": "pending"},
        {"created_at": datetime(2025, 1, 1)},
    ],
)
def test_recommendation_invariants(overrides: dict[str, object]) -> None:
    with pytest.raises(InvariantViolationError):
        recommendation(**overrides)


@pytest.mark.parametrize(
    "overrides", [{"text": ""}, {"contribution": float("nan")}, {"kind": "hunch"}, {"contribution": True}]
)
def test_reason_invariants(overrides: dict[str, object]) -> None:
    fields: dict[str, object] = {
        "kind": ReasonKind.FEATURE,
        "text": "Activity is 3.1x its usual level",
        **overrides,
    }
    with pytest.raises(InvariantViolationError):
        Reason(**fields)  # type: ignore[arg-type]


def test_reasons_are_values() -> None:
    assert Reason("activity", "x", 1.0) == Reason(ReasonKind.ACTIVITY, "x", 1.0)  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        Reason(ReasonKind.ACTIVITY, "x").text = "y"  # type: ignore[misc]


# -- status graph -------------------------------------------------------------------------------------


def test_the_status_graph_is_exactly_the_specified_one() -> None:
    declared = {(source, target) for source, targets in ALLOWED_TRANSITIONS.items() for target in targets}
    assert declared == ALLOWED
    assert [s.value for s in S] == ["new", "accepted", "dismissed", "converted", "lost"]


@pytest.mark.parametrize(("source", "target"), sorted(ALLOWED))
def test_every_allowed_transition(source: RecommendationStatus, target: RecommendationStatus) -> None:
    rec = at_status(source)
    rec.transition_to(target, by="bob", at=T2, amount=Money.of(39_000, "USD"), reason="wrong contact")
    assert rec.status is target
    assert rec.decided_by == "bob"
    stamp = {S.ACCEPTED: rec.accepted_at, S.DISMISSED: rec.dismissed_at, S.CONVERTED: rec.converted_at}
    stamp[S.LOST] = rec.lost_at
    assert stamp[target] == T2
    assert len(rec.events) == 1


@pytest.mark.parametrize(("source", "target"), sorted(ALL_PAIRS - ALLOWED))
def test_every_forbidden_transition(source: RecommendationStatus, target: RecommendationStatus) -> None:
    rec = at_status(source)
    stamps = (rec.accepted_at, rec.dismissed_at, rec.converted_at, rec.lost_at)

    with pytest.raises(InvalidStatusTransitionError, match=f"from {source} to {target}"):
        rec.transition_to(target, by="bob", at=T2, amount=Money.of(1, "USD"))

    assert rec.status is source
    assert (rec.accepted_at, rec.dismissed_at, rec.converted_at, rec.lost_at) == stamps
    assert rec.events == []


def test_the_lifecycle_records_each_timestamp_and_event() -> None:
    rec = recommendation()
    rec.accept(by="ann", at=T1)
    rec.convert(amount=Money.of(39_500, "USD"), by="bob", at=T2)

    assert (rec.created_at, rec.accepted_at, rec.converted_at) == (T0, T1, T2)
    assert rec.dismissed_at is None
    assert rec.lost_at is None
    assert rec.converted_amount == Money.of(39_500, "USD")
    assert not rec.is_open
    assert rec.events == [
        RecommendationAccepted(occurred_at=T1, recommendation_id="rec-1", decided_by="ann"),
        RecommendationConverted(
            occurred_at=T2, recommendation_id="rec-1", decided_by="bob", amount=Money.of(39_500, "USD")
        ),
    ]


def test_dismiss_and_lost_record_their_events() -> None:
    dismissed = recommendation()
    dismissed.dismiss(by="ann", at=T1, reason="already in talks")
    assert dismissed.dismiss_reason == "already in talks"
    assert dismissed.events == [
        RecommendationDismissed(
            occurred_at=T1, recommendation_id="rec-1", decided_by="ann", reason="already in talks"
        )
    ]

    lost = recommendation()
    lost.accept(by="ann", at=T1)
    lost.mark_lost(by="ann", at=T3)
    assert lost.lost_at == T3
    assert lost.events[-1] == RecommendationLost(occurred_at=T3, recommendation_id="rec-1", decided_by="ann")


def test_is_open_until_an_end_status() -> None:
    assert {s: at_status(s).is_open for s in S} == {
        S.NEW: True,
        S.ACCEPTED: True,
        S.DISMISSED: False,
        S.CONVERTED: False,
        S.LOST: False,
    }


def test_a_conversion_is_in_the_target_org_currency_and_not_negative() -> None:
    rec = at_status(S.ACCEPTED)
    with pytest.raises(InvalidCurrencyError):
        rec.convert(amount=Money.of(100, "EUR"), by="bob", at=T2)
    with pytest.raises(InvariantViolationError, match="not negative"):
        rec.convert(amount=Money.of(-1, "USD"), by="bob", at=T2)
    assert rec.status is S.ACCEPTED
    assert rec.converted_amount is None


def test_a_conversion_needs_an_amount() -> None:
    with pytest.raises(InvariantViolationError, match="amount"):
        at_status(S.ACCEPTED).transition_to(S.CONVERTED, by="bob", at=T2)


def test_wrong_status_beats_wrong_currency() -> None:
    with pytest.raises(InvalidStatusTransitionError):
        recommendation().convert(amount=Money.of(1, "EUR"), by="bob", at=T2)


def test_transitions_name_who_and_never_go_back_in_time() -> None:
    with pytest.raises(InvariantViolationError):
        recommendation().accept(by="", at=T1)
    with pytest.raises(InvariantViolationError):
        recommendation().accept(by="ann", at=T0 - timedelta(seconds=1))
    with pytest.raises(InvariantViolationError):
        recommendation().accept(by="ann", at=datetime(2025, 5, 1))
    rec = at_status(S.ACCEPTED)
    with pytest.raises(InvariantViolationError):
        rec.mark_lost(by="ann", at=T0)
    assert rec.status is S.ACCEPTED


def test_recommendations_are_equal_by_id() -> None:
    assert recommendation() == recommendation(probability=0.9)
    assert recommendation() != recommendation(id="rec-2")
