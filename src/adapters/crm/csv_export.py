"""CsvCrmGateway: an org read from a folder of CSV exports named by object (`Account.csv`, …), the same
layout the fake Salesforce seeds from; files are loaded once, on first use."""

from __future__ import annotations

import csv
from pathlib import Path

from adapters.crm.memory import InMemoryCrmGateway, MemoryTable, standard_field_type
from application.ports.crm import CrmRequestError
from domain.sync import ApiUsage

__all__ = ["CsvCrmGateway"]


class CsvCrmGateway(InMemoryCrmGateway):
    def __init__(self, folder: Path, *, page_size: int = 2000) -> None:
        super().__init__(page_size=page_size)
        self.folder = folder

    def _table(self, sobject: str) -> MemoryTable | None:
        if sobject in self.tables:
            return self.tables[sobject]
        if not self.folder.is_dir():
            raise CrmRequestError(f"{self.folder} is not a folder of CSV exports")
        path = self.folder / f"{sobject}.csv"
        if not path.is_file():
            return None
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            table = MemoryTable({name: standard_field_type(name) for name in reader.fieldnames or ()})
            for row in reader:
                row.setdefault("IsDeleted", "false")
                table.rows[row["Id"]] = dict(row)
        table.fields.setdefault("IsDeleted", "boolean")
        self.tables[sobject] = table
        return table

    async def limits(self) -> ApiUsage:
        """A CSV org has no API budget; the test is that the folder can be read."""
        if not self.folder.is_dir():
            raise CrmRequestError(f"{self.folder} is not a folder of CSV exports")
        return ApiUsage(0, 0)
