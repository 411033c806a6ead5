"""Suppression rules: never recommend a family the customer owns, has open, or lost recently, in any org."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from domain.crosswalk import ProductCrosswalk
from domain.errors import InvariantViolationError
from domain.ids import SalesforceId
from domain.opportunity import Opportunity, OpportunityStatus
from domain.product import ProductKey

__all__ = ["FamilyDeal", "Suppression", "SuppressionPolicy", "SuppressionReason", "family_deals"]


class SuppressionReason(StrEnum):
    """Why a candidate is not offered, strongest first."""

    OWNED = "owned"
    OPEN = "open"
    LOST_RECENTLY = "lost_recently"


_PRIORITY = {SuppressionReason.OWNED: 0, SuppressionReason.OPEN: 1, SuppressionReason.LOST_RECENTLY: 2}


@dataclass(frozen=True)
class FamilyDeal:
    """What one opportunity, in any of the customer's orgs, says about one product family.

    Raises InvalidIdError for a malformed opportunity id and InvariantViolationError for a close date
    that is not a plain date.
    """

    family_id: str
    org_id: str
    opportunity_id: str
    status: OpportunityStatus
    close_date: date

    def __post_init__(self) -> None:
        object.__setattr__(self, "opportunity_id", SalesforceId.parse(self.opportunity_id).value)
        object.__setattr__(self, "status", OpportunityStatus(self.status))
        if not isinstance(self.close_date, date) or isinstance(self.close_date, datetime):
            raise InvariantViolationError(f"close_date is a calendar date, got {self.close_date!r}")


def family_deals(opportunities: Iterable[Opportunity], crosswalk: ProductCrosswalk) -> list[FamilyDeal]:
    """One FamilyDeal per (opportunity, family) among the opportunities' line items.

    Deleted opportunities and products the crosswalk does not map to a family say nothing and are skipped.
    """
    deals: list[FamilyDeal] = []
    for opportunity in opportunities:
        if opportunity.is_deleted:
            continue
        families = {
            crosswalk.family_of(ProductKey(opportunity.org_id, item.product_id))
            for item in opportunity.line_items
        }
        for family_id in sorted(f for f in families if f is not None):
            deals.append(
                FamilyDeal(
                    family_id=family_id,
                    org_id=opportunity.org_id,
                    opportunity_id=opportunity.external_id,
                    status=opportunity.status,
                    close_date=opportunity.close_date,
                )
            )
    return deals


@dataclass(frozen=True)
class Suppression:
    """The evidence that suppresses a family: which rule, and which deal in which org."""

    reason: SuppressionReason
    family_id: str
    org_id: str
    opportunity_id: str
    close_date: date


@dataclass(frozen=True)
class SuppressionPolicy:
    """The suppression rules, with the lost-deal window in days (default 180).

    Owning means a closed-won deal of the family at any time; open means a deal not yet closed; lost
    recently means a closed-lost deal whose close date is on or after `as_of - lost_window_days` (a
    future close date counts as recent). The rules look at every org: the target org does not matter.
    Raises InvariantViolationError for a negative window.
    """

    lost_window_days: int = 180

    def __post_init__(self) -> None:
        if isinstance(self.lost_window_days, bool) or not isinstance(self.lost_window_days, int):
            raise InvariantViolationError(
                f"the lost window is a whole number of days, got {self.lost_window_days!r}"
            )
        if self.lost_window_days < 0:
            raise InvariantViolationError(f"the lost window cannot be negative, got {self.lost_window_days}")

    def reason_for(self, family_id: str, deals: Iterable[FamilyDeal], *, as_of: date) -> Suppression | None:
        """Why `family_id` must not be recommended to the customer these deals belong to, or None."""
        return self.suppressed_families(
            (deal for deal in deals if deal.family_id == family_id), as_of=as_of
        ).get(family_id)

    def suppressed_families(self, deals: Iterable[FamilyDeal], *, as_of: date) -> dict[str, Suppression]:
        """Every suppressed family of the customer with its strongest reason.

        Among deals giving the same reason, the latest close date is cited (then org and id, so the
        answer does not depend on input order).
        """
        cutoff = as_of - timedelta(days=self.lost_window_days)
        best: dict[str, tuple[tuple[int, int, str, str], Suppression]] = {}
        for deal in deals:
            reason = self._reason(deal, cutoff)
            if reason is None:
                continue
            rank = (_PRIORITY[reason], -deal.close_date.toordinal(), deal.org_id, deal.opportunity_id)
            current = best.get(deal.family_id)
            if current is None or rank < current[0]:
                best[deal.family_id] = (
                    rank,
                    Suppression(reason, deal.family_id, deal.org_id, deal.opportunity_id, deal.close_date),
                )
        return {family: suppression for family, (_, suppression) in best.items()}

    @staticmethod
    def _reason(deal: FamilyDeal, cutoff: date) -> SuppressionReason | None:
        if deal.status is OpportunityStatus.WON:
            return SuppressionReason.OWNED
        if deal.status is OpportunityStatus.OPEN:
            return SuppressionReason.OPEN
        return SuppressionReason.LOST_RECENTLY if deal.close_date >= cutoff else None
