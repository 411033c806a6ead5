"""The test-only `/__admin` endpoint: switch faults per org and insert, update or delete records.

Only served when the server runs with `admin=True` (CLI: `--admin`). It bypasses auth, faults and the
API budget. Routes (JSON bodies):

- `GET /__admin/orgs` → every org's name, id, instance URL, API usage and faults.
- `POST /__admin/orgs/{org}/faults` body `{"latency_ms": 50, "hide_field": "Account.Industry", …}` (keys in
  `faults`) → the org's fault state; `DELETE /__admin/orgs/{org}/faults` clears them.
- `POST /__admin/orgs/{org}/records/{Object}` body `{"records": [{…}, …]}` or one record → `{"ids": […]}`.
- `PATCH /__admin/orgs/{org}/records/{Object}/{id}` body `{field: value}` → `{"id": …}`.
- `DELETE /__admin/orgs/{org}/records/{Object}/{id}` → 204 (soft delete, visible to queryAll).
"""

from __future__ import annotations

import re
from typing import Any

from simulators.salesforce.auth import Session, TokenRegistry
from simulators.salesforce.errors import ApiError, NotFoundError
from simulators.salesforce.faults import FaultSpecError
from simulators.salesforce.org import FakeOrg
from simulators.salesforce.rest import coerce_value
from simulators.salesforce.wire import Request, Response, json_response

__all__ = ["AdminApi"]

_ROUTE = re.compile(
    r"^/__admin/orgs(?:/(?P<org>[^/]+)(?:/(?P<kind>faults|records)(?:/(?P<object>\w+)(?:/(?P<id>\w+))?)?)?)?/?$"
)


class AdminApi:
    def __init__(self, orgs: dict[str, FakeOrg], tokens: TokenRegistry) -> None:
        self.orgs = orgs
        self.tokens = tokens

    def handle(self, request: Request) -> Response:
        match = _ROUTE.match(request.path)
        if match is None:
            raise NotFoundError()
        org_name, kind = match["org"], match["kind"]
        if org_name is None:
            if request.method != "GET":
                raise ApiError("Method not allowed", code="METHOD_NOT_ALLOWED", status=405)
            return json_response(200, [self._describe(org) for org in self.orgs.values()])
        org = self.orgs.get(org_name)
        if org is None:
            raise NotFoundError(f"No org named {org_name!r}")
        if kind == "faults":
            return self._faults(org, request)
        if kind == "records" and match["object"]:
            return self._records(org, request, match["object"], match["id"])
        if kind is None and request.method == "GET":
            return json_response(200, self._describe(org))
        raise NotFoundError()

    def _describe(self, org: FakeOrg) -> dict[str, Any]:
        return {
            "name": org.name,
            "org_id": org.org_id,
            "instance_url": org.instance_url,
            "api_usage": {"used": org.api_used, "max": org.api_max},
            "faults": org.faults.as_json(),
            "hidden_fields": {obj: sorted(names) for obj, names in org.fault_hidden.items()},
            "record_counts": {name: len(table.rows) for name, table in org.data.tables.items()},
        }

    def _faults(self, org: FakeOrg, request: Request) -> Response:
        if request.method == "DELETE":
            org.clear_faults()
            return json_response(200, self._describe(org))
        if request.method not in {"POST", "PATCH", "PUT"}:
            raise ApiError("Method not allowed", code="METHOD_NOT_ALLOWED", status=405)
        body = request.json()
        if not isinstance(body, dict):
            raise ApiError("Expected a JSON object of fault settings", code="JSON_PARSER_ERROR")
        try:
            org.apply_faults(body)
        except FaultSpecError as error:
            raise ApiError(str(error), code="INVALID_FAULT") from None
        return json_response(200, self._describe(org))

    def _records(self, org: FakeOrg, request: Request, object_name: str, record_id: str | None) -> Response:
        table = org.data.table(object_name)
        if table is None:
            raise NotFoundError(f"No object named {object_name!r}")
        admin = org.users[0]
        # Reuse the REST coercion rules with an admin session that sees every field.
        session = Session("admin", org, admin, float("inf"))
        if request.method == "POST" and record_id is None:
            body = request.json()
            records = body.get("records") if isinstance(body, dict) and "records" in body else [body]
            if not isinstance(records, list) or not all(isinstance(item, dict) for item in records):
                raise ApiError("Expected {'records': [ {...}, ... ]}", code="JSON_PARSER_ERROR")
            ids = [
                org.data.insert(table.name, self._values(session, table.name, record), user_id=admin.id)
                for record in records
            ]
            return json_response(201, {"ids": ids})
        if record_id is None or table.get(record_id) is None:
            raise NotFoundError()
        if request.method == "PATCH":
            body = request.json()
            if not isinstance(body, dict):
                raise ApiError("Expected a JSON object of field values", code="JSON_PARSER_ERROR")
            org.data.update(table.name, record_id, self._values(session, table.name, body), user_id=admin.id)
            return json_response(200, {"id": record_id})
        if request.method == "DELETE":
            org.data.delete(table.name, record_id, user_id=admin.id)
            return Response(204)
        raise ApiError("Method not allowed", code="METHOD_NOT_ALLOWED", status=405)

    def _values(self, session: Session, object_name: str, record: dict[str, Any]) -> dict[str, Any]:
        table = session.org.data.tables[object_name]
        values: dict[str, Any] = {}
        for key, raw in record.items():
            definition = table.definition.field_named(key)
            if definition is None or definition.name == "Id":
                raise ApiError(
                    f"No such column '{key}' on sobject of type {object_name}", code="INVALID_FIELD"
                )
            values[definition.name] = coerce_value(session, definition, raw)
        return values
