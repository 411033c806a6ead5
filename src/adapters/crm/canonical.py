"""Canonical field values: what every CRM adapter turns REST JSON, Bulk CSV and CSV exports into."""

from __future__ import annotations

import csv
import functools
import io
import re
import string
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from application.ports.crm import CrmColumns, CrmRecord, CrmValue, ObjectSchema
from domain.ids import SalesforceId

__all__ = [
    "SKIPPED_TYPES",
    "RecordReader",
    "fast_id",
    "format_datetime",
    "parse_datetime",
    "soql_datetime",
]

# Compound and binary types: their components are separate fields, or they cannot be queried in bulk.
SKIPPED_TYPES = frozenset({"address", "location", "base64", "anyType", "complexvalue", "json"})
_BOOLEAN = {"true": True, "false": False, "1": True, "0": False}
_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$"
)


def _utc_millis(text: str) -> bool:
    """True for the two forms Salesforce sends: `…00.000+0000` (REST) and `…00.000Z` (Bulk 2.0)."""
    return (len(text) == 28 and text.endswith("+0000")) or (len(text) == 24 and text[-1] == "Z")


def parse_datetime(text: str) -> datetime:
    """`2024-11-07T07:00:00.000+0000`, `…Z`, `…+00:00` → aware UTC datetime; raises ValueError."""
    if _utc_millis(text) and text[19] == ".":
        return datetime.fromisoformat(text[:23]).replace(tzinfo=UTC)
    match = _DATETIME.match(text.strip())
    if match is None:
        raise ValueError(f"not a datetime: {text!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    moment = datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), micros, tzinfo=UTC
    )
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return moment


def format_datetime(moment: datetime) -> str:
    """The canonical text of a datetime: UTC, milliseconds, `Z`."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def soql_datetime(moment: datetime) -> str:
    """A SOQL datetime literal (pass SOQL through `params=` so the `+`/`:` survive URL encoding)."""
    return format_datetime(moment)


def _text(raw: Any) -> CrmValue:
    if raw is None or raw == "":
        return None
    return str(raw)


def _boolean(raw: Any) -> CrmValue:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        return raw
    return _BOOLEAN[str(raw).strip().lower()]


def _integer(raw: Any) -> CrmValue:
    if raw is None or raw == "":
        return None
    return int(float(raw))


def _number(raw: Any) -> CrmValue:
    if raw is None or raw == "":
        return None
    return float(raw)


def _date(raw: Any) -> CrmValue:
    if raw is None or raw == "":
        return None
    return str(raw)[:10]


def _datetime(raw: Any) -> CrmValue:
    if raw is None or raw == "":
        return None
    text = str(raw)
    if _utc_millis(text) and text[19] == ".":
        return text[:23] + "Z"  # already UTC to the millisecond: skip the parse (hot path)
    return format_datetime(parse_datetime(text))


_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
# Each character of an id body as "1" (upper-case letter) or "0": the checksum bits in one C call.
_CASE_BITS = str.maketrans(
    {
        **dict.fromkeys(string.ascii_uppercase, "1"),
        **dict.fromkeys(string.ascii_lowercase + string.digits, "0"),
    }
)


def fast_id(text: str) -> str:
    """The 18-character form of a 15- or 18-character id, as SalesforceId.parse gives it but ~10x faster.

    Ids are most of the per-record work of a first load, and nearly all are distinct, so a cache does not
    help; anything unusual (spaces, non-ASCII, a wrong checksum) goes through SalesforceId.parse, which
    raises the same InvalidIdError as before.
    """
    if len(text) in (15, 18) and text.isascii() and text.isalnum():
        bits = text[:15].translate(_CASE_BITS)
        suffix = (
            _ID_ALPHABET[int(bits[4::-1], 2)]
            + _ID_ALPHABET[int(bits[9:4:-1], 2)]
            + _ID_ALPHABET[int(bits[14:9:-1], 2)]
        )
        if len(text) == 15:
            return text + suffix
        if text[15:].upper() == suffix:
            return text[:15] + suffix
    return SalesforceId.parse(text).value


@functools.lru_cache(maxsize=65_536)
def _normalised_id(text: str) -> str:
    # Lookups repeat (owners, accounts, price book entries), so the cache still saves the slicing.
    return fast_id(text)


def _identifier(raw: Any) -> CrmValue:
    if raw is None or raw == "":
        return None
    return _normalised_id(str(raw))


_CONVERTERS: dict[str, Callable[[Any], CrmValue]] = {
    "boolean": _boolean,
    "int": _integer,
    "double": _number,
    "currency": _number,
    "percent": _number,
    "date": _date,
    "datetime": _datetime,
    "id": _identifier,
    "reference": _identifier,
}


def _flatten(raw: Mapping[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, value in raw.items():
        if key == "attributes":
            continue
        if isinstance(value, Mapping):
            # Relationship objects (`Owner: {Name: …}`) and compound fields become dotted names.
            _flatten(value, f"{prefix}{key}.", out)
        else:
            out[f"{prefix}{key}"] = value


def _modstamp(text: str) -> datetime:
    if len(text) == 24 and text[19] == "." and text[-1] == "Z":
        return datetime.fromisoformat(text)  # Bulk 2.0's form, the hot path: parsed in C
    return parse_datetime(text)


class RecordReader:
    """Turns raw rows of one object (JSON records or CSV dicts) into CrmRecords, typed by its schema."""

    def __init__(self, schema: ObjectSchema) -> None:
        self._fields = [
            (name, _CONVERTERS.get(kind, _text))
            for name, kind in schema.fields.items()
            if name not in ("Id", "SystemModstamp", "IsDeleted")
        ]
        self._nested = any("." in name for name in schema.fields)

    def read_csv(self, text: str) -> CrmColumns:
        """A Bulk 2.0 CSV page, converted column by column (one converter call per cell, no per-row
        dicts or records): the first load's hot path."""
        rows = csv.reader(io.StringIO(text))
        header = next(rows, None)
        columns = list(zip(*rows, strict=True)) if header is not None else []
        if not columns:
            return CrmColumns([], [], [], {name: [] for name, _ in self._fields})
        width = len(columns[0])
        position = {name: index for index, name in enumerate(header or ())}
        empty = ("",) * width

        def column(name: str) -> tuple[str, ...]:
            index = position.get(name)
            return empty if index is None else columns[index]

        return CrmColumns(
            [fast_id(value) for value in column("Id")],  # all distinct: a cache would only churn
            [_modstamp(value) for value in column("SystemModstamp")],
            [value.lower() in ("true", "1") for value in column("IsDeleted")],
            {
                # Text is most columns: empty -> None without a Python call per cell.
                name: [value or None for value in column(name)]
                if convert is _text
                else list(map(convert, column(name)))
                for name, convert in self._fields
            },
        )

    def read_json(self, raws: Sequence[Mapping[str, Any]]) -> CrmColumns:
        """A REST query page's records (JSON objects), converted column by column."""
        if self._nested:
            # Relationship objects (`Owner: {Name: …}`) become dotted names, as the schema lists them.
            flat = []
            for raw in raws:
                out: dict[str, Any] = {}
                _flatten(raw, "", out)
                flat.append(out)
            raws = flat
        return CrmColumns(
            [_normalised_id(str(raw["Id"])) for raw in raws],
            [_modstamp(str(raw["SystemModstamp"])) for raw in raws],
            [bool(_boolean(raw.get("IsDeleted"))) for raw in raws],
            {
                name: [
                    value if value.__class__ is str and value else _text(value)
                    for value in [raw.get(name) for raw in raws]
                ]
                if convert is _text
                else [convert(raw.get(name)) for raw in raws]
                for name, convert in self._fields
            },
        )

    def read(self, raw: Mapping[str, Any]) -> CrmRecord:
        # Every REST record carries an `attributes` object, which no field reads; flatten only for
        # relationship or compound objects (`Owner: {Name: …}`).
        if any(isinstance(value, dict) and key != "attributes" for key, value in raw.items()):
            flat: dict[str, Any] = {}
            _flatten(raw, "", flat)
            raw = flat
        deleted = raw.get("IsDeleted")
        return CrmRecord(
            id=_normalised_id(str(raw["Id"])),
            modstamp=parse_datetime(str(raw["SystemModstamp"])),
            is_deleted=bool(_boolean(deleted)) if deleted is not None else False,
            values={name: convert(raw.get(name)) for name, convert in self._fields},
        )
