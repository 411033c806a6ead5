"""The REST data API: query/queryAll with cursors, describe, records (get, create, update, delete), limits."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

from simulators.salesforce.auth import Session
from simulators.salesforce.describe import describe_global, describe_object, object_summary
from simulators.salesforce.errors import ApiError, InvalidFieldError, NotFoundError
from simulators.salesforce.ids import KEY_PREFIXES, base62, to_18
from simulators.salesforce.schema import FieldDef
from simulators.salesforce.settings import ServerSettings
from simulators.salesforce.soql import parse_soql
from simulators.salesforce.soql.planner import QueryPlan, plan_query
from simulators.salesforce.store import FakeTable, Row, Value
from simulators.salesforce.timefmt import parse_date, parse_datetime
from simulators.salesforce.wire import Request, Response, json_response

__all__ = ["QueryCursors", "RestApi"]

_QUERY_TIMEOUT = "Your query request was running for too long."


@dataclass(slots=True)
class _Cursor:
    plan: QueryPlan
    rows: list[Row]
    last_used: float


class QueryCursors:
    """Open query results per org, addressed by `01g…` locators; idle ones expire like Salesforce's."""

    def __init__(self, settings: ServerSettings) -> None:
        self._settings = settings
        self._cursors: dict[tuple[str, str], _Cursor] = {}
        self._counter = itertools.count(1)

    def open(self, org_name: str, pod: str, plan: QueryPlan, rows: list[Row]) -> str:
        locator = to_18(KEY_PREFIXES["QueryLocator"] + pod + base62(next(self._counter), 10))
        self._cursors[(org_name, locator)] = _Cursor(plan, rows, time.monotonic())
        mine = [key for key in self._cursors if key[0] == org_name]
        for key in mine[: max(0, len(mine) - self._settings.max_cursors_per_org)]:
            del self._cursors[key]
        return locator

    def drop(self, org_name: str, locator: str) -> None:
        self._cursors.pop((org_name, locator), None)

    def get(self, org_name: str, locator: str) -> _Cursor | None:
        cursor = self._cursors.get((org_name, locator))
        if cursor is None:
            return None
        now = time.monotonic()
        if now - cursor.last_used > self._settings.cursor_idle_s:
            del self._cursors[(org_name, locator)]
            return None
        cursor.last_used = now
        return cursor


class RestApi:
    """Handlers under `/services/data/v{version}/`, for one authenticated session at a time."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.cursors = QueryCursors(settings)

    # -- query ---------------------------------------------------------------------------------

    def query(self, session: Session, request: Request, version: str, *, include_deleted: bool) -> Response:
        soql = request.query.get("q")
        if soql is None:
            raise ApiError("A query string has to be specified", code="MALFORMED_QUERY")
        org = session.org
        plan = plan_query(parse_soql(soql), org.data, org.visibility(session.user))
        faults = org.faults
        if faults.query_timeouts > 0:
            faults.query_timeouts -= 1
            raise ApiError(_QUERY_TIMEOUT, code="QUERY_TIMEOUT")
        if faults.query_timeout_days is not None and plan.modstamp_window_days > faults.query_timeout_days:
            raise ApiError(_QUERY_TIMEOUT, code="QUERY_TIMEOUT")
        table = plan.table
        was_late = dict(table.late)
        rows = plan.run(include_deleted=include_deleted)
        _release_late(table, was_late)
        if plan.query.count_only:
            return json_response(200, {"totalSize": len(rows), "done": True, "records": []})
        size = self._batch_size(request)
        page = [plan.render(row, version) for row in rows[:size]]
        body: dict[str, Any] = {"totalSize": len(rows), "done": len(rows) <= size}
        if len(rows) > size:
            locator = self.cursors.open(org.name, org.data.pod, plan, rows)
            body["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{size}"
        body["records"] = page
        return json_response(200, body)

    def query_more(self, session: Session, request: Request, version: str, token: str) -> Response:
        locator, _, offset_text = token.partition("-")
        faults = session.org.faults
        if faults.expire_locators > 0:
            faults.expire_locators -= 1
            self.cursors.drop(session.org.name, locator)
        cursor = self.cursors.get(session.org.name, locator)
        if cursor is None or not offset_text.isdigit() or int(offset_text) > len(cursor.rows):
            raise ApiError("invalid query locator", code="INVALID_QUERY_LOCATOR")
        offset = int(offset_text)
        size = self._batch_size(request)
        rows = cursor.rows
        end = offset + size
        body: dict[str, Any] = {"totalSize": len(rows), "done": end >= len(rows)}
        if end < len(rows):
            body["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{end}"
        body["records"] = [cursor.plan.render(row, version) for row in rows[offset:end]]
        return json_response(200, body)

    def _batch_size(self, request: Request) -> int:
        size = self.settings.page_size
        options = request.headers.get("sforce-query-options", "")
        for option in options.split(","):
            key, _, value = option.strip().partition("=")
            if key.strip().lower() == "batchsize" and value.strip().isdigit():
                size = min(size, max(200, min(2000, int(value))))
        return size

    # -- describe, limits ------------------------------------------------------------------------

    def describe_global(self, session: Session, version: str) -> Response:
        definitions = [table.definition for table in session.org.data.tables.values()]
        return json_response(200, describe_global(definitions, version))

    def describe(self, session: Session, version: str, object_name: str) -> Response:
        table = self._table(session, object_name)
        return json_response(
            200, describe_object(table.definition, session.org.visibility(session.user), version)
        )

    def object_info(self, session: Session, version: str, object_name: str) -> Response:
        table = self._table(session, object_name)
        return json_response(
            200, {"objectDescribe": object_summary(table.definition, version), "recentItems": []}
        )

    def limits(self, session: Session) -> Response:
        org = session.org

        def pair(maximum: int, remaining: int) -> dict[str, int]:
            return {"Max": maximum, "Remaining": remaining}

        return json_response(
            200,
            {
                "ConcurrentAsyncGetReportInstances": pair(200, 200),
                "DailyApiRequests": pair(org.api_max, max(0, org.api_max - org.api_used)),
                "DailyAsyncApexExecutions": pair(250000, 250000),
                "DailyBulkApiBatches": pair(15000, 15000),
                "DailyBulkV2QueryFileStorageMB": pair(1048576, 1048576),
                "DailyBulkV2QueryJobs": pair(10000, 10000),
                "DataStorageMB": pair(1024, 1024),
                "FileStorageMB": pair(1024, 1024),
                "HourlyODataCallout": pair(10000, 10000),
            },
        )

    # -- records ---------------------------------------------------------------------------------

    def _table(self, session: Session, object_name: str) -> FakeTable:
        table = session.org.data.table(object_name)
        if table is None:
            raise NotFoundError()
        return table

    def get_record(
        self, session: Session, request: Request, version: str, object_name: str, record_id: str
    ) -> Response:
        table = self._table(session, object_name)
        row = table.get(to_18(record_id) if len(record_id) == 15 else record_id)
        deleted = table.columns.get("IsDeleted")
        if row is None or (deleted is not None and row[deleted]):
            raise NotFoundError()
        visible = session.org.visibility(session.user)
        wanted = request.query.get("fields")
        names = (
            [name.strip() for name in wanted.split(",") if name.strip()]
            if wanted
            else [name for name in table.definition.field_names if visible(table.name, name)]
        )
        out: dict[str, Any] = {
            "attributes": {
                "type": table.name,
                "url": f"/services/data/v{version}/sobjects/{table.name}/{row[0]}",
            }
        }
        for name in names:
            definition = table.definition.field_named(name)
            if definition is None or not visible(table.name, definition.name):
                raise InvalidFieldError(
                    f"No such column '{name}' on sobject of type {table.name}", fields=[name]
                )
            out[definition.name] = row[table.columns[definition.name]]
        return json_response(200, out)

    def create(self, session: Session, request: Request, version: str, object_name: str) -> Response:
        table = self._table(session, object_name)
        if not table.definition.createable:
            raise ApiError(
                f"entity type cannot be inserted: {table.name}", code="CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY"
            )
        values = self._coerce(session, table, request.json(), creating=True)
        missing = [
            definition.name
            for definition in table.definition.fields
            if definition.required_on_create and values.get(definition.name) in (None, "")
        ]
        if missing:
            raise ApiError(
                f"Required fields are missing: [{', '.join(missing)}]",
                code="REQUIRED_FIELD_MISSING",
                fields=missing,
            )
        record_id = session.org.data.insert(table.name, values, user_id=session.user.id)
        location = f"/services/data/v{version}/sobjects/{table.name}/{record_id}"
        return json_response(201, {"id": record_id, "success": True, "errors": []}, [("Location", location)])

    def update(self, session: Session, request: Request, object_name: str, record_id: str) -> Response:
        table = self._table(session, object_name)
        row = table.get(record_id)
        if row is None or ("IsDeleted" in table.columns and row[table.columns["IsDeleted"]]):
            raise NotFoundError()
        values = self._coerce(session, table, request.json(), creating=False)
        session.org.data.update(table.name, record_id, values, user_id=session.user.id)
        return Response(204)

    def delete(self, session: Session, object_name: str, record_id: str) -> Response:
        table = self._table(session, object_name)
        row = table.get(record_id)
        if row is None or ("IsDeleted" in table.columns and row[table.columns["IsDeleted"]]):
            raise NotFoundError()
        session.org.data.delete(table.name, record_id, user_id=session.user.id)
        return Response(204)

    def _coerce(
        self, session: Session, table: FakeTable, payload: Any, *, creating: bool
    ) -> dict[str, Value]:
        if not isinstance(payload, dict):
            raise ApiError("Expected a JSON object with field values", code="JSON_PARSER_ERROR")
        visible = session.org.visibility(session.user)
        values: dict[str, Value] = {}
        for key, raw in payload.items():
            if key == "attributes":
                continue
            definition = table.definition.field_named(key)
            if definition is None or not visible(table.name, definition.name):
                raise InvalidFieldError(
                    f"No such column '{key}' on sobject of type {table.name}", fields=[key]
                )
            if not (definition.createable if creating else definition.updateable):
                raise ApiError(
                    f"Unable to create/update fields: {definition.name}. "
                    "Please check the security settings of "
                    "this field and verify that it is read/write for your profile or permission set.",
                    code="INVALID_FIELD_FOR_INSERT_UPDATE",
                    fields=[definition.name],
                )
            values[definition.name] = coerce_value(session, definition, raw)
        return values


def coerce_value(session: Session, definition: FieldDef, raw: Any) -> Value:
    """A JSON value as the store keeps it for `definition`; raises ApiError when it does not fit."""
    if raw is None:
        return None
    kind = definition.type

    def bad() -> ApiError:
        return ApiError(
            f"{definition.name}: value not of required type: {raw}",
            code="INVALID_TYPE_ON_FIELD_IN_RECORD",
            fields=[definition.name],
        )

    try:
        if kind == "boolean":
            if not isinstance(raw, bool):
                raise bad()
            return raw
        if kind == "int":
            return int(raw)
        if kind in {"double", "currency", "percent"}:
            return float(raw)
        if kind == "date":
            return parse_date(str(raw)[:10])
        if kind == "datetime":
            return parse_datetime(str(raw))
    except (TypeError, ValueError):
        raise bad() from None
    text = str(raw)
    if kind == "reference":
        target = to_18(text) if len(text) == 15 else text
        found = session.org.data.lookup(target)
        if found is None or found[0].name not in definition.reference_to:
            raise ApiError(
                f"{definition.name}: id value of incorrect type: {text}",
                code="FIELD_INTEGRITY_EXCEPTION",
                fields=[definition.name],
            )
        return target
    if definition.length and len(text) > definition.length:
        raise ApiError(
            f"{definition.name}: data value too large: {text[:40]} (max length={definition.length})",
            code="STRING_TOO_LONG",
            fields=[definition.name],
        )
    return text


def _release_late(table: FakeTable, was_late: dict[str, int]) -> None:
    """Rows held back by the late-records fault become visible once a query has passed them by."""
    for record_id in was_late:
        left = table.late.get(record_id)
        if left is None:
            continue
        if left <= 1:
            del table.late[record_id]
        else:
            table.late[record_id] = left - 1
