"""InMemoryCrmGateway: an org held in memory (raw rows by object), read through the same canonical rules
as the Salesforce adapter; the CSV adapter and the unit-test fake build on it."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from adapters.crm.canonical import RecordReader, format_datetime, parse_datetime
from application.ports.crm import (
    CrmInvalidFieldError,
    CrmRecordPage,
    CrmRequestError,
    CrmValue,
    ObjectSchema,
)
from domain.ids import SalesforceId
from domain.sync import ApiUsage

__all__ = ["InMemoryCrmGateway", "MemoryTable", "standard_field_type"]

_DATETIMES = {"CreatedDate", "LastModifiedDate", "SystemModstamp", "ActivityDateTime", "StartDateTime",
              "EndDateTime", "LastViewedDate", "LastReferencedDate"}  # fmt: skip
_DATES = {"ActivityDate", "CloseDate", "LastActivityDate", "ServiceDate"}
_INTEGERS = {"DurationInMinutes", "NumberOfEmployees"}
_NUMBERS = {"Amount", "AnnualRevenue", "ListPrice", "TotalPrice", "UnitPrice", "Probability", "Quantity",
            "ExpectedRevenue", "Discount"}  # fmt: skip
_PREFIXES = {"Account": "001", "Contact": "003", "Opportunity": "006", "OpportunityLineItem": "00k",
             "Product2": "01t", "PricebookEntry": "01u", "Task": "00T", "Event": "00U"}  # fmt: skip


def standard_field_type(name: str) -> str:
    """The Salesforce type of a standard field of the synced objects, by name (CSV exports carry no
    types); anything not recognised is text."""
    if name == "Id":
        return "id"
    if name in _DATETIMES:
        return "datetime"
    if name in _DATES:
        return "date"
    if name in _INTEGERS:
        return "int"
    if name in _NUMBERS:
        return "currency"
    if (name.startswith("Is") and name[2:3].isupper()) or name == "UseStandardPrice":
        return "boolean"
    if name.endswith("Id") and len(name) > 2:
        return "reference"
    return "string"


@dataclass
class MemoryTable:
    """Raw rows of one object by id; `fields` maps each column to its Salesforce type."""

    fields: dict[str, str]
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)


class InMemoryCrmGateway:
    """Rows are raw values as Salesforce or a CSV export gives them; reads return canonical records."""

    def __init__(
        self,
        tables: Mapping[str, MemoryTable] | None = None,
        *,
        page_size: int = 2000,
        api_max: int | None = None,
    ) -> None:
        self.tables: dict[str, MemoryTable] = dict(tables or {})
        self.page_size = page_size
        self.hidden: set[tuple[str, str]] = set()
        self.api_max = api_max
        self.calls = 0
        self._ids = itertools.count(1)

    @classmethod
    def from_rows(cls, rows: Mapping[str, Iterable[Mapping[str, Any]]], **options: Any) -> InMemoryCrmGateway:
        """Tables typed by standard field names, from raw rows per object."""
        tables: dict[str, MemoryTable] = {}
        for sobject, items in rows.items():
            table = MemoryTable({})
            for item in items:
                for name in item:
                    table.fields.setdefault(name, standard_field_type(name))
                table.rows[str(item["Id"])] = dict(item)
            tables[sobject] = table
        return cls(tables, **options)

    # -- loading hook for subclasses -----------------------------------------------------------------

    def _table(self, sobject: str) -> MemoryTable | None:
        return self.tables.get(sobject)

    def _spend(self) -> None:
        self.calls += 1

    # -- the port ------------------------------------------------------------------------------------

    def api_usage(self) -> ApiUsage | None:
        return None if self.api_max is None else ApiUsage(min(self.calls, self.api_max), self.api_max)

    async def limits(self) -> ApiUsage:
        self._spend()
        return self.api_usage() or ApiUsage(self.calls, 0)

    async def describe(self, sobject: str) -> ObjectSchema:
        self._spend()
        table = self._table(sobject)
        fields = dict(table.fields) if table else {"Id": "id", "SystemModstamp": "datetime"}
        return ObjectSchema(sobject, {k: v for k, v in fields.items() if (sobject, k) not in self.hidden})

    async def count(self, sobject: str) -> int:
        self._spend()
        table = self._table(sobject)
        return 0 if table is None else sum(1 for row in table.rows.values() if not _deleted(row))

    async def changes(
        self,
        schema: ObjectSchema,
        since: datetime | None,
        until: datetime | None = None,
        *,
        bulk: bool = False,
    ) -> AsyncIterator[CrmRecordPage]:
        table = self._table(schema.name)
        if table is None:
            return
        unknown = [name for name in schema.fields if name not in table.fields]
        if unknown or any((schema.name, name) in self.hidden for name in schema.fields):
            raise CrmInvalidFieldError("INVALID_FIELD")
        reader = RecordReader(schema)
        selected = []
        for row in table.rows.values():
            stamp = parse_datetime(str(row["SystemModstamp"]))
            if (until is None or stamp < until) and (since is None or stamp >= since):
                selected.append((stamp, SalesforceId.parse(str(row["Id"])).value, row))
        selected.sort(key=lambda item: (item[0], item[1]))
        for start in range(0, len(selected), self.page_size):
            self._spend()
            chunk = selected[start : start + self.page_size]
            yield CrmRecordPage([reader.read({n: row.get(n) for n in schema.fields}) for _, _, row in chunk])

    async def create(self, sobject: str, values: Mapping[str, CrmValue]) -> str:
        self._spend()
        prefix = _PREFIXES.get(sobject, "a00")
        record_id = SalesforceId.parse(f"{prefix}{next(self._ids):012d}").value
        self.put(sobject, {**values, "Id": record_id})
        return record_id

    async def find_marked(
        self, sobject: str, marker: str, *, parent_field: str, parent_id: str, since: datetime
    ) -> str | None:
        self._spend()
        table = self._table(sobject)
        if table is None:
            return None
        found = [
            (parse_datetime(str(row["CreatedDate"])), str(row["Id"]))
            for row in table.rows.values()
            if not _deleted(row)
            and row.get(parent_field) == parent_id
            and row.get("CreatedDate")
            and parse_datetime(str(row["CreatedDate"])) >= since
            and marker in str(row.get("Description") or "")
        ]
        return min(found)[1] if found else None

    async def close(self) -> None:
        return None

    # -- changing the org (tests, demos) ---------------------------------------------------------------

    def put(self, sobject: str, row: Mapping[str, Any], stamp: datetime | None = None) -> None:
        """Insert or update a row, stamping SystemModstamp (now, unless given)."""
        table = self.tables.setdefault(sobject, MemoryTable({"Id": "id", "SystemModstamp": "datetime"}))
        moment = format_datetime(stamp or datetime.now(UTC))
        current = table.rows.get(str(row["Id"]), {"IsDeleted": False, "CreatedDate": moment})
        updated = {**current, **row, "SystemModstamp": moment}
        for name in updated:
            table.fields.setdefault(name, standard_field_type(name))
        table.rows[str(row["Id"])] = updated

    def delete(self, sobject: str, record_id: str, stamp: datetime | None = None) -> None:
        """Soft delete as Salesforce does: the row stays (queryAll sees it), IsDeleted and a new stamp."""
        table = self.tables.get(sobject)
        if table is None or record_id not in table.rows:
            raise CrmRequestError(f"no {sobject} {record_id}")
        self.put(sobject, {"Id": record_id, "IsDeleted": True}, stamp)


def _deleted(row: Mapping[str, Any]) -> bool:
    value = row.get("IsDeleted")
    return value is True or str(value).lower() == "true"
