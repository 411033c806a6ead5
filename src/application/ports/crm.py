"""CrmGateway: reading one org's records page by page, counting them, and writing a few back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from domain.sync import ApiUsage

__all__ = [
    "CrmAuthError",
    "CrmColumns",
    "CrmCsv",
    "CrmError",
    "CrmGateway",
    "CrmGatewayFactory",
    "CrmInvalidFieldError",
    "CrmLimitExceededError",
    "CrmQueryExpiredError",
    "CrmReadOnlyError",
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


class CrmQueryExpiredError(CrmTransientError):
    """A query's server-side cursor expired between pages (INVALID_QUERY_LOCATOR): not retried by the
    gateway, since the same locator stays dead; the caller restarts the query from its committed cursor."""


class CrmLimitExceededError(CrmError):
    """The org's daily API limit is spent (REQUEST_LIMIT_EXCEEDED); the org is parked until the next run."""


class CrmAuthError(CrmError):
    """The credentials were refused (invalid_grant, invalid client): never retried; a human must act."""


class CrmRequestError(CrmError):
    """A request the CRM rejects for good (a 400 other than INVALID_FIELD, a 403, 404): never retried."""


class CrmReadOnlyError(CrmRequestError):
    """The org cannot be written to (a CSV export is a copy, not the CRM): nothing was created."""


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
class CrmColumns:
    """Records column by column: `ids[i]`, `modstamps[i]`, `deleted[i]` and `values[field][i]` are record i.

    The shape of a Bulk CSV page, and what a loader needs to build COPY rows without a Python object per
    record; every sequence has the same length.
    """

    ids: Sequence[str]
    modstamps: Sequence[datetime]
    deleted: Sequence[bool]
    values: Mapping[str, Sequence[CrmValue]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_records(cls, records: Sequence[CrmRecord]) -> CrmColumns:
        names = list(dict.fromkeys(name for record in records for name in record.values))
        return cls(
            [record.id for record in records],
            [record.modstamp for record in records],
            [record.is_deleted for record in records],
            {name: [record.values.get(name) for record in records] for name in names},
        )

    def records(self) -> list[CrmRecord]:
        names = list(self.values)
        rows = zip(*self.values.values(), strict=True) if names else ((),) * len(self.ids)
        return [
            CrmRecord(record_id, stamp, gone, dict(zip(names, row, strict=True)))
            for record_id, stamp, gone, row in zip(self.ids, self.modstamps, self.deleted, rows, strict=True)
        ]

    def slice(self, start: int, stop: int) -> CrmColumns:
        return CrmColumns(
            self.ids[start:stop],
            self.modstamps[start:stop],
            self.deleted[start:stop],
            {name: column[start:stop] for name, column in self.values.items()},
        )

    def last(self) -> tuple[datetime, str]:
        """The greatest (SystemModstamp, Id) of the records; raises ValueError when there are none."""
        return max(zip(self.modstamps, self.ids, strict=True))

    def deleted_count(self) -> int:
        return sum(self.deleted)


@dataclass(frozen=True, slots=True)
class CrmCsv:
    """A page as Bulk API 2.0 sends it: UTF-8 CSV with a header row of field names (`Owner.Name` for
    relationship paths), empty for null, in Salesforce's text forms; with every field's Salesforce type.
    For loaders that read CSV themselves (PostgreSQL COPY) and so need no Python object per record."""

    data: bytes
    fields: Mapping[str, str]


class CrmRecordPage:
    """Records in (SystemModstamp, Id) order, deleted ones included with `is_deleted` set. Held as the
    adapter read them (records, columns, or Bulk CSV) and turned into another form only when asked."""

    __slots__ = ("_columns", "_csv", "_parse", "_records")

    def __init__(
        self,
        records: Sequence[CrmRecord] | None = None,
        *,
        columns: CrmColumns | None = None,
        csv: CrmCsv | None = None,
        parse: Callable[[], CrmColumns] | None = None,
    ) -> None:
        """Exactly one of `records`, `columns` or `csv`; with `csv`, `parse` reads it into canonical
        columns when a consumer needs them. Raises ValueError otherwise."""
        if sum(source is not None for source in (records, columns, csv)) != 1 or (csv is None) != (
            parse is None
        ):
            raise ValueError("a page holds records, columns, or CSV with its parser: exactly one of them")
        self._records = records
        self._columns = columns
        self._csv = csv
        self._parse = parse

    @classmethod
    def from_csv(cls, csv: CrmCsv, parse: Callable[[], CrmColumns]) -> CrmRecordPage:
        """A Bulk CSV page; `parse` reads it into canonical columns when a consumer needs them."""
        return cls(csv=csv, parse=parse)

    @property
    def csv(self) -> CrmCsv | None:
        """The page as Bulk CSV, when the adapter read it so; None otherwise."""
        return self._csv

    @property
    def records(self) -> Sequence[CrmRecord]:
        if self._records is None:
            self._records = self.columns.records()
        return self._records

    @property
    def columns(self) -> CrmColumns:
        if self._columns is None:
            if self._parse is not None:
                self._columns = self._parse()
            else:
                assert self._records is not None
                self._columns = CrmColumns.from_records(self._records)
        return self._columns


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
        """Create one record and return its 18-character id. Raises CrmReadOnlyError for an org that
        cannot be written to."""
        ...

    async def find_marked(
        self, sobject: str, marker: str, *, parent_field: str, parent_id: str, since: datetime
    ) -> str | None:
        """The id of a live `sobject` record whose Description contains `marker`, among those whose
        `parent_field` is `parent_id` and that were created at or after `since`; None when there is none.

        How a write interrupted after the CRM created the record finds it again instead of creating a
        second one (Description cannot be filtered on in SOQL, so the parent and the time narrow it).
        """
        ...

    async def close(self) -> None:
        """Release connections and threads."""
        ...


class CrmGatewayFactory(Protocol):
    """Builds the gateway for one org from its kind, address and decrypted credentials."""

    def open(self, kind: str, instance_url: str | None, credentials: OrgCredentials) -> CrmGateway: ...
