"""CsvCrmGateway: an org read from a folder of CSV exports named by object (`Account.csv`, …), the same
layout the fake Salesforce seeds from; files are loaded once, on first use."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from pathlib import Path

from adapters.crm.canonical import parse_datetime
from adapters.crm.memory import InMemoryCrmGateway, MemoryTable, standard_field_type
from application.ports.crm import CrmReadOnlyError, CrmRecordPage, CrmRequestError, CrmValue, ObjectSchema
from domain.errors import InvariantViolationError
from domain.ids import SalesforceId
from domain.sync import ApiUsage

__all__ = ["CsvCrmGateway"]

_REQUIRED = ("Id", "SystemModstamp")


class CsvCrmGateway(InMemoryCrmGateway):
    def __init__(self, folder: Path, *, page_size: int = 2000) -> None:
        super().__init__(page_size=page_size)
        self.folder = folder

    def _table(self, sobject: str) -> MemoryTable | None:
        """The object's rows, checked once on load: every row needs a Salesforce Id and a SystemModstamp.

        Raises CrmRequestError naming the file and line of the first problem (not UTF-8, no header, a
        missing column, a malformed id or timestamp, a duplicated id).
        """
        if sobject in self.tables:
            return self.tables[sobject]
        if not self.folder.is_dir():
            raise CrmRequestError(f"{self.folder} is not a folder of CSV exports")
        path = self.folder / f"{sobject}.csv"
        if not path.is_file():
            return None
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                table = self._read(path, csv.DictReader(handle))
        except UnicodeDecodeError as exc:
            raise CrmRequestError(f"{path.name} is not UTF-8 text (byte {exc.start})") from None
        except csv.Error as exc:
            raise CrmRequestError(f"{path.name} is not a readable CSV file: {exc}") from None
        self.tables[sobject] = table
        return table

    @staticmethod
    def _read(path: Path, reader: csv.DictReader[str]) -> MemoryTable:
        columns = reader.fieldnames or []
        missing = [name for name in _REQUIRED if name not in columns]
        if missing:
            raise CrmRequestError(f"{path.name} has no {' or '.join(missing)} column (line 1)")
        table = MemoryTable({name: standard_field_type(name) for name in columns if name})
        for row in reader:
            line = reader.line_num
            if None in row or any(value is None for value in row.values()):
                raise CrmRequestError(
                    f"{path.name} line {line} has a different number of cells than the header"
                )
            try:
                record_id = SalesforceId.parse(row["Id"]).value
                parse_datetime(row["SystemModstamp"])
            except (InvariantViolationError, ValueError) as exc:
                raise CrmRequestError(f"{path.name} line {line}: {exc}") from None
            if record_id in table.rows:
                raise CrmRequestError(f"{path.name} line {line}: id {record_id} appears twice")
            row.setdefault("IsDeleted", "false")
            table.rows[record_id] = {**row, "Id": record_id}
        table.fields.setdefault("IsDeleted", "boolean")
        return table

    async def changes(
        self,
        schema: ObjectSchema,
        since: datetime | None,
        until: datetime | None = None,
        *,
        bulk: bool = False,
    ) -> AsyncIterator[CrmRecordPage]:
        """Raises CrmRequestError naming the file for a value its column's type cannot hold."""
        try:
            async for page in super().changes(schema, since, until, bulk=bulk):
                yield page
        except (InvariantViolationError, ValueError) as exc:
            raise CrmRequestError(f"{schema.name}.csv: {exc}") from None

    async def create(self, sobject: str, values: Mapping[str, CrmValue]) -> str:
        """Always raises CrmReadOnlyError: the files are an export, and writing them would reach no one."""
        raise CrmReadOnlyError(
            "this org is read from CSV exports, so it is read-only: connect it to Salesforce to create"
            f" a {sobject} there"
        )

    async def find_marked(
        self, sobject: str, marker: str, *, parent_field: str, parent_id: str, since: datetime
    ) -> str | None:
        """Nothing is ever written to a CSV org, so nothing carries a marker."""
        return None

    async def limits(self) -> ApiUsage:
        """A CSV org has no API budget; the test is that the folder can be read."""
        if not self.folder.is_dir():
            raise CrmRequestError(f"{self.folder} is not a folder of CSV exports")
        return ApiUsage(0, 0)
