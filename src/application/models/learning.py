"""The learning task over time: which cutoffs train, which one validates, and what counts as a purchase."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from application.errors import InvalidRequestError
from application.features.model import FeatureInputs

__all__ = ["CutoffPlan", "LearningTask", "purchases_in_window"]


@dataclass(frozen=True)
class CutoffPlan:
    """Training cutoffs (oldest first), the validation cutoff, and the cutoff the model is for."""

    training: tuple[date, ...]
    validation: date
    target: date
    horizon_days: int

    def window(self, cutoff: date) -> tuple[date, date]:
        """The outcome window (cutoff, cutoff + horizon] of a cutoff."""
        return cutoff, cutoff + timedelta(days=self.horizon_days)

    @property
    def all(self) -> tuple[date, ...]:
        return (*self.training, self.validation, self.target)


@dataclass(frozen=True)
class LearningTask:
    """Candidates are (customer, family) not owned at a cutoff t; the outcome is a closed-won line item of
    the family with close date in (t, t + horizon].

    A model for cutoff T validates on T - horizon and trains on `training_cutoffs` earlier cutoffs,
    `step_days`
    apart, the latest at T - 2 x horizon, so every training outcome is known before the validation cutoff:
    nothing about the validation window leaks into training (time-based, no random split across time).
    Raises InvalidRequestError for a horizon or count out of range.
    """

    horizon_days: int = 180
    training_cutoffs: int = 6
    step_days: int = 91

    def __post_init__(self) -> None:
        if not 7 <= self.horizon_days <= 730:
            raise InvalidRequestError(f"the horizon is 7 to 730 days, got {self.horizon_days}")
        if not 1 <= self.training_cutoffs <= 24:
            raise InvalidRequestError(f"training uses 1 to 24 cutoffs, got {self.training_cutoffs}")
        if not 1 <= self.step_days <= 365:
            raise InvalidRequestError(f"cutoffs are 1 to 365 days apart, got {self.step_days}")

    def plan(self, target: date) -> CutoffPlan:
        horizon = timedelta(days=self.horizon_days)
        validation = target - horizon
        latest = validation - horizon
        training = tuple(
            latest - timedelta(days=self.step_days * i) for i in reversed(range(self.training_cutoffs))
        )
        return CutoffPlan(training, validation, target, self.horizon_days)


def purchases_in_window(inputs: FeatureInputs, start: date, end: date) -> set[tuple[str, str]]:
    """(customer id, family id) pairs with a closed-won line item of the family closing in (start, end].

    Line items of products that map to no family, and accounts that belong to no customer, count for
    nothing. Uses the inputs' records as they are (load them as of `end` or later).
    """
    opportunities: Any = inputs.opportunities
    close = pd.to_datetime(opportunities["close_date"], errors="coerce")
    won = opportunities[
        opportunities["is_won"].fillna(False).astype(bool).to_numpy()
        & (close > pd.Timestamp(start)).to_numpy()
        & (close <= pd.Timestamp(end)).to_numpy()
    ][["org_id", "opportunity_id", "account_id"]]
    if won.empty:
        return set()
    items = inputs.line_items[["org_id", "opportunity_id", "product_id"]].merge(
        won, on=["org_id", "opportunity_id"]
    )
    items = items.merge(inputs.products[["org_id", "product_id", "family_id"]], on=["org_id", "product_id"])
    items = items.merge(inputs.members[["org_id", "account_id", "customer_id"]], on=["org_id", "account_id"])
    pairs: Iterable[tuple[str, str]] = zip(
        items["customer_id"].tolist(), items["family_id"].tolist(), strict=True
    )
    return {(str(c), str(f)) for c, f in pairs}
