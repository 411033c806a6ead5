"""Recommendation: offer this product family to this customer in this org, how likely, worth how much, why."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from domain.errors import InvalidCurrencyError, InvalidStatusTransitionError, InvariantViolationError
from domain.events import (
    Event,
    RecommendationAccepted,
    RecommendationConverted,
    RecommendationDismissed,
    RecommendationLost,
)
from domain.money import Money
from domain.timestamps import require_utc, utc_now

__all__ = [
    "ALLOWED_TRANSITIONS",
    "Arm",
    "Reason",
    "ReasonKind",
    "Recommendation",
    "RecommendationStatus",
    "expected_value",
]


class RecommendationStatus(StrEnum):
    NEW = "new"
    ACCEPTED = "accepted"
    DISMISSED = "dismissed"
    CONVERTED = "converted"
    LOST = "lost"


ALLOWED_TRANSITIONS: dict[RecommendationStatus, frozenset[RecommendationStatus]] = {
    RecommendationStatus.NEW: frozenset({RecommendationStatus.ACCEPTED, RecommendationStatus.DISMISSED}),
    RecommendationStatus.ACCEPTED: frozenset({RecommendationStatus.CONVERTED, RecommendationStatus.LOST}),
    RecommendationStatus.DISMISSED: frozenset(),
    RecommendationStatus.CONVERTED: frozenset(),
    RecommendationStatus.LOST: frozenset(),
}


class Arm(StrEnum):
    """The A/B arm whose model produced the recommendation."""

    CHAMPION = "champion"
    CHALLENGER = "challenger"


class ReasonKind(StrEnum):
    FEATURE = "feature"  # a model input that pushed the score (SHAP)
    PEER = "peer"  # similar accounts, possibly in other orgs, bought the family
    INDUSTRY = "industry"  # the customer's industry adopts the family above the base rate
    ACTIVITY = "activity"  # recent engagement changed


def _require_probability(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvariantViolationError(f"{name} is a finite number, got {value!r}")
    if not 0.0 <= value <= 1.0:
        raise InvariantViolationError(f"{name} is a probability in [0, 1], got {value}")
    return float(value)


@dataclass(frozen=True)
class Reason:
    """One plain-language reason, with the number behind it.

    `contribution` is the signed effect on the score (a SHAP value or a lift); `org_id` names the org
    whose data is the evidence, when there is one. Raises InvariantViolationError for an empty text or
    a non-finite contribution.
    """

    kind: ReasonKind
    text: str
    contribution: float = 0.0
    org_id: str | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "kind", ReasonKind(self.kind))
        except ValueError as exc:
            raise InvariantViolationError(f"unknown reason kind {self.kind!r}") from exc
        if not self.text or not self.text.strip():
            raise InvariantViolationError("a reason says something")
        if isinstance(self.contribution, bool) or not math.isfinite(self.contribution):
            raise InvariantViolationError(f"a reason's contribution is finite, got {self.contribution!r}")


def expected_value(probability: float, expected_deal_size: Money, match_confidence: float) -> Money:
    """probability x expected deal size x match confidence, in the deal size's currency.

    The match confidence discounts the value because a wrong customer match makes the whole offer moot.
    Raises InvariantViolationError when a factor is outside [0, 1] or the deal size is negative.
    """
    p = _require_probability(probability, "probability")
    c = _require_probability(match_confidence, "match confidence")
    if expected_deal_size.is_negative:
        raise InvariantViolationError(f"an expected deal size is not negative, got {expected_deal_size}")
    # Through str so the exact float the model produced is what gets multiplied, not its binary expansion.
    return Money(expected_deal_size.amount * Decimal(str(p)) * Decimal(str(c)), expected_deal_size.currency)


@dataclass(eq=False)
class Recommendation:
    """Offer `family_id` to `customer_id` through `target_org_id`, and what became of it.

    Status moves only `new -> accepted | dismissed` and `accepted -> converted | lost`; each transition
    stamps its time and who made it. Raises InvariantViolationError for a probability outside [0, 1], a
    negative expected value, empty ids, or non-UTC times.
    """

    customer_id: str
    family_id: str
    target_org_id: str
    probability: float
    expected_value: Money
    model_version_id: str
    arm: Arm
    reasons: tuple[Reason, ...] = ()
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    status: RecommendationStatus = RecommendationStatus.NEW
    created_at: datetime = field(default_factory=utc_now)
    accepted_at: datetime | None = None
    dismissed_at: datetime | None = None
    converted_at: datetime | None = None
    lost_at: datetime | None = None
    decided_by: str | None = None
    dismiss_reason: str | None = None
    converted_amount: Money | None = None
    events: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name in ("id", "customer_id", "family_id", "target_org_id", "model_version_id"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise InvariantViolationError(f"a recommendation needs a non-empty {name}")
        self.probability = _require_probability(self.probability, "probability")
        if self.expected_value.is_negative:
            raise InvariantViolationError("a recommendation's expected value is not negative")
        try:
            self.arm = Arm(self.arm)
            self.status = RecommendationStatus(self.status)
        except ValueError as exc:
            raise InvariantViolationError(str(exc)) from exc
        self.reasons = tuple(self.reasons)
        for name in ("created_at", "accepted_at", "dismissed_at", "converted_at", "lost_at"):
            require_utc(getattr(self, name), name)

    @classmethod
    def score(
        cls,
        *,
        customer_id: str,
        family_id: str,
        target_org_id: str,
        probability: float,
        expected_deal_size: Money,
        match_confidence: float,
        model_version_id: str,
        arm: Arm,
        reasons: tuple[Reason, ...] = (),
        at: datetime,
    ) -> Recommendation:
        """A new recommendation valued by `expected_value`; raises what it and the constructor raise."""
        return cls(
            customer_id=customer_id,
            family_id=family_id,
            target_org_id=target_org_id,
            probability=probability,
            expected_value=expected_value(probability, expected_deal_size, match_confidence),
            model_version_id=model_version_id,
            arm=arm,
            reasons=reasons,
            created_at=at,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Recommendation) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def is_open(self) -> bool:
        """Still waiting for a decision or an outcome."""
        return bool(ALLOWED_TRANSITIONS[self.status])

    def transition_to(
        self,
        target: RecommendationStatus,
        *,
        by: str,
        at: datetime,
        amount: Money | None = None,
        reason: str | None = None,
    ) -> None:
        """Move to `target` through the matching method (feedback arrives as a status).

        Raises InvalidStatusTransitionError for a move the status graph forbids (including to `new`),
        InvariantViolationError when converting without an amount, and what the methods raise.
        """
        target = RecommendationStatus(target)
        if target is RecommendationStatus.ACCEPTED:
            self.accept(by=by, at=at)
        elif target is RecommendationStatus.DISMISSED:
            self.dismiss(by=by, at=at, reason=reason)
        elif target is RecommendationStatus.CONVERTED:
            if amount is None:
                self._check(target)
                raise InvariantViolationError("a conversion records the amount won")
            self.convert(amount=amount, by=by, at=at)
        elif target is RecommendationStatus.LOST:
            self.mark_lost(by=by, at=at)
        else:
            self._check(target)

    def accept(self, *, by: str, at: datetime) -> None:
        """new -> accepted. Raises InvalidStatusTransitionError from any other status."""
        self._move(RecommendationStatus.ACCEPTED, by, at)
        self.accepted_at = at
        self.events.append(RecommendationAccepted(occurred_at=at, recommendation_id=self.id, decided_by=by))

    def dismiss(self, *, by: str, at: datetime, reason: str | None = None) -> None:
        """new -> dismissed. Raises InvalidStatusTransitionError from any other status."""
        self._move(RecommendationStatus.DISMISSED, by, at)
        self.dismissed_at, self.dismiss_reason = at, reason
        self.events.append(
            RecommendationDismissed(occurred_at=at, recommendation_id=self.id, decided_by=by, reason=reason)
        )

    def convert(self, *, amount: Money, by: str, at: datetime) -> None:
        """accepted -> converted, with the amount won.

        Raises InvalidStatusTransitionError from any status but accepted; InvalidCurrencyError when the
        amount is not in the expected value's (the target org's) currency; InvariantViolationError for a
        negative amount. Nothing changes when it raises.
        """
        if amount.currency != self.expected_value.currency:
            # Checked before the move so that a rejected call leaves the status untouched.
            self._check(RecommendationStatus.CONVERTED)
            raise InvalidCurrencyError(
                f"recommendation {self.id} is valued in {self.expected_value.currency}, not {amount.currency}"
            )
        if amount.is_negative:
            self._check(RecommendationStatus.CONVERTED)
            raise InvariantViolationError("a converted amount is not negative")
        self._move(RecommendationStatus.CONVERTED, by, at)
        self.converted_at, self.converted_amount = at, amount
        self.events.append(
            RecommendationConverted(occurred_at=at, recommendation_id=self.id, decided_by=by, amount=amount)
        )

    def mark_lost(self, *, by: str, at: datetime) -> None:
        """accepted -> lost. Raises InvalidStatusTransitionError from any other status."""
        self._move(RecommendationStatus.LOST, by, at)
        self.lost_at = at
        self.events.append(RecommendationLost(occurred_at=at, recommendation_id=self.id, decided_by=by))

    def _check(self, target: RecommendationStatus) -> None:
        if target not in ALLOWED_TRANSITIONS[self.status]:
            raise InvalidStatusTransitionError(
                f"recommendation {self.id} cannot go from {self.status} to {target}"
            )

    def _move(self, target: RecommendationStatus, by: str, at: datetime) -> None:
        self._check(target)
        if not by or not by.strip():
            raise InvariantViolationError("a recommendation decision names who made it")
        require_utc(at, "at")
        stamps = (self.created_at, self.accepted_at, self.dismissed_at, self.converted_at, self.lost_at)
        if at < max(t for t in stamps if t is not None):
            raise InvariantViolationError(f"recommendation {self.id} cannot change before its last change")
        self.status, self.decided_by = target, by
