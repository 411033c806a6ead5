"""Wire types of match review: the queue of uncertain pairs, decisions on them, merges, splits and undos."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from application.resolution.ports import ReviewItem
from domain.account import AccountKey
from domain.customer import ChangeKind, CustomerChange
from domain.ids import SalesforceId
from domain.resolution.model import FieldEvidence
from entrypoints.http.path_params import PRINTABLE

__all__ = [
    "AccountRefIn",
    "AccountRefOut",
    "CustomerChangeOut",
    "EvidenceOut",
    "MatchAccountOut",
    "MatchDecisionIn",
    "MatchDecisionOut",
    "MatchOut",
    "MatchPairIn",
    "MatchQueueOut",
    "MergeIn",
    "SplitIn",
]

_ORG_ID = msgspec.Meta(
    min_length=1, max_length=64, pattern=PRINTABLE, description="The org's id in xsell.", examples=["emea"]
)
_ACCOUNT_ID = msgspec.Meta(
    min_length=1,
    max_length=18,
    pattern=PRINTABLE,
    description="The CRM's 15- or 18-character Account id (a malformed id answers 422).",
    examples=["0015g00000AbCdEAAV"],
)
_CUSTOMER_ID = msgspec.Meta(
    min_length=1, max_length=64, pattern=PRINTABLE, description="Resolved customer id.", examples=["c-5f0c2a"]
)


class AccountRefIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One account: its org and its id there."""

    org_id: Annotated[str, _ORG_ID]
    id: Annotated[str, _ACCOUNT_ID]

    def key(self) -> AccountKey:
        """The account's key, its id in 18-character form; InvalidIdError when it is malformed."""
        return AccountKey(self.org_id, SalesforceId.parse(self.id).value)


class AccountRefOut(msgspec.Struct, frozen=True, kw_only=True):
    org_id: Annotated[str, msgspec.Meta(examples=["emea"])]
    id: Annotated[str, msgspec.Meta(examples=["0015g00000AbCdEAAV"])]

    @classmethod
    def of(cls, key: AccountKey) -> AccountRefOut:
        return cls(org_id=key.org_id, id=key.external_id)


class MatchAccountOut(msgspec.Struct, frozen=True, kw_only=True):
    """One side of a pair: the account and the customer it belongs to now."""

    org_id: Annotated[str, msgspec.Meta(examples=["emea"])]
    id: Annotated[
        str, msgspec.Meta(description="The CRM's 18-character id.", examples=["0015g00000AbCdEAAV"])
    ]
    name: Annotated[
        str | None, msgspec.Meta(description="As synced (null once deleted).", examples=["Bluefin Logistics"])
    ]
    customer_id: Annotated[
        str | None,
        msgspec.Meta(
            description="The customer it belongs to now (null before resolution).", examples=["c-5f0c2a"]
        ),
    ]


class EvidenceOut(msgspec.Struct, frozen=True, kw_only=True):
    """What one field said about the pair, and how far it moved the odds (log2; + for, - against)."""

    field: Annotated[str, msgspec.Meta(examples=["street"])]
    level: Annotated[
        str,
        msgspec.Meta(
            description="How the two values compare ('missing' weighs nothing).", examples=["similar"]
        ),
    ]
    weight: Annotated[float, msgspec.Meta(examples=[2.4])]

    @classmethod
    def of(cls, evidence: FieldEvidence) -> EvidenceOut:
        return cls(field=str(evidence.field), level=evidence.label, weight=round(evidence.weight, 3))


class MatchOut(msgspec.Struct, frozen=True, kw_only=True):
    """A pair of accounts in different customers that may be one company: a person decides."""

    left: MatchAccountOut
    right: MatchAccountOut
    probability: Annotated[
        float, msgspec.Meta(description="The model's match probability (0-1).", examples=[0.71])
    ]
    explanation: Annotated[
        str,
        msgspec.Meta(
            description="The evidence in one line.",
            examples=["name close +6.2, street similar +2.4, phone missing"],
        ),
    ]
    evidence: list[EvidenceOut]

    @classmethod
    def of(cls, item: ReviewItem) -> MatchOut:
        pair = item.pair
        return cls(
            left=MatchAccountOut(
                org_id=pair.left.org_id,
                id=pair.left.external_id,
                name=item.left_name,
                customer_id=item.left_customer,
            ),
            right=MatchAccountOut(
                org_id=pair.right.org_id,
                id=pair.right.external_id,
                name=item.right_name,
                customer_id=item.right_customer,
            ),
            probability=round(item.probability, 4),
            explanation=item.explanation.describe(),
            evidence=[EvidenceOut.of(e) for e in item.explanation.evidence],
        )


class MatchQueueOut(msgspec.Struct, frozen=True, kw_only=True):
    """One page of pairs waiting for review, most likely first; deciding one takes it off the queue. Pass
    `next_cursor` as `cursor` for the next page; null on the last."""

    items: list[MatchOut]
    next_cursor: Annotated[str | None, msgspec.Meta(examples=["eyJ2IjoxLCJrIjoi"])]


class MatchPairIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Two accounts, in either order."""

    left: AccountRefIn
    right: AccountRefIn


class MatchDecisionIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A reviewer's word on a pair: `merge` joins their customers, `keep_apart` keeps them apart for good."""

    left: AccountRefIn
    right: AccountRefIn
    decision: Annotated[Literal["merge", "keep_apart"], msgspec.Meta(examples=["keep_apart"])]


class CustomerChangeOut(msgspec.Struct, frozen=True, kw_only=True):
    """A recorded merge or split; its `id` undoes it (POST /customers/changes/{change_id}/undo)."""

    id: Annotated[str, msgspec.Meta(examples=["9b2f0c4e1d7a4e55b0c3a1f2e4d6c8b0"])]
    kind: Annotated[ChangeKind, msgspec.Meta(examples=["merge"])]
    customer_id: Annotated[
        str, msgspec.Meta(description="The customer that kept its id.", examples=["c-5f0c2a"])
    ]
    other_customer_id: Annotated[
        str,
        msgspec.Meta(description="The customer absorbed (merge) or created (split).", examples=["c-77a1b0"]),
    ]
    accounts: Annotated[list[AccountRefOut], msgspec.Meta(description="The accounts that changed customer.")]
    decided_by: Annotated[str, msgspec.Meta(examples=["2d0f5a7e-user"])]
    at: datetime
    undone_by: str | None
    undone_at: datetime | None

    @classmethod
    def of(cls, change: CustomerChange) -> CustomerChangeOut:
        return cls(
            id=change.id,
            kind=change.kind,
            customer_id=change.customer_id,
            other_customer_id=change.other_customer_id,
            accounts=[AccountRefOut.of(k) for k in change.accounts],
            decided_by=change.decided_by,
            at=change.at,
            undone_by=change.undone_by,
            undone_at=change.undone_at,
        )


class MatchDecisionOut(msgspec.Struct, frozen=True, kw_only=True):
    """The decision as recorded, and the merge it made (null for keep_apart, or when already together)."""

    decision: Annotated[Literal["merge", "keep_apart"], msgspec.Meta(examples=["merge"])]
    change: CustomerChangeOut | None


class MergeIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Another customer that is the same company; the one with more accounts keeps its id."""

    other_customer_id: Annotated[str, _CUSTOMER_ID]


class SplitIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The accounts that are another company; they move to a customer of their own."""

    accounts: Annotated[list[AccountRefIn], msgspec.Meta(min_length=1, max_length=500)]
