"""DI-4: a sync process killed with SIGKILL at each point of a page, then restarted, loses nothing,
duplicates nothing, and its cursor never moves backwards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from tests.integration.fault_report import FaultRecord
from tests.integration.sync.sync_support import KEY, assert_in_step, harness

from simulators.salesforce import FakeSalesforceServer, ServerSettings
from simulators.salesforce.generator import GroupSpec, MemorySink, generate_company_group

ROOT = Path(__file__).resolve().parents[3]
WORKER = Path(__file__).with_name("crash_sync_worker.py")
POINTS = ("before_fetch", "after_fetch", "mid_upsert", "after_upsert", "after_cursor")


@pytest.fixture
def server() -> Iterator[FakeSalesforceServer]:
    sink = MemorySink()
    generate_company_group(GroupSpec(orgs=1, accounts=90, seed=21), sink)
    with FakeSalesforceServer(sink.orgs(), ServerSettings(page_size=15)) as running:
        yield running


def _run(database_url: str, server: FakeSalesforceServer, point: str, hit: int) -> int:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    args = [
        sys.executable,
        str(WORKER),
        database_url,
        json.dumps(server.host_map()),
        KEY,
        "bu1",
        point,
        str(hit),
    ]
    return subprocess.run(args, env=env, cwd=ROOT, capture_output=True, timeout=120, check=False).returncode


@pytest.mark.slow
async def test_sigkill_at_every_point_of_a_page_loses_and_duplicates_nothing(
    server: FakeSalesforceServer, database_url: str, fault_report: FaultRecord
) -> None:
    async with harness(server, database_url) as h:
        await h.add("bu1")
        previous: tuple[object, object] | None = None
        for number, point in enumerate(POINTS):
            # A later page each time, so every crash lands in the middle of the work left.
            assert _run(database_url, server, point, hit=2 + number) == -signal.SIGKILL
            fault_report.injected += 1
            sql = "SELECT modstamp, last_id FROM sync_cursors WHERE org_id = 'bu1' AND sobject = 'Account'"
            async with h.engine.connect() as connection:
                cursor = (await connection.execute(text(sql))).first()
            if cursor is not None:
                current = (cursor[0], cursor[1])
                assert previous is None or current >= previous, f"cursor moved backwards after {point}"
                previous = current
        assert _run(database_url, server, "none", 0) == 0
        await assert_in_step(h, "bu1", ("Account", "Contact"))
        rows = await h.scalar("SELECT count(*) FROM accounts WHERE org_id = 'bu1'")
        expected = len(server.org("bu1").data.tables["Account"].rows)
        fault_report.records_lost = max(0, expected - int(rows))
        assert rows == expected
        fault_report.survived = fault_report.injected
