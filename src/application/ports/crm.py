"""CrmGateway: reading one org's records page by page, counting them, and writing a few back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from domain.sync import ApiUsage

__all__ = [
    "CrmAuthError",
    "CrmError",
    "CrmGateway",
    "CrmGatewayFactory",
    "CrmInvalidFieldError",
    "CrmLimitExceededError",
    "CrmRecord",
    "CrmRecordPage",
    "CrmRequestError",
    "CrmTransientError",
    "CrmValue",
    "ObjectSchema",
    "OrgCredentials",
]

# Canonical field values, the same from every adapter: bool, int, float, str (dates `YYYY-MM-DD`,
# datetimes `YYYY-MM-DDTHH:MM:SS.mmmZ`, ids 18 characters), or None (empty text is None).
CrmValue = str | int | float | bool | None


class CrmError(Exception):
    """Base class of everything a CrmGateway raises."""


class CrmTransientError(CrmError):
    """5xx, 429, timeouts, connection resets: retried with backoff, then raised if they persist."""


class CrmLimitExceededError(CrmError):
    """The org's daily API limit is spent (REQUEST_LIMIT_EXCEEDED); the org is parked until the next run."""


class CrmAuthError(CrmError):
    """The credentials were refused (invalid_grant, invalid client): never retried; a human must act."""


class CrmRequestError(CrmError):
    """A request the CRM rejects for good (a 400 other than INVALID_FIELD, a 403, 404): never retried."""


class CrmInvalidFieldError(CrmRequestError):
    """A selected field is unknown or no longer visible (INVALID_FIELD): describe again and retry once."""


@dataclass(frozen=True, slots=True)
class CrmRecord:
    """One record: its 18-character id, SystemModstamp, soft-delete flag and every other field read."""

    id: str
    modstamp: datetime
    is_deleted: bool
    values: Mapping[str, CrmValue] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CrmRecordPage:
    """Records in (SystemModstamp, Id) order, deleted ones included with `is_deleted` set."""

    records: Sequence[CrmRecord]


@dataclass(frozen=True, slots=True)
class ObjectSchema:
    """The fields of an object that the integration user can read, with their Salesforce types."""

    name: str
    fields: Mapping[str, str]

    @property
    def has_currency(self) -> bool:
        return "CurrencyIsoCode" in self.fields


@dataclass(frozen=True)
class OrgCredentials:
    """How to log in to one org. `secrets` are decrypted values: never log, store or return them."""

    flow: str  # password | client_credentials | jwt | csv | memory
    login_url: str | None = None
    username: str | None = None
    client_id: str | None = None
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)


class CrmGateway(Protocol):
    """One org's CRM. Every call has a timeout and transient errors are retried inside; what escapes is a
    CrmError subclass."""

    async def describe(self, sobject: str) -> ObjectSchema:
        """The readable fields of `sobject` (fields hidden by field-level security are absent)."""
        ...

    def changes(
        self,
        schema: ObjectSchema,
        since: datetime | None,
        until: datetime | None = None,
        *,
        bulk: bool = False,
    ) -> AsyncIterator[CrmRecordPage]:
        """Pages of records with since <= SystemModstamp < until (either bound may be None),
        deleted ones included, ordered by (SystemModstamp, Id). `bulk` asks for Bulk API 2.0 where the
        adapter has it (large first loads)."""
        ...

    async def count(self, sobject: str) -> int:
        """How many live (not deleted) records the object has: SELECT COUNT()."""
        ...

    async def limits(self) -> ApiUsage:
        """Log in if needed and read the org's daily API usage (the connection test)."""
        ...

    def api_usage(self) -> ApiUsage | None:
        """Daily API usage as the last response reported it (Sforce-Limit-Info); None before any call."""
        ...

    async def create(self, sobject: str, values: Mapping[str, CrmValue]) -> str:
        """Create one record and return its 18-character id."""
        ...

    async def close(self) -> None:
        """Release connections and threads."""
        ...


class CrmGatewayFactory(Protocol):
    """Builds the gateway for one org from its kind, address and decrypted credentials."""

    def open(self, kind: str, instance_url: str | None, credentials: OrgCredentials) -> CrmGateway: ...
