"""Wire types of recommendations, their reasons and the feedback on them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import msgspec

from application.errors import InvalidRequestError
from domain.recommendation import Arm, Reason, ReasonKind, Recommendation, RecommendationStatus

__all__ = ["ConvertIn", "DismissIn", "ReasonOut", "RecommendationOut", "RecommendationPage"]

_ID_EXAMPLE = "0f3c9a6e2b1d4c5e00000001"
_MAX_AMOUNT = Decimal(10) ** 18
_CENT = Decimal("0.01")


class ReasonOut(msgspec.Struct, frozen=True, kw_only=True):
    """Why the offer is made, in words, with the number behind it."""

    kind: Annotated[
        ReasonKind, msgspec.Meta(description="feature, peer, industry or activity.", examples=["peer"])
    ]
    text: Annotated[
        str,
        msgspec.Meta(
            description="One sentence with the customer's numbers.",
            examples=["10 similar Transportation accounts in Business unit BU2 bought Marketing Automation"],
        ),
    ]
    contribution: Annotated[
        float, msgspec.Meta(description="Signed effect on the score (SHAP value or lift).", examples=[0.41])
    ]
    org_id: Annotated[
        str | None, msgspec.Meta(description="The org whose data is the evidence, if any.", examples=["emea"])
    ] = None

    @classmethod
    def of(cls, reason: Reason) -> ReasonOut:
        return cls(kind=reason.kind, text=reason.text, contribution=reason.contribution, org_id=reason.org_id)


class RecommendationOut(msgspec.Struct, frozen=True, kw_only=True):
    """Offer a product family to a customer through the target org, how likely, worth how much, why."""

    id: Annotated[str, msgspec.Meta(description="Recommendation id.", examples=[_ID_EXAMPLE])]
    customer_id: Annotated[str, msgspec.Meta(description="Resolved customer id.", examples=["c-5f0c2a"])]
    family_id: Annotated[str, msgspec.Meta(description="Product family offered.", examples=["analytics"])]
    target_org_id: Annotated[str, msgspec.Meta(description="The org that would sell it.", examples=["emea"])]
    probability: Annotated[
        float, msgspec.Meta(description="Calibrated probability of a purchase in 180 days.", examples=[0.31])
    ]
    expected_value: Annotated[
        Decimal,
        msgspec.Meta(
            description="probability x expected deal size x match confidence, in `currency`.",
            examples=["12450.00"],
        ),
    ]
    currency: Annotated[str, msgspec.Meta(description="ISO 4217 code of the target org.", examples=["EUR"])]
    status: Annotated[
        RecommendationStatus,
        msgspec.Meta(description="new, accepted, dismissed, converted or lost.", examples=["new"]),
    ]
    arm: Annotated[Arm, msgspec.Meta(description="The A/B arm whose model scored it.", examples=["champion"])]
    model_version_id: Annotated[str, msgspec.Meta(examples=["m-20260301-1200"])]
    reasons: Annotated[list[ReasonOut], msgspec.Meta(description="Strongest reasons first.")]
    created_at: datetime
    decided_by: Annotated[str | None, msgspec.Meta(examples=["ana@example.com"])] = None
    accepted_at: datetime | None = None
    dismissed_at: datetime | None = None
    converted_at: datetime | None = None
    lost_at: datetime | None = None
    dismiss_reason: Annotated[str | None, msgspec.Meta(examples=["Budget frozen until Q3"])] = None
    converted_amount: Annotated[Decimal | None, msgspec.Meta(examples=["15000.00"])] = None

    @classmethod
    def of(cls, item: Recommendation) -> RecommendationOut:
        return cls(
            id=item.id,
            customer_id=item.customer_id,
            family_id=item.family_id,
            target_org_id=item.target_org_id,
            probability=item.probability,
            expected_value=item.expected_value.amount,
            currency=item.expected_value.currency,
            status=item.status,
            arm=item.arm,
            model_version_id=item.model_version_id,
            reasons=[ReasonOut.of(r) for r in item.reasons],
            created_at=item.created_at,
            decided_by=item.decided_by,
            accepted_at=item.accepted_at,
            dismissed_at=item.dismissed_at,
            converted_at=item.converted_at,
            lost_at=item.lost_at,
            dismiss_reason=item.dismiss_reason,
            converted_amount=None if item.converted_amount is None else item.converted_amount.amount,
        )


class RecommendationPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of recommendations. Pass `next_cursor` as `cursor` for the next page; null on the last."""

    items: list[RecommendationOut]
    next_cursor: Annotated[str | None, msgspec.Meta(examples=["eyJ2IjoxLCJrIjoi"])]


class DismissIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Turn down a new offer; it is not offered again for 180 days."""

    reason: (
        Annotated[
            str,
            msgspec.Meta(
                max_length=1000,
                description="Why it does not fit (kept with the offer).",
                examples=["No budget"],
            ),
        ]
        | None
    ) = None


class ConvertIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An accepted offer was won."""

    amount: Annotated[
        Decimal,
        msgspec.Meta(
            description="Amount won, in the offer's currency: more than 0, at most 2 decimals.",
            examples=["15000.00"],
        ),
    ]

    def checked(self) -> Decimal:
        """The amount, or InvalidRequestError when it is not a positive amount of money."""
        amount = self.amount
        if not amount.is_finite() or amount <= 0 or amount >= _MAX_AMOUNT or amount != amount.quantize(_CENT):
            raise InvalidRequestError("amount must be more than 0, below 10^18, with at most 2 decimals")
        return amount
