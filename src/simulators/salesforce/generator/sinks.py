"""Where generated records go: straight into in-memory orgs, or streamed to per-org CSV directories."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import IO, Any, Protocol

from simulators.salesforce.generator.catalog import BusinessUnit
from simulators.salesforce.ids import IdMinter
from simulators.salesforce.org import FakeOrg, new_org, pod_for
from simulators.salesforce.schema import object_def
from simulators.salesforce.store import OrgData

__all__ = ["CsvSink", "MemorySink", "RecordSink"]


class RecordSink(Protocol):
    def minter(self, unit: BusinessUnit) -> IdMinter: ...

    def emit(self, unit: BusinessUnit, object_name: str, record: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


class MemorySink:
    """Loads records into one `OrgData` per business unit; `orgs()` turns them into servable orgs."""

    def __init__(self) -> None:
        self.data: dict[int, OrgData] = {}
        self.units: dict[int, BusinessUnit] = {}

    def _data(self, unit: BusinessUnit) -> OrgData:
        if unit.index not in self.data:
            data = OrgData(pod_for(unit.index), multi_currency=unit.multi_currency, currency=unit.currency)
            # The generator mints with this org's own minter, so there is nothing foreign to note.
            data.observe_ids = False
            self.data[unit.index] = data
            self.units[unit.index] = unit
        return self.data[unit.index]

    def minter(self, unit: BusinessUnit) -> IdMinter:
        return self._data(unit).minter

    def emit(self, unit: BusinessUnit, object_name: str, record: dict[str, Any]) -> None:
        self._data(unit).load(object_name, record)

    def close(self) -> None:
        return None

    def orgs(self, seed: int = 0) -> list[FakeOrg]:
        return [
            new_org(self.units[index].name, index, data=self.data[index], seed=seed)
            for index in sorted(self.data)
        ]


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return value


class CsvSink:
    """Streams records to `root/{org}/{Object}.csv` with Salesforce API field names (constant memory)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._files: dict[tuple[int, str], tuple[IO[str], Any, tuple[str, ...]]] = {}
        self._minters: dict[int, IdMinter] = {}

    def minter(self, unit: BusinessUnit) -> IdMinter:
        return self._minters.setdefault(unit.index, IdMinter(pod_for(unit.index)))

    def emit(self, unit: BusinessUnit, object_name: str, record: dict[str, Any]) -> None:
        key = (unit.index, object_name)
        if key not in self._files:
            folder = self.root / unit.name
            folder.mkdir(parents=True, exist_ok=True)
            handle = (folder / f"{object_name}.csv").open("w", newline="", encoding="utf-8")
            names = object_def(object_name, multi_currency=unit.multi_currency).field_names
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(names)
            self._files[key] = (handle, writer, names)
        _, writer, names = self._files[key]
        writer.writerow([_csv_value(record.get(name)) for name in names])

    def close(self) -> None:
        for handle, _, _ in self._files.values():
            handle.close()
        self._files.clear()
