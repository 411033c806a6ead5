"""Fuzzing the parsers that take outside input: 0 crashes over a fixed budget.

A crash is any exception other than the documented error of the component: the fake Salesforce's SOQL
parser answers MalformedQueryError (Salesforce's MALFORMED_QUERY); the CSV import answers CrmError with
the file and line. Examples are derandomised, so the budget and the inputs are the same on every run.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.crm.csv_export import CsvCrmGateway
from application.ports.crm import CrmError
from simulators.salesforce.errors import ApiError
from simulators.salesforce.soql import parse_soql

_WORDS = st.sampled_from(
    [
        "SELECT", "Id", "Name", "FROM", "Account", "WHERE", "AND", "OR", "NOT", "LIMIT", "ORDER", "BY",
        "ASC", "DESC", "NULLS", "LAST", "=", "!=", "<", ">=", "LIKE", "IN", "(", ")", ",", "'x'", "'",
        "2024-01-01T00:00:00Z", "42", "-1", "true", "null", "COUNT()", "SystemModstamp", "Owner.Name",
        "INCLUDES", "TODAY", "LAST_N_DAYS:3", "\\'", "%", "\u00e9", "OFFSET",
    ]
)  # fmt: skip
_BUDGET = settings(max_examples=1500, derandomize=True, deadline=None)


@_BUDGET
@given(st.one_of(st.text(max_size=200), st.lists(_WORDS, max_size=30).map(" ".join)))
def test_the_soql_parser_never_crashes(text: str) -> None:
    with contextlib.suppress(ApiError):
        parse_soql(text)


_CELLS = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        ["001000000000001AAA", "001000000000001", "2024-01-01T00:00:00.000+0000", "", "true", "1e9"]
    ),
)


@settings(max_examples=400, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=st.lists(
        st.sampled_from(["Id", "Name", "SystemModstamp", "IsDeleted", "Industry", "AnnualRevenue", "x"]),
        max_size=6,
    ),
    rows=st.lists(st.lists(_CELLS, max_size=7), max_size=6),
    raw=st.binary(max_size=60),
    use_raw=st.booleans(),
)
def test_the_csv_import_answers_bad_files_with_a_crm_error(
    header: list[str], rows: list[list[str]], raw: bytes, use_raw: bool
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "Account.csv"
        if use_raw:
            path.write_bytes(raw)
        else:
            lines = [
                ",".join(header),
                *(",".join(f'"{c.replace(chr(34), "")}"' for c in row) for row in rows),
            ]
            path.write_text("\n".join(lines), encoding="utf-8")
        gateway = CsvCrmGateway(Path(folder))

        async def read_all() -> None:
            schema = await gateway.describe("Account")
            await gateway.count("Account")
            async for _ in gateway.changes(schema, None):
                pass

        message = ""
        try:
            asyncio.run(read_all())
        except CrmError as exc:
            message = str(exc)
        assert not message or "Account.csv" in message
