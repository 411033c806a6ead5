"""The fault report: each fault test records faults injected, survived and records lost, and the run ends
with one table of them (the fault tests live in tests/integration/faults and tests/integration/sync)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest


@dataclass
class FaultRecord:
    fault: str
    injected: int = 0
    survived: int = 0
    records_lost: int = 0


_REPORT: list[FaultRecord] = []


@pytest.fixture
def fault_report(request: pytest.FixtureRequest) -> FaultRecord:
    """This test's row of the report, named after the test."""
    record = FaultRecord(fault=request.node.name.removeprefix("test_").replace("_", " "))
    _REPORT.append(record)
    return record


def write_fault_report(terminalreporter: pytest.TerminalReporter) -> None:
    if not _REPORT:
        return
    terminalreporter.section("fault injection")
    width = max(len(r.fault) for r in _REPORT)
    terminalreporter.write_line(f"{'fault'.ljust(width)} | injected | survived | records lost")
    for r in _REPORT:
        terminalreporter.write_line(
            f"{r.fault.ljust(width)} | {r.injected:8d} | {r.survived:8d} | {r.records_lost:12d}"
        )
