"""What a write-back puts into the CRM: the fields of the Task or Opportunity, in the user's words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from application.models.offers import visible_reasons
from application.ports.crm import CrmValue
from domain.recommendation import Recommendation
from domain.write_back import WriteBack, WriteBackKind

__all__ = ["CrmRecordSpec", "RecordContext", "crm_record"]

FOLLOW_UP_DAYS = 7  # a call is due a week after the offer was written back
CLOSE_DAYS = 180  # the model's horizon: the purchase it predicts falls within 180 days
_SUBJECT_MAX = 255
_NAME_MAX = 120


@dataclass(frozen=True)
class RecordContext:
    """What the CRM record says beyond the offer itself."""

    family_name: str
    customer_name: str
    account_name: str | None
    today: date
    currency_field: bool  # the org is multi-currency: Opportunity.CurrencyIsoCode exists
    org_currency: str


@dataclass(frozen=True)
class CrmRecordSpec:
    """The object to create, the field that points at the account, and the field values."""

    sobject: str
    parent_field: str
    values: dict[str, CrmValue]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _description(recommendation: Recommendation, write_back: WriteBack, context: RecordContext) -> str:
    offer = recommendation
    lines = [
        f"xsell suggests offering {context.family_name} to {context.customer_name}: {offer.probability:.0%}"
        f" likely to buy within {CLOSE_DAYS} days, expected value {offer.expected_value}.",
    ]
    # Only evidence from this org or from no org: the record is read by everyone in the org it lands in.
    reasons = visible_reasons(offer.reasons, frozenset({write_back.org_id}))
    if reasons:
        lines += ["", "Why:", *(f"- {reason.text}" for reason in reasons)]
    lines += [
        "",
        f"Accepted by {offer.decided_by or write_back.requested_by}; recommendation {offer.id}.",
        write_back.marker,
    ]
    return "\n".join(lines)


def crm_record(
    recommendation: Recommendation, write_back: WriteBack, context: RecordContext
) -> CrmRecordSpec:
    """The Task ("Call about <family>: <strongest reason>", due in a week, on the account) or the
    Opportunity (Prospecting, closing within the model's horizon, worth the expected value) to create;
    either carries the write-back's marker in its Description."""
    description = _description(recommendation, write_back, context)
    if write_back.kind is WriteBackKind.TASK:
        reasons = visible_reasons(recommendation.reasons, frozenset({write_back.org_id}))
        subject = f"Call about {context.family_name}"
        if reasons:
            subject += f": {reasons[0].text}"
        return CrmRecordSpec(
            "Task",
            "WhatId",
            {
                "Subject": _cut(subject, _SUBJECT_MAX),
                "WhatId": write_back.account_id,
                "ActivityDate": (context.today + timedelta(days=FOLLOW_UP_DAYS)).isoformat(),
                "Status": "Not Started",
                "Priority": "Normal",
                "Type": "Call",
                "Description": description,
            },
        )
    name = f"{context.family_name} for {context.account_name or context.customer_name}"
    values: dict[str, CrmValue] = {
        "Name": _cut(name, _NAME_MAX),
        "AccountId": write_back.account_id,
        "StageName": "Prospecting",
        "CloseDate": (context.today + timedelta(days=CLOSE_DAYS)).isoformat(),
        "Description": description,
    }
    value = recommendation.expected_value
    if context.currency_field:
        values["Amount"] = float(value.amount)
        values["CurrencyIsoCode"] = value.currency
    elif value.currency == context.org_currency:
        values["Amount"] = float(value.amount)
    # Otherwise the org keeps one other currency: an amount would be read in it, so the value stays in
    # the description only.
    return CrmRecordSpec("Opportunity", "AccountId", values)
