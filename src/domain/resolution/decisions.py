"""Decision rules: thresholds that turn a probability into auto-merge, review or non-match."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import InvariantViolationError

__all__ = ["MatchThresholds", "Verdict"]


class Verdict(StrEnum):
    MATCH = "match"
    REVIEW = "review"
    NON_MATCH = "non_match"


@dataclass(frozen=True, slots=True)
class MatchThresholds:
    """auto_merge > review > cannot_link, all in (0, 1).

    Pairs at or above `auto_merge` join automatically; pairs in [review, auto_merge) wait for a person;
    pairs below `cannot_link` are strong evidence of two different companies and stop chaining.
    Raises InvariantViolationError when the order or range is wrong.
    """

    auto_merge: float = 0.9
    review: float = 0.5
    cannot_link: float = 0.001

    def __post_init__(self) -> None:
        values = (self.auto_merge, self.review, self.cannot_link)
        if not all(isinstance(v, float | int) and math.isfinite(v) and 0.0 < v < 1.0 for v in values):
            raise InvariantViolationError(f"match thresholds lie strictly between 0 and 1, got {values}")
        if not self.auto_merge > self.review > self.cannot_link:
            raise InvariantViolationError(f"thresholds need auto_merge > review > cannot_link, got {values}")

    def verdict(self, probability: float) -> Verdict:
        if probability >= self.auto_merge:
            return Verdict.MATCH
        if probability >= self.review:
            return Verdict.REVIEW
        return Verdict.NON_MATCH
