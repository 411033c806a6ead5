"""Which model serves whom: the champion, and a challenger for a stable share of customers (A/B)."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from domain.errors import InvariantViolationError
from domain.recommendation import Arm

__all__ = ["ServingPolicy"]


@dataclass(frozen=True)
class ServingPolicy:
    """A challenger serves `challenger_share` of customers, chosen by a stable hash of the customer id.

    The same customer always lands in the same arm for the same `salt` (so a customer never sees
    recommendations flip between models); changing the salt reshuffles the arms. Raises
    InvariantViolationError for a share outside [0, 0.5] (a challenger never serves the majority) or an
    empty salt.
    """

    challenger_share: float = 0.0
    salt: str = "ab-1"

    def __post_init__(self) -> None:
        share = self.challenger_share
        if isinstance(share, bool) or not isinstance(share, int | float) or not math.isfinite(share):
            raise InvariantViolationError(f"the challenger share is a number, got {share!r}")
        if not 0.0 <= share <= 0.5:
            raise InvariantViolationError(f"the challenger share is between 0 and 0.5, got {share}")
        if not self.salt or not self.salt.strip():
            raise InvariantViolationError("an A/B salt is a non-empty string")

    def bucket(self, customer_id: str) -> float:
        """The customer's position in [0, 1): uniform over customers, fixed for a salt."""
        digest = hashlib.sha256(f"{self.salt}:{customer_id}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def arm_for(self, customer_id: str, *, has_challenger: bool) -> Arm:
        """CHALLENGER for the customers in the share when a challenger exists, else CHAMPION."""
        if has_challenger and self.bucket(customer_id) < self.challenger_share:
            return Arm.CHALLENGER
        return Arm.CHAMPION
