"""Wire types of write-backs: what to write into the CRM, and what was written."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from domain.write_back import WriteBack, WriteBackKind, WriteBackStatus

__all__ = ["WriteBackIn", "WriteBackOut"]


class WriteBackIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Create a Task or an Opportunity for an accepted offer in an org of its customer."""

    kind: Annotated[
        WriteBackKind,
        msgspec.Meta(
            description="`task`: a call for the account owner, due in a week. `opportunity`: a Prospecting"
            " opportunity worth the expected value, closing within 180 days.",
            examples=["task"],
        ),
    ]
    org_id: (
        Annotated[
            str,
            msgspec.Meta(
                min_length=1,
                max_length=40,
                description="The org to write to. Optional: by default the offer's target org when the"
                " customer has an account there, else the only org where it has one.",
                examples=["emea"],
            ),
        ]
        | None
    ) = None


class WriteBackOut(msgspec.Struct, frozen=True, kw_only=True):
    """One write-back and what the CRM answered."""

    id: Annotated[
        str, msgspec.Meta(description="Write-back id.", examples=["5b0e8f3c-7d1a-4a8e-9c7b-2f0d9e6a1c44"])
    ]
    recommendation_id: Annotated[str, msgspec.Meta(examples=["0f3c9a6e2b1d4c5e00000001"])]
    kind: Annotated[WriteBackKind, msgspec.Meta(description="task or opportunity.", examples=["task"])]
    org_id: Annotated[str, msgspec.Meta(description="The org written to.", examples=["emea"])]
    account_id: Annotated[
        str,
        msgspec.Meta(
            description="The customer's account there (Salesforce id).", examples=["0015g00000AbCdEAAV"]
        ),
    ]
    status: Annotated[
        WriteBackStatus,
        msgspec.Meta(
            description="`done`: the record exists and `salesforce_id` names it. `pending`: not (known to"
            " be) written yet; retry with the same Idempotency-Key. `failed`: the CRM refused (see"
            " `error`); a retry tries again.",
            examples=["done"],
        ),
    ]
    salesforce_id: Annotated[
        str | None,
        msgspec.Meta(description="The Task's or Opportunity's id.", examples=["00T5g00000XyZaBEAV"]),
    ]
    error: Annotated[
        str | None,
        msgspec.Meta(description="Why the last attempt did not finish, when it did not.", examples=[None]),
    ] = None
    requested_by: Annotated[str, msgspec.Meta(examples=["ana@example.com"])]
    created_at: datetime
    done_at: datetime | None = None

    @classmethod
    def of(cls, item: WriteBack) -> WriteBackOut:
        return cls(
            id=str(item.id),
            recommendation_id=item.recommendation_id,
            kind=item.kind,
            org_id=item.org_id,
            account_id=item.account_id,
            status=item.status,
            salesforce_id=item.salesforce_id,
            error=item.error,
            requested_by=item.requested_by,
            created_at=item.created_at,
            done_at=item.done_at,
        )
