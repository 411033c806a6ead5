"""Seeds an org from a directory of CSV exports named by object (`Account.csv`, `Contact.csv`, …) with
Salesforce API field names, so a real export can be replayed.

Missing files and columns are fine (audit fields default to load time). Any malformed file stops the load
with a `SeedFileError` naming the file, line and column, before the org exists: never half-loaded.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from simulators.salesforce.ids import to_18
from simulators.salesforce.org import FakeOrg, new_org, pod_for
from simulators.salesforce.schema import CURRENCY_OBJECTS, FieldDef, ObjectDef, object_def
from simulators.salesforce.store import OrgData
from simulators.salesforce.timefmt import now_datetime, parse_date, parse_datetime

__all__ = ["SEED_OBJECTS", "SeedFileError", "load_org_directory"]

# In dependency order, so lookups made while deriving fields (e.g. a line item's product) resolve.
SEED_OBJECTS = (
    "User",
    "Product2",
    "Pricebook2",
    "PricebookEntry",
    "Account",
    "Contact",
    "Opportunity",
    "OpportunityLineItem",
    "Task",
    "Event",
)
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


class SeedFileError(ValueError):
    """A seed CSV that cannot be loaded; `str()` reads `Account.csv, line 4, column 3 (Phone): reason`."""

    def __init__(self, path: Path, line: int, column: int | None, field: str | None, reason: str) -> None:
        where = f"{path}, line {line}"
        if column is not None:
            where += f", column {column}" + (f" ({field})" if field else "")
        super().__init__(f"{where}: {reason}")
        self.path, self.line, self.column, self.field, self.reason = path, line, column, field, reason


def _parse(definition: FieldDef, text: str) -> Any:
    if text == "":
        return None
    kind = definition.type
    if kind == "boolean":
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"not a boolean: {text!r}")
    if kind == "int":
        return int(float(text)) if float(text).is_integer() else int(text)
    if kind in {"double", "currency", "percent"}:
        return float(text)
    if kind == "date":
        return parse_date(text[:10])
    if kind == "datetime":
        return parse_datetime(text)
    if kind in {"id", "reference"}:
        value = text.strip()
        if len(value) not in {15, 18} or not value.isalnum():
            raise ValueError(f"not a Salesforce id: {text!r}")
        return to_18(value)
    return text


def _read(path: Path, definition: ObjectDef) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, strict=True)
            try:
                header = next(reader)
            except StopIteration:
                return records
            fields: list[FieldDef] = []
            for column, name in enumerate(header, start=1):
                found = definition.field_named(name.strip())
                if found is None:
                    raise SeedFileError(path, 1, column, name, f"no field {name!r} on {definition.name}")
                fields.append(found)
            for row in reader:
                if not row:
                    continue
                if len(row) != len(fields):
                    raise SeedFileError(
                        path, reader.line_num, None, None, f"expected {len(fields)} values, found {len(row)}"
                    )
                record: dict[str, Any] = {}
                for column, (found, text) in enumerate(zip(fields, row, strict=True), start=1):
                    try:
                        record[found.name] = _parse(found, text)
                    except ValueError as error:
                        raise SeedFileError(path, reader.line_num, column, found.name, str(error)) from None
                records.append(record)
    except csv.Error as error:
        raise SeedFileError(path, reader.line_num, None, None, f"malformed CSV: {error}") from None
    except UnicodeDecodeError:
        raise SeedFileError(path, 1, None, None, "not UTF-8 text") from None
    return records


def _has_currency(directory: Path) -> bool:
    for name in CURRENCY_OBJECTS:
        path = directory / f"{name}.csv"
        if path.is_file():
            with path.open(newline="", encoding="utf-8-sig") as handle:
                header = next(csv.reader(handle), [])
            if any(column.strip().lower() == "currencyisocode" for column in header):
                return True
    return False


def load_org_directory(name: str, index: int, directory: Path, *, seed: int = 0) -> FakeOrg:
    """An org loaded from `directory`; raises SeedFileError (nothing is served) on a malformed file."""
    if not directory.is_dir():
        raise SeedFileError(directory, 0, None, None, "not a directory")
    multi_currency = _has_currency(directory)
    data = OrgData(pod_for(index), multi_currency=multi_currency)
    loaded = 0
    stamp = now_datetime()
    for object_name in SEED_OBJECTS:
        path = directory / f"{object_name}.csv"
        if not path.is_file():
            continue
        definition = object_def(object_name, multi_currency=multi_currency)
        for record in _read(path, definition):
            for audit in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
                if audit in data.tables[object_name].columns and record.get(audit) is None:
                    record[audit] = record.get("LastModifiedDate") or stamp
            data.load(object_name, record)
            loaded += 1
    if loaded == 0:
        raise SeedFileError(
            directory, 0, None, None, f"no CSV files named by object ({', '.join(SEED_OBJECTS)})"
        )
    return new_org(name, index, data=data, multi_currency=multi_currency, seed=seed)
