"""One org's records: a table per object holding immutable row tuples, with Salesforce's write rules.

Rows are tuples in describe field order, so a query result is a list of references that stays fixed
(Salesforce's cursor semantics) while later writes replace rows instead of changing them. Values are
wire-ready: datetimes and dates as canonical strings (see `timefmt`), numbers, booleans, None.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from simulators.salesforce.ids import IdMinter
from simulators.salesforce.schema import STANDARD_OBJECTS, ObjectDef, object_def
from simulators.salesforce.timefmt import datetime_from_canonical, format_datetime

__all__ = ["FakeTable", "OrgData", "Row", "Value"]

Value = Any  # str | int | float | bool | None, kept loose so comparisons stay cheap and untyped
Row = tuple[Value, ...]

_CLOSED_STAGES = {"Closed Won": (True, True), "Closed Lost": (True, False)}
_CLOSED_TASK_STATUSES = {"Completed", "Deferred"}


class FakeTable:
    """All rows of one object in one org, in insertion order, with an id index."""

    def __init__(self, definition: ObjectDef) -> None:
        self.definition = definition
        self.columns: dict[str, int] = {name: index for index, name in enumerate(definition.field_names)}
        self.rows: list[Row] = []
        self.positions: dict[str, int] = {}
        # Ids that exist but stay invisible to queries until this many more queries have run (fault).
        self.late: dict[str, int] = {}
        self.boolean_fields = tuple(f.name for f in definition.fields if f.type == "boolean")

    @property
    def name(self) -> str:
        return self.definition.name

    def get(self, record_id: str) -> Row | None:
        position = self.positions.get(record_id)
        return None if position is None else self.rows[position]

    def add(self, row: Row) -> None:
        self.positions[row[0]] = len(self.rows)
        self.rows.append(row)

    def put(self, row: Row) -> None:
        self.rows[self.positions[row[0]]] = row

    def as_dict(self, row: Row) -> dict[str, Value]:
        return dict(zip(self.definition.field_names, row, strict=True))

    def from_dict(self, values: Mapping[str, Value]) -> Row:
        return tuple(values.get(name) for name in self.definition.field_names)


class OrgData:
    """The tables of one org plus the rules Salesforce applies on every write (ids, audit, derived fields)."""

    def __init__(self, pod: str, *, multi_currency: bool = False, currency: str = "USD") -> None:
        self.multi_currency = multi_currency
        self.currency = currency
        self.tables: dict[str, FakeTable] = {
            name: FakeTable(object_def(name, multi_currency=multi_currency)) for name in STANDARD_OBJECTS
        }
        self._by_lower = {name.lower(): table for name, table in self.tables.items()}
        self._by_prefix = {table.definition.key_prefix: table for table in self.tables.values()}
        self.pod = pod
        self.minter = IdMinter(pod)
        # Seeded ids that came from elsewhere must be noted so minted ids never collide with them.
        self.observe_ids = True
        self._last_stamp = ""

    def table(self, name: str) -> FakeTable | None:
        return self._by_lower.get(name.lower())

    def lookup(self, record_id: str) -> tuple[FakeTable, Row] | None:
        table = self._by_prefix.get(record_id[:3])
        if table is None:
            return None
        row = table.get(record_id)
        return None if row is None else (table, row)

    def stamp(self) -> str:
        """A modstamp for a write now: never earlier than (and never equal to) the previous one."""
        now = format_datetime(datetime.now(UTC))
        if now <= self._last_stamp:
            now = format_datetime(datetime_from_canonical(self._last_stamp) + timedelta(milliseconds=1))
        self._last_stamp = now
        return now

    def note_stamp(self, stamp: str | None) -> None:
        """Keep later writes after seeded history (seeded modstamps may lie in the future)."""
        if stamp and stamp > self._last_stamp:
            self._last_stamp = stamp

    # -- writes -------------------------------------------------------------------------------------

    def load(self, object_name: str, values: dict[str, Value]) -> str:
        """Add a record as given (seeding): mints an Id if missing, fills defaults, keeps audit fields."""
        table = self.tables[object_name]
        values.setdefault("Id", None)
        if values["Id"] is None:
            values["Id"] = self.minter.mint(table.definition.key_prefix)
        elif self.observe_ids:
            self.minter.observe(str(values["Id"]))
        self._fill_defaults(table, values)
        self._derive(table, values)
        self.note_stamp(values.get("SystemModstamp"))
        table.add(table.from_dict(values))
        return str(values["Id"])

    def insert(self, object_name: str, values: Mapping[str, Value], *, user_id: str) -> str:
        table = self.tables[object_name]
        record = dict(values)
        record["Id"] = self.minter.mint(table.definition.key_prefix)
        stamp = self.stamp()
        for name in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
            if name in table.columns:
                record[name] = stamp
        for name in ("CreatedById", "LastModifiedById"):
            if name in table.columns:
                record[name] = user_id
        if "OwnerId" in table.columns and record.get("OwnerId") is None:
            record["OwnerId"] = user_id
        self._fill_defaults(table, record)
        self._derive(table, record)
        table.add(table.from_dict(record))
        return str(record["Id"])

    def update(self, object_name: str, record_id: str, values: Mapping[str, Value], *, user_id: str) -> None:
        table = self.tables[object_name]
        row = table.get(record_id)
        if row is None:
            raise KeyError(record_id)
        record = table.as_dict(row)
        record.update(values)
        stamp = self.stamp()
        record["LastModifiedDate"] = stamp
        record["SystemModstamp"] = stamp
        if "LastModifiedById" in table.columns:
            record["LastModifiedById"] = user_id
        self._derive(table, record)
        table.put(table.from_dict(record))

    def delete(self, object_name: str, record_id: str, *, user_id: str) -> None:
        """Soft delete: the row stays for queryAll with IsDeleted = true and a fresh SystemModstamp."""
        self.update(object_name, record_id, {"IsDeleted": True}, user_id=user_id)
        if object_name == "Opportunity":
            items = self.tables["OpportunityLineItem"]
            column = items.columns["OpportunityId"]
            deleted = items.columns["IsDeleted"]
            for row in [row for row in items.rows if row[column] == record_id and not row[deleted]]:
                self.update("OpportunityLineItem", row[0], {"IsDeleted": True}, user_id=user_id)

    def restamp(self, object_name: str, record_ids: Iterable[str], stamp: str) -> None:
        """Set SystemModstamp without other changes (fault injection)."""
        table = self.tables[object_name]
        column = table.columns["SystemModstamp"]
        for record_id in record_ids:
            row = table.get(record_id)
            if row is not None:
                table.put((*row[:column], stamp, *row[column + 1 :]))

    # -- Salesforce's write-time rules -----------------------------------------------------------------

    def _fill_defaults(self, table: FakeTable, record: dict[str, Value]) -> None:
        for name in table.boolean_fields:
            if record.get(name) is None:
                record[name] = name == "IsActive"
        if self.multi_currency and "CurrencyIsoCode" in table.columns and not record.get("CurrencyIsoCode"):
            record["CurrencyIsoCode"] = self.currency

    def _derive(self, table: FakeTable, record: dict[str, Value]) -> None:
        name = table.name
        if name in {"Contact", "User"}:
            record["Name"] = " ".join(
                part for part in (record.get("FirstName"), record.get("LastName")) if part
            )
        elif name == "Opportunity":
            closed, won = _CLOSED_STAGES.get(str(record.get("StageName")), (False, False))
            record["IsClosed"], record["IsWon"] = closed, won
        elif name in {"Task", "Event"}:
            if name == "Task":
                record["IsClosed"] = record.get("Status") in _CLOSED_TASK_STATUSES
            record["AccountId"] = self._account_of(record.get("WhatId"), record.get("WhoId"))
        elif name == "PricebookEntry":
            product = self.tables["Product2"].get(str(record.get("Product2Id")))
            if product is not None:
                products = self.tables["Product2"].columns
                record["Name"] = product[products["Name"]]
                record["ProductCode"] = product[products["ProductCode"]]
        elif name == "OpportunityLineItem":
            self._derive_line_item(record)

    def _derive_line_item(self, record: dict[str, Value]) -> None:
        entries = self.tables["PricebookEntry"]
        entry = entries.get(str(record.get("PricebookEntryId")))
        if entry is not None:
            columns = entries.columns
            record["Product2Id"] = entry[columns["Product2Id"]]
            record["ListPrice"] = entry[columns["UnitPrice"]]
            record["ProductCode"] = entry[columns["ProductCode"]]
            opportunity = self.tables["Opportunity"].get(str(record.get("OpportunityId")))
            opportunity_name = (
                "" if opportunity is None else opportunity[self.tables["Opportunity"].columns["Name"]]
            )
            record["Name"] = f"{opportunity_name} {entry[columns['Name']]}".strip()
            if record.get("UnitPrice") is None:
                record["UnitPrice"] = entry[columns["UnitPrice"]]
        quantity, price = record.get("Quantity"), record.get("UnitPrice")
        if quantity is not None and price is not None:
            record["TotalPrice"] = round(float(quantity) * float(price), 2)

    def _account_of(self, what_id: Value, who_id: Value) -> Value:
        for record_id in (what_id, who_id):
            if not record_id:
                continue
            found = self.lookup(str(record_id))
            if found is None:
                continue
            table, row = found
            if table.name == "Account":
                return row[0]
            if "AccountId" in table.columns and table.name in {"Contact", "Opportunity"}:
                return row[table.columns["AccountId"]]
        return None
