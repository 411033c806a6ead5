"""Wire types of customers across orgs and of the offers scored for one on the spot."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from application.customers import CustomerAccount, CustomerSummary, CustomerView, TimelineEvent
from application.models.realtime import LiveOffer
from domain.recommendation import Arm
from entrypoints.http.recommendation_schemas import ReasonOut, RecommendationOut

__all__ = [
    "CustomerAccountOut",
    "CustomerOut",
    "CustomerPage",
    "CustomerSummaryOut",
    "LiveOfferOut",
    "TimelineEventOut",
    "TimelineOut",
]

_CUSTOMER_ID = msgspec.Meta(
    description="Resolved customer id, stable across resolution runs.", examples=["c-5f0c2a"]
)


class CustomerSummaryOut(msgspec.Struct, frozen=True, kw_only=True):
    """A customer found by name; only accounts in orgs the caller may read are counted."""

    id: Annotated[str, _CUSTOMER_ID]
    name: Annotated[str, msgspec.Meta(description="Customer name.", examples=["Acme Logistics"])]
    org_ids: Annotated[
        list[str], msgspec.Meta(description="Readable orgs it has accounts in.", examples=[["emea"]])
    ]
    accounts: Annotated[int, msgspec.Meta(description="Member accounts in those orgs.", examples=[2])]

    @classmethod
    def of(cls, item: CustomerSummary) -> CustomerSummaryOut:
        return cls(id=item.id, name=item.name, org_ids=list(item.org_ids), accounts=item.accounts)


class CustomerPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of customers by name. Pass `next_cursor` as `cursor` for the next page; null on the last."""

    items: list[CustomerSummaryOut]
    next_cursor: Annotated[str | None, msgspec.Meta(examples=["eyJ2IjoxLCJrIjoi"])]


class CustomerAccountOut(msgspec.Struct, frozen=True, kw_only=True):
    """One member account of the customer, in one org, and how sure the match is."""

    org_id: Annotated[str, msgspec.Meta(examples=["emea"])]
    id: Annotated[
        str, msgspec.Meta(description="The CRM's 18-character id.", examples=["0015g00000AbCdEAAV"])
    ]
    name: Annotated[
        str | None, msgspec.Meta(description="As synced (null once deleted).", examples=["ACME GmbH"])
    ]
    industry: Annotated[str | None, msgspec.Meta(examples=["Transportation"])]
    match_confidence: Annotated[
        float,
        msgspec.Meta(description="Confidence that the account is this customer (0-1).", examples=[0.97]),
    ]
    method: Annotated[str, msgspec.Meta(description="rule, model or human.", examples=["model"])]

    @classmethod
    def of(cls, item: CustomerAccount) -> CustomerAccountOut:
        return cls(
            org_id=item.org_id,
            id=item.external_id,
            name=item.name,
            industry=item.industry,
            match_confidence=item.confidence,
            method=item.method,
        )


class CustomerOut(msgspec.Struct, frozen=True, kw_only=True):
    """A customer across the orgs the caller may read: accounts, families owned per org, open offers."""

    id: Annotated[str, _CUSTOMER_ID]
    name: Annotated[str, msgspec.Meta(examples=["Acme Logistics"])]
    accounts: list[CustomerAccountOut]
    families_by_org: Annotated[
        dict[str, list[str]],
        msgspec.Meta(
            description="Product families owned (closed-won line items), per org.",
            examples=[{"emea": ["analytics", "hr_payroll"]}],
        ),
    ]
    open_recommendations: Annotated[
        list[RecommendationOut],
        msgspec.Meta(description="New and accepted offers, best 50 by expected value."),
    ]

    @classmethod
    def of(cls, view: CustomerView) -> CustomerOut:
        profile = view.profile
        return cls(
            id=profile.id,
            name=profile.name,
            accounts=[CustomerAccountOut.of(a) for a in profile.accounts],
            families_by_org=profile.families_by_org,
            open_recommendations=[RecommendationOut.of(r) for r in view.open_recommendations],
        )


class LiveOfferOut(msgspec.Struct, frozen=True, kw_only=True):
    """An offer scored now from the served features; nothing is stored."""

    family_id: Annotated[str, msgspec.Meta(examples=["analytics"])]
    probability: Annotated[float, msgspec.Meta(description="Calibrated probability.", examples=[0.31])]
    expected_value: Annotated[
        float, msgspec.Meta(description="In the expected deal size's record currency.", examples=[12450.0])
    ]
    model_version_id: Annotated[str, msgspec.Meta(examples=["m-20260301-1200"])]
    arm: Annotated[Arm, msgspec.Meta(examples=["champion"])]
    reasons: list[ReasonOut]

    @classmethod
    def of(cls, offer: LiveOffer) -> LiveOfferOut:
        return cls(
            family_id=offer.family_id,
            probability=offer.probability,
            expected_value=offer.expected_value,
            model_version_id=offer.model_version_id,
            arm=offer.arm,
            reasons=[ReasonOut.of(r) for r in offer.reasons],
        )


class TimelineEventOut(msgspec.Struct, frozen=True, kw_only=True):
    """An opportunity or an activity of one of the customer's member accounts, as synced."""

    at: Annotated[
        datetime | None,
        msgspec.Meta(description="Close date of an opportunity, time of an activity; null when unknown."),
    ]
    org_id: Annotated[str, msgspec.Meta(examples=["emea"])]
    account_id: Annotated[
        str, msgspec.Meta(description="The member account's CRM id.", examples=["0015g00000AbCdEAAV"])
    ]
    kind: Annotated[str, msgspec.Meta(description="opportunity, task or event.", examples=["opportunity"])]
    title: Annotated[
        str | None,
        msgspec.Meta(description="Opportunity name or activity subject.", examples=["Renewal 2026"]),
    ]
    detail: Annotated[
        str | None,
        msgspec.Meta(
            description="Stage and amount, or activity type and status.",
            examples=["Closed Won · 15,000.00 EUR"],
        ),
    ]

    @classmethod
    def of(cls, event: TimelineEvent) -> TimelineEventOut:
        return cls(
            at=event.at,
            org_id=event.org_id,
            account_id=event.account_id,
            kind=event.kind,
            title=event.title,
            detail=event.detail,
        )


class TimelineOut(msgspec.Struct, frozen=True, kw_only=True):
    """Newest first; undated last."""

    items: list[TimelineEventOut]
