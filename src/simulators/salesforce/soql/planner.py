"""Turns a parsed query into an executable plan against one org: validation, filters, order, rendering.

Validation follows Salesforce: an unknown object is INVALID_TYPE; an unknown field, or one the user's
profile hides, is INVALID_FIELD with the same message (field-level security looks like absence).
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from simulators.salesforce.errors import (
    InvalidFieldError,
    InvalidTypeError,
    MalformedQueryError,
    soql_message,
)
from simulators.salesforce.ids import to_18
from simulators.salesforce.schema import FieldDef, ObjectDef
from simulators.salesforce.soql.syntax import And, Comparison, Condition, FieldPath, Literal, Not, Or, Query
from simulators.salesforce.store import FakeTable, OrgData, Row, Value
from simulators.salesforce.timefmt import bulk_datetime, format_datetime, parse_date, parse_datetime

__all__ = ["FieldVisibility", "QueryPlan", "plan_query"]

FieldVisibility = Callable[[str, str], bool]
Getter = Callable[[Row], Value]
Predicate = Callable[[Row], bool]

_NO_COLUMN = (
    "No such column '{field}' on entity '{entity}'. If you are attempting to use a custom field, be sure to "
    "append the '__c' after the custom field name. Please reference your WSDL or the describe call for the "
    "appropriate names."
)
_NO_RELATIONSHIP = (
    "Didn't understand relationship '{name}' in field path. If you are attempting to use a custom "
    "relationship, be sure to append the '__r' after the custom relationship name. Please reference your "
    "WSDL or the describe call for the appropriate names."
)
_NO_TYPE = (
    "sObject type '{name}' is not supported. If you are attempting to use a custom object, be sure to "
    "append the '__c' after the entity name. Please reference your WSDL or the describe call for the "
    "appropriate names."
)
_ORDERING = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


@dataclass(slots=True)
class _Node:
    """What to render for one object in a REST record: fields and nested parent relationships."""

    entries: list[tuple[str, str, Any]] = field(default_factory=list)
    children: dict[str, tuple[int, dict[str, _Node]]] = field(default_factory=dict)


@dataclass(slots=True)
class QueryPlan:
    """A validated query, ready to run against its table and render as REST JSON or Bulk CSV."""

    query: Query
    table: FakeTable
    columns: list[str]
    getters: list[Getter]
    predicate: Predicate | None
    order: list[tuple[Getter, bool, bool, bool]]
    modstamp_window_days: float
    _root: _Node
    _data: OrgData
    _csv_converters: list[Callable[[Value], Value] | None]
    _csv_kinds: list[str]

    @property
    def object_name(self) -> str:
        return self.table.name

    def run(self, *, include_deleted: bool) -> list[Row]:
        """The matching rows, ordered and limited; a snapshot that later writes do not change.

        Filters and sorts with C-level helpers where it can (itemgetter keys, compress): a Bulk job over
        a million rows runs here while the server serves nobody else, so this must stay far below what
        the sync spends on the same rows.
        """
        table = self.table
        rows: list[Row] = list(table.rows)
        if not include_deleted:
            for flag in ("IsDeleted", "IsArchived"):
                index = table.columns.get(flag)
                if index is not None:
                    rows = list(
                        itertools.compress(rows, map(operator.not_, map(operator.itemgetter(index), rows)))
                    )
        if table.late:
            late = table.late
            rows = [row for row in rows if row[0] not in late]
        if self.predicate is not None:
            rows = list(filter(self.predicate, rows))
        for getter, descending, nulls_last, fold_case in reversed(self.order):
            column = getattr(getter, "column", None)
            if column is not None and not fold_case:
                pick = operator.itemgetter(column)
                if None not in map(pick, rows):
                    # No nulls to place: the value alone orders the rows, as the general key would.
                    rows.sort(key=pick, reverse=descending)
                    continue
            rows.sort(key=_sort_key(getter, nulls_last != descending, fold_case), reverse=descending)
        start = self.query.offset or 0
        stop = None if self.query.limit is None else start + self.query.limit
        if start or stop is not None:
            rows = rows[start:stop]
        return rows

    def render(self, row: Row, version: str) -> dict[str, Any]:
        return _render(self._root, self.table.name, row, version, self._data)

    def csv_text(self, rows: list[Row], *, header: bool = True) -> str:
        """Rows as Bulk 2.0 CSV: every value quoted, nulls empty, LF endings.

        Built column by column with inline comprehensions because csv.writer (and any per-value function
        call) is several times slower, and the Bulk path has to outrun the sync it feeds.
        """
        columns: list[list[str]] = []
        for getter, kind in zip(self.getters, self._csv_kinds, strict=True):
            column = getattr(getter, "column", None)
            values = [row[column] for row in rows] if column is not None else [getter(row) for row in rows]
            if kind == "text":
                columns.append(["" if v is None else v.replace('"', '""') if '"' in v else v for v in values])
            elif kind == "boolean":
                columns.append(["" if v is None else "true" if v else "false" for v in values])
            elif kind == "datetime":
                columns.append(["" if v is None else v[:23] + "Z" for v in values])
            else:
                columns.append(["" if v is None else str(v) for v in values])
        lines = ['"' + '","'.join(values) + '"\n' for values in zip(*columns, strict=True)]
        if header:
            lines.insert(0, '"' + '","'.join(self.columns) + '"\n')
        return "".join(lines)

    def csv_values(self, row: Row) -> list[Value]:
        values: list[Value] = [getter(row) for getter in self.getters]
        for index, convert in enumerate(self._csv_converters):
            if convert is not None and values[index] is not None:
                values[index] = convert(values[index])
        return values


class _column_getter:
    __slots__ = ("_get", "column")

    def __init__(self, column: int) -> None:
        self.column = column
        self._get = operator.itemgetter(column)

    def __call__(self, row: Row) -> Value:
        return self._get(row)


def _sort_key(getter: Getter, nulls_high: bool, fold_case: bool) -> Callable[[Row], tuple[int, Value]]:
    null_rank = 1 if nulls_high else -1

    def key(row: Row) -> tuple[int, Value]:
        value = getter(row)
        if value is None:
            return (null_rank, "")
        # Text sorts case-insensitively in SOQL; ids and datetimes sort by their exact characters.
        if fold_case:
            return (0, value.lower())
        return (0, value)

    return key


def _render(node: _Node, type_name: str, row: Row, version: str, data: OrgData) -> dict[str, Any]:
    out: dict[str, Any] = {
        "attributes": {"type": type_name, "url": f"/services/data/v{version}/sobjects/{type_name}/{row[0]}"}
    }
    for kind, name, payload in node.entries:
        if kind == "field":
            out[name] = row[payload]
            continue
        column, by_type = node.children[name]
        target = row[column]
        found = None if target is None else data.lookup(target)
        if found is None or found[0].name not in by_type:
            out[name] = None
        else:
            out[name] = _render(by_type[found[0].name], found[0].name, found[1], version, data)
    return out


class _Planner:
    def __init__(self, query: Query, data: OrgData, visible: FieldVisibility) -> None:
        self.query = query
        self.data = data
        self.visible = visible

    def fail_field(self, path: FieldPath, message: str) -> InvalidFieldError:
        return InvalidFieldError(soql_message(self.query.text, path.position, message))

    def field_of(self, definition: ObjectDef, name: str, path: FieldPath) -> FieldDef:
        found = definition.field_named(name)
        if found is None or not self.visible(definition.name, found.name):
            raise self.fail_field(path, _NO_COLUMN.format(field=name, entity=definition.name))
        return found

    def relationship_of(
        self, definition: ObjectDef, name: str, path: FieldPath
    ) -> tuple[FieldDef, list[str]]:
        reference = definition.relationship(name)
        if reference is None or not self.visible(definition.name, reference.name):
            raise self.fail_field(path, _NO_RELATIONSHIP.format(name=name))
        targets = [target for target in reference.reference_to if target in self.data.tables]
        return reference, targets

    def getter(
        self, table_def: ObjectDef, parts: tuple[str, ...], path: FieldPath
    ) -> tuple[Getter, FieldDef]:
        """A function reading `parts` (a field or a relationship path) from a row of `table_def`."""
        if len(parts) == 1:
            found = self.field_of(table_def, parts[0], path)
            return _column_getter(self.data.tables[table_def.name].columns[found.name]), found
        reference, targets = self.relationship_of(table_def, parts[0], path)
        column = self.data.tables[table_def.name].columns[reference.name]
        sub: dict[str, Getter] = {}
        leaf: FieldDef | None = None
        first_error: InvalidFieldError | None = None
        for target in targets:
            try:
                sub[target], leaf = self.getter(self.data.tables[target].definition, parts[1:], path)
            except InvalidFieldError as error:
                first_error = first_error or error
        if leaf is None:
            raise first_error or self.fail_field(path, _NO_RELATIONSHIP.format(name=parts[0]))
        lookup = self.data.lookup

        def get(row: Row) -> Value:
            target_id = row[column]
            if target_id is None:
                return None
            found = lookup(target_id)
            if found is None:
                return None
            inner = sub.get(found[0].name)
            return None if inner is None else inner(found[1])

        return get, leaf

    def canonical(self, table_def: ObjectDef, parts: tuple[str, ...]) -> list[str]:
        """The describe spelling of a path already validated by `getter`."""
        if len(parts) == 1:
            found = table_def.field_named(parts[0])
            return [found.name if found else parts[0]]
        reference = table_def.relationship(parts[0])
        assert reference is not None and reference.relationship_name is not None
        for target in reference.reference_to:
            if target in self.data.tables and self._has_path(self.data.tables[target].definition, parts[1:]):
                return [
                    reference.relationship_name,
                    *self.canonical(self.data.tables[target].definition, parts[1:]),
                ]
        return list(parts)

    def _has_path(self, definition: ObjectDef, parts: tuple[str, ...]) -> bool:
        if len(parts) == 1:
            return definition.field_named(parts[0]) is not None
        reference = definition.relationship(parts[0])
        return reference is not None and any(
            target in self.data.tables and self._has_path(self.data.tables[target].definition, parts[1:])
            for target in reference.reference_to
        )

    def add_to_tree(self, node: _Node, table_def: ObjectDef, parts: tuple[str, ...], path: FieldPath) -> None:
        if len(parts) == 1:
            found = self.field_of(table_def, parts[0], path)
            if not any(kind == "field" and name == found.name for kind, name, _ in node.entries):
                node.entries.append(
                    ("field", found.name, self.data.tables[table_def.name].columns[found.name])
                )
            return
        reference, targets = self.relationship_of(table_def, parts[0], path)
        assert reference.relationship_name is not None
        relation = reference.relationship_name
        if relation not in node.children:
            node.children[relation] = (self.data.tables[table_def.name].columns[reference.name], {})
            node.entries.append(("relation", relation, None))
        by_type = node.children[relation][1]
        added = False
        for target in targets:
            child_def = self.data.tables[target].definition
            if self._has_path(child_def, parts[1:]):
                self.add_to_tree(by_type.setdefault(target, _Node()), child_def, parts[1:], path)
                added = True
        if not added:
            self.getter(table_def, parts, path)  # raises the precise INVALID_FIELD

    def plan(self) -> QueryPlan:
        query = self.query
        table = self.data.table(query.object_name)
        if table is None:
            raise InvalidTypeError(
                soql_message(query.text, query.object_position, _NO_TYPE.format(name=query.object_name))
            )
        definition = table.definition
        root = _Node()
        columns: list[str] = []
        getters: list[Getter] = []
        converters: list[Callable[[Value], Value] | None] = []
        kinds: list[str] = []
        for path in query.fields:
            getter, leaf = self.getter(definition, path.parts, path)
            self.add_to_tree(root, definition, path.parts, path)
            name = ".".join(self.canonical(definition, path.parts))
            if name in columns:
                raise MalformedQueryError(
                    soql_message(query.text, path.position, f"duplicate field selected: {name}")
                )
            columns.append(name)
            getters.append(getter)
            converters.append(_csv_converter(leaf))
            kinds.append(_csv_kind(leaf))
        predicate = None if query.where is None else self.condition(definition, query.where)
        order = []
        for item in query.order_by:
            getter, leaf = self.getter(definition, item.field.parts, item.field)
            order.append((getter, item.descending, item.nulls_last, leaf.is_text))
        return QueryPlan(
            query=query,
            table=table,
            columns=columns,
            getters=getters,
            predicate=predicate,
            order=order,
            modstamp_window_days=_modstamp_window_days(query.where),
            _root=root,
            _data=self.data,
            _csv_converters=converters,
            _csv_kinds=kinds,
        )

    # -- WHERE -----------------------------------------------------------------------------------

    def condition(self, definition: ObjectDef, condition: Condition) -> Predicate:
        if isinstance(condition, And):
            parts = [self.condition(definition, part) for part in condition.parts]
            return lambda row: all(part(row) for part in parts)
        if isinstance(condition, Or):
            parts = [self.condition(definition, part) for part in condition.parts]
            return lambda row: any(part(row) for part in parts)
        if isinstance(condition, Not):
            inner = self.condition(definition, condition.part)
            return lambda row: not inner(row)
        return self.comparison(definition, condition)

    def comparison(self, definition: ObjectDef, comparison: Comparison) -> Predicate:
        getter, leaf = self.getter(definition, comparison.field.parts, comparison.field)
        op = comparison.op
        if leaf.is_text:
            raw = getter

            def getter(row: Row) -> Value:
                value = raw(row)
                return value.lower() if isinstance(value, str) else value

        if op == "like":
            if not leaf.is_text and leaf.type not in {"id", "reference"}:
                raise self.fail_field(comparison.field, f"invalid operator on {leaf.type} field: LIKE")
            pattern = _like_regex(str(comparison.values[0].value))
            return lambda row: isinstance(value := getter(row), str) and pattern.fullmatch(value) is not None
        relative = [literal for literal in comparison.values if literal.kind == "relative"]
        if relative and leaf.type in {"date", "datetime"}:
            if op in {"in", "not in"}:
                raise self.fail_field(
                    comparison.field, "relative date literals are not supported in IN lists"
                )
            return _relative_predicate(getter, op, _relative_range(relative[0], leaf.type))
        values = [self.literal_value(comparison.field, leaf, literal, op) for literal in comparison.values]
        if op in {"in", "not in"}:
            members = set(values)
            if op == "in":
                return lambda row: getter(row) in members
            return lambda row: getter(row) not in members
        expected = values[0]
        if op == "=":
            return lambda row: getter(row) == expected
        if op == "!=":
            return lambda row: getter(row) != expected
        if expected is None:
            raise MalformedQueryError(
                soql_message(
                    self.query.text, comparison.values[0].position, f"invalid operator with null: {op}"
                )
            )
        compare = _ORDERING[op]
        return lambda row: (value := getter(row)) is not None and bool(compare(value, expected))

    def literal_value(self, path: FieldPath, leaf: FieldDef, literal: Literal, op: str) -> Value:
        kind = literal.kind
        if kind == "null":
            return None
        mismatch = self.fail_field(
            path,
            f"value of filter criterion for field '{leaf.name}' must be of type {_type_word(leaf)} and "
            + (
                "should be enclosed in quotes"
                if leaf.is_text or leaf.type in {"id", "reference"}
                else "should not be enclosed in quotes"
            ),
        )
        if leaf.is_text:
            if kind != "string":
                raise mismatch
            return str(literal.value).lower()
        if leaf.type in {"id", "reference"}:
            if kind != "string":
                raise mismatch
            text = str(literal.value)
            return to_18(text) if len(text) == 15 else text
        if leaf.type == "boolean":
            if kind != "boolean":
                raise mismatch
            return literal.value
        if leaf.is_numeric:
            if kind != "number":
                raise mismatch
            number = float(literal.value)  # type: ignore[arg-type]
            return int(number) if number.is_integer() and leaf.type == "int" else number
        if leaf.type == "date":
            if kind != "date":
                raise mismatch
            return parse_date(str(literal.value))
        if leaf.type == "datetime":
            if kind != "datetime":
                raise mismatch
            return parse_datetime(str(literal.value))
        raise mismatch


def _type_word(leaf: FieldDef) -> str:
    if leaf.is_text or leaf.type in {"id", "reference"}:
        return "string"
    return {"datetime": "dateTime", "int": "int", "boolean": "boolean", "date": "date"}.get(
        leaf.type, "double"
    )


def _like_regex(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            out.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        index += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def _relative_range(literal: Literal, field_type: str) -> tuple[str, str]:
    """[start, end) of a relative date literal, in the stored form of `field_type`."""
    relative = literal.value
    assert relative is not None and not isinstance(relative, str | float | bool)
    today = datetime.now(UTC).date()
    name, amount = relative.name, relative.amount
    ranges: dict[str, tuple[date, date]] = {
        "TODAY": (today, today + timedelta(days=1)),
        "YESTERDAY": (today - timedelta(days=1), today),
        "TOMORROW": (today + timedelta(days=1), today + timedelta(days=2)),
        "LAST_N_DAYS": (today - timedelta(days=amount), today + timedelta(days=1)),
        "NEXT_N_DAYS": (today + timedelta(days=1), today + timedelta(days=amount + 1)),
        "THIS_YEAR": (date(today.year, 1, 1), date(today.year + 1, 1, 1)),
        "LAST_YEAR": (date(today.year - 1, 1, 1), date(today.year, 1, 1)),
        "THIS_MONTH": (
            today.replace(day=1),
            (today.replace(day=1) + timedelta(days=32)).replace(day=1),
        ),
    }
    start, end = ranges[name]
    if field_type == "date":
        return start.isoformat(), end.isoformat()
    return (
        format_datetime(datetime(start.year, start.month, start.day, tzinfo=UTC)),
        format_datetime(datetime(end.year, end.month, end.day, tzinfo=UTC)),
    )


def _relative_predicate(getter: Getter, op: str, bounds: tuple[str, str]) -> Predicate:
    start, end = bounds

    def inside(row: Row) -> bool:
        value = getter(row)
        return value is not None and start <= value < end

    if op == "=":
        return inside
    if op == "!=":
        return lambda row: not inside(row)
    tests: dict[str, Callable[[str], bool]] = {
        "<": lambda value: value < start,
        "<=": lambda value: value < end,
        ">": lambda value: value >= end,
        ">=": lambda value: value >= start,
    }
    test = tests[op]
    return lambda row: (value := getter(row)) is not None and test(value)


_BULK_BOOLEANS = {True: "true", False: "false"}


def _csv_converter(leaf: FieldDef) -> Callable[[Value], Value] | None:
    if leaf.type == "boolean":
        return _BULK_BOOLEANS.__getitem__
    if leaf.type == "datetime":
        return bulk_datetime
    return None


def _csv_kind(leaf: FieldDef) -> str:
    if leaf.type in {"boolean", "datetime"}:
        return leaf.type
    if leaf.is_numeric:
        return "number"
    return "text"


def _modstamp_window_days(where: Condition | None) -> float:
    """How many days of SystemModstamp a query spans (infinite without a lower bound)."""
    parts: tuple[Condition, ...] = (
        () if where is None else where.parts if isinstance(where, And) else (where,)
    )
    lower: str | None = None
    upper: str | None = None
    for part in parts:
        if not isinstance(part, Comparison) or len(part.field.parts) != 1:
            continue
        if part.field.parts[0].lower() != "systemmodstamp" or part.values[0].kind != "datetime":
            continue
        try:
            value = parse_datetime(str(part.values[0].value))
        except ValueError:
            continue
        if part.op in {">", ">="}:
            lower = value if lower is None else max(lower, value)
        elif part.op in {"<", "<="}:
            upper = value if upper is None else min(upper, value)
    if lower is None:
        return float("inf")
    end = (
        datetime.now(UTC)
        if upper is None
        else datetime.strptime(upper, "%Y-%m-%dT%H:%M:%S.%f+0000").replace(tzinfo=UTC)
    )
    start = datetime.strptime(lower, "%Y-%m-%dT%H:%M:%S.%f+0000").replace(tzinfo=UTC)
    return max((end - start).total_seconds(), 0.0) / 86400


def plan_query(query: Query, data: OrgData, visible: FieldVisibility) -> QueryPlan:
    """Validate `query` against `data` as a user who sees fields where `visible(object, field)` holds."""
    return _Planner(query, data, visible).plan()
