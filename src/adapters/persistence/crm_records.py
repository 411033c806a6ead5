"""SqlaCrmRecordRepository: synced CRM records land by COPY into a staging table, then one merge where a
newer (or equal) SystemModstamp wins, inside the caller's transaction.

Bulk CSV pages are COPYed as they came into text columns and converted in SQL (the same canonical values
RecordReader gives); other pages are converted column by column in Python. While an object's table holds
no rows of the org, a page is inserted without the merge, and falls back to it on the first id seen again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec
from sqlalchemy import Boolean, Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.crm.canonical import parse_datetime
from adapters.persistence.tables import (
    accounts,
    activities,
    contacts,
    opportunities,
    opportunity_line_items,
    pricebook_entries,
    products,
)
from application.ports.crm import CrmColumns, CrmCsv, CrmRecordPage, CrmValue
from application.ports.sync import PageSummary
from domain.sync import SyncCursor

__all__ = ["SYNCED_TABLES", "SqlaCrmRecordRepository"]

# Converters work on whole columns (one list in, one list out): a page is converted without a Python
# call per cell where a comprehension does.
Convert = Callable[[Sequence[CrmValue]], list[Any]]


def _text(column: Sequence[CrmValue]) -> list[Any]:
    return [value if value is None or value.__class__ is str else str(value) for value in column]


def _decimal(column: Sequence[CrmValue]) -> list[Any]:
    return [None if value is None else Decimal(str(value)) for value in column]


def _integer(column: Sequence[CrmValue]) -> list[Any]:
    return [None if value is None else int(value) for value in column]


def _boolean(column: Sequence[CrmValue]) -> list[Any]:
    return [None if value is None else bool(value) for value in column]


def _date(column: Sequence[CrmValue]) -> list[Any]:
    return [None if value is None else date.fromisoformat(str(value)[:10]) for value in column]


def _moment(value: CrmValue) -> Any:
    if value is None:
        return None
    text_value = str(value)
    if len(text_value) == 24 and text_value[-1] == "Z":  # canonical `…00.000Z`: parsed in C
        return datetime.fromisoformat(text_value)
    if len(text_value) == 10:  # a date-only field used as a moment (Task.ActivityDate)
        return datetime.fromisoformat(text_value).replace(tzinfo=UTC)
    return parse_datetime(text_value)


def _datetime(column: Sequence[CrmValue]) -> list[Any]:
    return list(map(_moment, column))


@dataclass(frozen=True)
class _Spec:
    """How one Salesforce object lands in its table: typed columns from fields, plus fixed values."""

    table: Table
    columns: Mapping[str, tuple[str, Convert]]  # column -> (Salesforce field, converter)
    fixed: Mapping[str, Any] = field(default_factory=dict)
    currency_column: str | None = None  # filled with CurrencyIsoCode, else the org's currency
    not_null_text: tuple[str, ...] = ()
    not_null_false: tuple[str, ...] = ()


_SPECS: dict[str, _Spec] = {
    "Account": _Spec(
        accounts,
        {
            "name": ("Name", _text),
            "website": ("Website", _text),
            "industry": ("Industry", _text),
            "employees": ("NumberOfEmployees", _integer),
            "annual_revenue": ("AnnualRevenue", _decimal),
            "billing_street": ("BillingStreet", _text),
            "billing_city": ("BillingCity", _text),
            "billing_state": ("BillingState", _text),
            "billing_postal_code": ("BillingPostalCode", _text),
            "billing_country": ("BillingCountry", _text),
            "phone": ("Phone", _text),
            "owner_id": ("OwnerId", _text),
            "owner_name": ("Owner.Name", _text),
            "parent_external_id": ("ParentId", _text),
        },
        currency_column="currency",
        not_null_text=("name",),
    ),
    "Contact": _Spec(
        contacts,
        {
            "account_external_id": ("AccountId", _text),
            "first_name": ("FirstName", _text),
            "last_name": ("LastName", _text),
            "email": ("Email", _text),
            "phone": ("Phone", _text),
            "title": ("Title", _text),
        },
    ),
    "Product2": _Spec(
        products,
        {
            "name": ("Name", _text),
            "product_code": ("ProductCode", _text),
            "family": ("Family", _text),
            "description": ("Description", _text),
            "is_active": ("IsActive", _boolean),
        },
        not_null_text=("name",),
    ),
    "PricebookEntry": _Spec(
        pricebook_entries,
        {
            "product_external_id": ("Product2Id", _text),
            "pricebook_external_id": ("Pricebook2Id", _text),
            "unit_price": ("UnitPrice", _decimal),
            "is_active": ("IsActive", _boolean),
        },
        currency_column="currency",
    ),
    "Opportunity": _Spec(
        opportunities,
        {
            "account_external_id": ("AccountId", _text),
            "name": ("Name", _text),
            "stage": ("StageName", _text),
            "amount": ("Amount", _decimal),
            "is_closed": ("IsClosed", _boolean),
            "is_won": ("IsWon", _boolean),
            "close_date": ("CloseDate", _date),
            "owner_id": ("OwnerId", _text),
        },
        currency_column="currency",
        not_null_false=("is_closed", "is_won"),
    ),
    "OpportunityLineItem": _Spec(
        opportunity_line_items,
        {
            "opportunity_external_id": ("OpportunityId", _text),
            "product_external_id": ("Product2Id", _text),
            "pricebook_entry_external_id": ("PricebookEntryId", _text),
            "quantity": ("Quantity", _decimal),
            "unit_price": ("UnitPrice", _decimal),
            "total_price": ("TotalPrice", _decimal),
        },
        currency_column="currency",
    ),
    "Task": _Spec(
        activities,
        {
            "account_external_id": ("AccountId", _text),
            "who_external_id": ("WhoId", _text),
            "subject": ("Subject", _text),
            "activity_type": ("Type", _text),
            "status": ("Status", _text),
            "activity_at": ("ActivityDate", _datetime),
        },
        fixed={"kind": "task"},
    ),
    "Event": _Spec(
        activities,
        {
            "account_external_id": ("AccountId", _text),
            "who_external_id": ("WhoId", _text),
            "subject": ("Subject", _text),
            "activity_type": ("Type", _text),
            "activity_at": ("ActivityDateTime", _datetime),
        },
        fixed={"kind": "event"},
    ),
}

SYNCED_TABLES: dict[str, Table] = {name: spec.table for name, spec in _SPECS.items()}


def _columns(spec: _Spec) -> list[str]:
    typed = list(spec.columns)
    extra = [name for name in (spec.currency_column, *spec.fixed) if name and name not in typed]
    return ["org_id", "external_id", *typed, *extra, "created_at", "modified_at", "is_deleted", "fields"]


class _RowPlan:
    """One object's COPY row layout, worked out once; a page is then converted column by column."""

    def __init__(self, spec: _Spec) -> None:
        self.columns = _columns(spec)
        typed = self.columns[2:-4]
        self._typed = [(column, spec.columns.get(column), spec.fixed.get(column)) for column in typed]
        self._not_null_text = set(spec.not_null_text)
        self._not_null_false = set(spec.not_null_false)
        self._currency = spec.currency_column

    def rows(
        self, org_id: str, page: CrmColumns, default_currency: str, encode: Callable[[Any], bytes]
    ) -> list[tuple[Any, ...]]:
        size = len(page)
        values = page.values
        absent: list[CrmValue] = [None] * size
        built: list[Sequence[Any]] = [[org_id] * size, page.ids]
        for column, source, fixed in self._typed:
            if column == self._currency:
                built.append([code or default_currency for code in values.get("CurrencyIsoCode", absent)])
            elif source is None:
                built.append([fixed] * size)
            else:
                field_name, convert = source
                converted = convert(values.get(field_name, absent))
                if column in self._not_null_text:
                    converted = [value or "" for value in converted]
                elif column in self._not_null_false:
                    converted = [bool(value) for value in converted]
                built.append(converted)
        created = _datetime(values.get("CreatedDate", absent))
        built.append([moment or stamp for moment, stamp in zip(created, page.modstamps, strict=True)])
        built += [page.modstamps, page.deleted]
        names = list(values)
        if names:
            built.append(
                [
                    encode(dict(zip(names, row, strict=True))).decode()
                    for row in zip(*values.values(), strict=True)
                ]
            )
        else:
            built.append(["{}"] * size)
        return list(zip(*built, strict=True))


def _newest_per_id(page: CrmColumns) -> CrmColumns:
    """One version per id (the newest; the later of equals): PostgreSQL refuses a merge that touches a
    row twice."""
    if len(set(page.ids)) == len(page.ids):
        return page
    keep: dict[str, int] = {}
    for index, (record_id, stamp) in enumerate(zip(page.ids, page.modstamps, strict=True)):
        seen = keep.get(record_id)
        if seen is None or stamp >= page.modstamps[seen]:
            keep[record_id] = index
    chosen = sorted(keep.values())
    return CrmColumns(
        [page.ids[i] for i in chosen],
        [page.modstamps[i] for i in chosen],
        [page.deleted[i] for i in chosen],
        {name: [column[i] for i in chosen] for name, column in page.values.items()},
    )


_PLANS = {name: _RowPlan(spec) for name, spec in _SPECS.items()}


_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_NUMBERS = frozenset({"double", "currency", "percent"})
_JSON_PAIRS = 40  # jsonb_build_object takes at most 100 arguments


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _id18_sql(raw: str) -> str:
    """SQL for the 18-character form of a CSV id column (fast_id's checksum: one bit per upper-case
    letter of each 5-character chunk); 18-character ids pass as they are, as Salesforce sends them."""
    suffix = " || ".join(
        "substr('" + _ID_ALPHABET + "', 1 + "
        + " + ".join(
            f"(CASE WHEN ascii(substr({raw}, {start + bit}, 1)) BETWEEN 65 AND 90 THEN {1 << bit} ELSE 0 END)"
            for bit in range(5)
        )
        + ", 1)"
        for start in (1, 6, 11)
    )  # fmt: skip
    return f"(CASE WHEN length({raw}) = 15 THEN {raw} || {suffix} ELSE NULLIF({raw}, '') END)"


def _canonical_sql(raw: str, kind: str) -> str:
    """SQL for the canonical value of a CSV text column, as RecordReader's converter for `kind` gives it."""
    value = f"NULLIF({raw}, '')"
    if kind in ("id", "reference"):
        return _id18_sql(raw)
    if kind == "boolean":
        return f"(CASE WHEN {raw} = '' THEN NULL ELSE lower({raw}) IN ('true', '1') END)"
    if kind == "int":
        return f"trunc({value}::numeric)::bigint"
    if kind in _NUMBERS:
        return f"{value}::numeric"
    if kind == "date":
        return f"left({value}, 10)"
    if kind == "datetime":
        return (
            f"(CASE WHEN length({raw}) = 24 AND right({raw}, 1) = 'Z' THEN {raw} ELSE to_char("
            f"{value}::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') END)"
        )
    return value


def _moment_sql(raw: str) -> str:
    return (
        f"(CASE WHEN length({raw}) = 10 THEN ({raw} || 'T00:00:00Z') ELSE NULLIF({raw}, '') END)::timestamptz"
    )


def _typed_sql(raw: str, kind: str, convert: Convert) -> str:
    """SQL for a typed column filled from a CSV text column, as the column converter would fill it."""
    if convert is _decimal:
        return f"NULLIF({raw}, '')::numeric"
    if convert is _integer:
        return f"trunc(NULLIF({raw}, '')::numeric)::bigint"
    if convert is _boolean:
        return f"({_canonical_sql(raw, 'boolean')})"
    if convert is _date:
        return f"left(NULLIF({raw}, ''), 10)::date"
    if convert is _datetime:
        return _moment_sql(raw)
    expression = _canonical_sql(raw, kind)
    return f"({expression})::text" if kind in _NUMBERS or kind == "int" else expression


@dataclass(frozen=True)
class _CsvLoad:
    """The SQL that loads one Bulk CSV layout (object, header, field types) from its staging table."""

    create: str
    header: list[str]
    rows: str  # SELECT of the table's columns from the staging table; $1 org, $2 default currency
    summary: str


def _csv_load(sobject: str, header: tuple[str, ...], fields: tuple[tuple[str, str], ...]) -> _CsvLoad:
    spec, plan = _SPECS[sobject], _PLANS[sobject]
    kinds = dict(fields)
    present = set(header)

    def raw(name: str) -> str | None:
        return _quote(name) if name in present else None

    stamp = raw("SystemModstamp") or "NULL"
    deleted = f"COALESCE(lower({raw('IsDeleted')}) IN ('true', '1'), false)" if raw("IsDeleted") else "false"
    select: list[str] = ["$1::text", _id18_sql(raw("Id") or "NULL")]
    for column in plan.columns[2:-4]:
        source = spec.columns.get(column)
        if column == spec.currency_column:
            code = raw("CurrencyIsoCode")
            expression = f"COALESCE(NULLIF({code}, ''), $2::text)" if code else "$2::text"
        elif source is None:
            expression = "'" + str(spec.fixed[column]).replace("'", "''") + "'"
        else:
            field_name, convert = source
            column_raw = raw(field_name)
            expression = (
                "NULL" if column_raw is None else _typed_sql(column_raw, kinds.get(field_name, ""), convert)
            )
            if column in spec.not_null_text:
                expression = f"COALESCE({expression}, '')"
            elif column in spec.not_null_false:
                expression = f"COALESCE({expression}, false)"
        select.append(expression)
    created = raw("CreatedDate")
    select.append(
        f"COALESCE({_moment_sql(created)}, {stamp}::timestamptz)" if created else f"{stamp}::timestamptz"
    )
    select += [f"{stamp}::timestamptz", deleted]
    names = [name for name, _ in fields if name not in ("Id", "SystemModstamp", "IsDeleted")]
    pairs = [
        f"'{name.replace(chr(39), chr(39) * 2)}', "
        + (_canonical_sql(_quote(name), kinds[name]) if name in present else "NULL::text")
        for name in names
    ]
    chunks = [pairs[start : start + _JSON_PAIRS] for start in range(0, len(pairs), _JSON_PAIRS)] or [[]]
    select.append(" || ".join(f"jsonb_build_object({', '.join(chunk)})" for chunk in chunks))
    listed = ", ".join(
        f"{expression} AS {column}" for expression, column in zip(select, plan.columns, strict=True)
    )
    id18 = _id18_sql(raw("Id") or "NULL")
    return _CsvLoad(
        create="CREATE TEMP TABLE stage_csv (" + ", ".join(f"{_quote(name)} text" for name in header) + ")"
        " ON COMMIT DROP",
        header=list(header),
        rows=f"SELECT {listed} FROM stage_csv",  # noqa: S608 - names from describe, quoted
        summary=(
            f"SELECT (SELECT count(*) FROM stage_csv), (SELECT count(*) FROM stage_csv WHERE {deleted}),"  # noqa: S608
            f" last.stamp, last.id FROM (SELECT {stamp}::timestamptz AS stamp, {id18} AS id FROM stage_csv)"
            ' AS last ORDER BY last.stamp DESC, last.id COLLATE "C" DESC LIMIT 1'
        ),
    )


_CSV_LOADS: dict[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]], _CsvLoad] = {}


def _csv_header(data: bytes) -> tuple[str, ...]:
    first = data.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    return tuple(next(csv.reader([first]), []))


class SqlaCrmRecordRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._fresh_loads: dict[tuple[str, str], bool] = {}

    async def upsert(
        self, org_id: str, sobject: str, page: CrmRecordPage, default_currency: str
    ) -> PageSummary:
        if page.csv is not None:
            return await self._load_csv(org_id, sobject, page.csv, default_currency)
        records = page.columns
        if not len(records):
            return PageSummary(0, 0, None)
        await self._load_columns(org_id, sobject, records, default_currency)
        stamp, last_id = records.last()
        return PageSummary(len(records), records.deleted_count(), SyncCursor(stamp, last_id))

    async def _driver(self) -> Any:
        connection = await self._session.connection()
        raw = await connection.get_raw_connection()
        return raw.driver_connection

    async def _load_csv(self, org_id: str, sobject: str, page: CrmCsv, default_currency: str) -> PageSummary:
        """COPY the CSV as it came into a staging table of text columns; PostgreSQL converts and merges."""
        header = _csv_header(page.data)
        if not header:
            return PageSummary(0, 0, None)
        key = (sobject, header, tuple(page.fields.items()))
        load = _CSV_LOADS.get(key)
        if load is None:
            load = _CSV_LOADS[key] = _csv_load(sobject, header, tuple(page.fields.items()))
        # Through the session first, which begins its transaction: the driver alone would run outside it.
        await self._session.execute(text("DROP TABLE IF EXISTS pg_temp.stage_csv"))
        driver = await self._driver()
        await driver.execute(load.create)
        await driver.copy_to_table(
            "stage_csv", source=io.BytesIO(page.data), columns=load.header, format="csv", header=True
        )
        row = await driver.fetchrow(load.summary)
        if row is None:
            return PageSummary(0, 0, None)
        table = _SPECS[sobject].table.name
        columns = _PLANS[sobject].columns
        listed = ", ".join(columns)
        updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in columns[2:])
        merge = (
            f"INSERT INTO {table} ({listed}) {{rows}}"
            f" ON CONFLICT (org_id, external_id) DO UPDATE SET {updates}, synced_at = now()"
            f" WHERE {table}.modified_at <= EXCLUDED.modified_at"
        )
        arguments = (org_id, default_currency) if _SPECS[sobject].currency_column else (org_id,)
        if await self._fresh(org_id, sobject):
            # A first load: a plain INSERT (a fifth cheaper than ON CONFLICT); an id already there sends
            # this page, and the rest of the object, to the merge.
            await driver.execute("SAVEPOINT csv_insert")
            try:
                await driver.execute(f"INSERT INTO {table} ({listed}) {load.rows}", *arguments)
            except asyncpg.UniqueViolationError:
                await driver.execute("ROLLBACK TO SAVEPOINT csv_insert")
                self._fresh_loads[(org_id, sobject)] = False
            else:
                await driver.execute("RELEASE SAVEPOINT csv_insert")
                count, deleted, stamp, last_id = row
                return PageSummary(int(count), int(deleted), SyncCursor(stamp.astimezone(UTC), str(last_id)))
        await driver.execute("SAVEPOINT csv_merge")
        try:
            await driver.execute(merge.format(rows=load.rows), *arguments)
        except asyncpg.CardinalityViolationError:
            # An id twice in one page: keep its newest version, as the column path does.
            await driver.execute("ROLLBACK TO SAVEPOINT csv_merge")
            newest = (
                f"SELECT DISTINCT ON (external_id) * FROM ({load.rows}) AS page"  # noqa: S608
                " ORDER BY external_id, modified_at DESC"
            )
            await driver.execute(merge.format(rows=newest), *arguments)
        await driver.execute("RELEASE SAVEPOINT csv_merge")
        count, deleted, stamp, last_id = row
        return PageSummary(int(count), int(deleted), SyncCursor(stamp.astimezone(UTC), str(last_id)))

    async def _load_columns(
        self, org_id: str, sobject: str, records: CrmColumns, default_currency: str
    ) -> None:
        spec = _SPECS[sobject]
        plan = _PLANS[sobject]
        rows = plan.rows(org_id, _newest_per_id(records), default_currency, msgspec.json.Encoder().encode)
        columns = plan.columns
        name = spec.table.name
        driver = await self._driver()
        if await self._fresh(org_id, sobject):
            # A first load into an empty table: COPY straight in, no staging and no merge. An id that is
            # there after all (a query restarted over committed pages) fails the COPY, and the page is
            # merged instead, as every later page of this object will be.
            # SAVEPOINT through the session, which begins its transaction first (the driver alone would
            # COPY outside it); the rollback goes through the driver, beneath the failed COPY.
            await self._session.execute(text("SAVEPOINT direct_copy"))
            try:
                await driver.copy_records_to_table(name, records=rows, columns=columns)
            except asyncpg.UniqueViolationError:
                await driver.execute("ROLLBACK TO SAVEPOINT direct_copy")
                self._fresh_loads[(org_id, sobject)] = False
            else:
                await driver.execute("RELEASE SAVEPOINT direct_copy")
                return
        stage = f"stage_{name}"
        await self._session.execute(
            text(
                f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {name} INCLUDING DEFAULTS)"
                " ON COMMIT DELETE ROWS"
            )
        )
        await driver.copy_records_to_table(stage, records=rows, columns=columns)
        listed = ", ".join(columns)
        updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in columns[2:])
        await self._session.execute(
            text(
                f"INSERT INTO {name} ({listed}) SELECT {listed} FROM {stage}"  # noqa: S608 - fixed names
                f" ON CONFLICT (org_id, external_id) DO UPDATE SET {updates}, synced_at = now()"
                f" WHERE {name}.modified_at <= EXCLUDED.modified_at"
            )
        )
        await self._session.execute(text(f"TRUNCATE {stage}"))

    async def _fresh(self, org_id: str, sobject: str) -> bool:
        """Whether this object's rows for the org were none when this repository first wrote some."""
        key = (org_id, sobject)
        if key not in self._fresh_loads:
            spec = _SPECS[sobject]
            table = spec.table
            statement = select(table.c.external_id).where(table.c.org_id == org_id).limit(1)
            for column, value in spec.fixed.items():
                statement = statement.where(table.c[column] == value)
            self._fresh_loads[key] = (await self._session.execute(statement)).first() is None
        return self._fresh_loads[key]

    async def count_live(self, org_id: str, sobject: str) -> int:
        spec = _SPECS[sobject]
        table = spec.table
        # SELECT COUNT() leaves out archived activities (visible only to queryAll); so does this count.
        archived = func.coalesce(table.c.fields["IsArchived"].astext.cast(Boolean), False)
        statement = select(func.count()).where(
            table.c.org_id == org_id, table.c.is_deleted.is_(False), archived.is_(False)
        )
        for column, value in spec.fixed.items():
            statement = statement.where(table.c[column] == value)
        return int((await self._session.execute(statement)).scalar_one())
