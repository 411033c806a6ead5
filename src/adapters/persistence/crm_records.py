"""SqlaCrmRecordRepository: synced CRM records land by COPY into a staging table, then one merge where a
newer (or equal) SystemModstamp wins, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

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
from application.ports.crm import CrmRecord, CrmValue

__all__ = ["SYNCED_TABLES", "SqlaCrmRecordRepository"]

Convert = Callable[[CrmValue], Any]


def _text(value: CrmValue) -> Any:
    return None if value is None else str(value)


def _decimal(value: CrmValue) -> Any:
    return None if value is None else Decimal(str(value))


def _integer(value: CrmValue) -> Any:
    return None if value is None else int(value)


def _boolean(value: CrmValue) -> Any:
    return None if value is None else bool(value)


def _date(value: CrmValue) -> Any:
    return None if value is None else date.fromisoformat(str(value)[:10])


def _datetime(value: CrmValue) -> Any:
    if value is None:
        return None
    text_value = str(value)
    if len(text_value) == 10:  # a date-only field used as a moment (Task.ActivityDate)
        return datetime.fromisoformat(text_value).replace(tzinfo=UTC)
    return parse_datetime(text_value)


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
    """One object's COPY row layout, worked out once: per-record work is then a flat list of calls."""

    def __init__(self, spec: _Spec) -> None:
        self.columns = _columns(spec)
        typed = self.columns[2:-4]
        self._typed = [spec.columns.get(column) for column in typed]
        self._fixed = [spec.fixed.get(column) for column in typed]  # for columns no field fills
        self._not_null_text = {typed.index(column) for column in spec.not_null_text}
        self._not_null_false = {typed.index(column) for column in spec.not_null_false}
        self._currency = typed.index(spec.currency_column) if spec.currency_column else None

    def row(
        self, org_id: str, record: CrmRecord, default_currency: str, encode: Callable[[Any], bytes]
    ) -> tuple[Any, ...]:
        values = record.values
        ordered: list[Any] = []
        for index, source in enumerate(self._typed):
            if source is None:
                ordered.append(self._fixed[index])
                continue
            field_name, convert = source
            value = convert(values.get(field_name))
            if index in self._not_null_text:
                value = value or ""
            elif index in self._not_null_false:
                value = bool(value)
            ordered.append(value)
        if self._currency is not None:
            ordered[self._currency] = values.get("CurrencyIsoCode") or default_currency
        created = _datetime(values.get("CreatedDate")) or record.modstamp
        fields = encode(values).decode()
        return (org_id, record.id, *ordered, created, record.modstamp, record.is_deleted, fields)


_PLANS = {name: _RowPlan(spec) for name, spec in _SPECS.items()}


class SqlaCrmRecordRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def upsert(
        self, org_id: str, sobject: str, records: Sequence[CrmRecord], default_currency: str
    ) -> None:
        if not records:
            return
        spec = _SPECS[sobject]
        # One version per id (the newest): PostgreSQL refuses a merge that touches a row twice.
        latest: dict[str, CrmRecord] = {}
        for record in records:
            seen = latest.get(record.id)
            if seen is None or record.modstamp >= seen.modstamp:
                latest[record.id] = record
        plan = _PLANS[sobject]
        encode = msgspec.json.Encoder().encode
        rows = [plan.row(org_id, record, default_currency, encode) for record in latest.values()]
        columns = plan.columns
        name = spec.table.name
        stage = f"stage_{name}"
        await self._session.execute(
            text(
                f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {name} INCLUDING DEFAULTS)"
                " ON COMMIT DELETE ROWS"
            )
        )
        connection = await self._session.connection()
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
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
