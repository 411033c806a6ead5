"""JOB-2 on real Redis and PostgreSQL: an `xsell worker` SIGKILLed in the middle of a sync_org job leaves the
message unacked; a restarted worker takes it over once the dead worker's heartbeat is stale, and the org
ends in step with the fake Salesforce exactly once (one completed run, no duplicate records)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from tests.integration.fault_report import FaultRecord
from tests.integration.sync.sync_support import KEY, SyncHarness, assert_in_step, harness

from adapters.embedded.services import ServiceUrls
from adapters.tasks.actors import create_broker, declare_sync_actors
from adapters.tasks.quarantine import ATTEMPTS_KEY
from simulators.salesforce import FakeSalesforceServer, ServerSettings
from simulators.salesforce.generator import GroupSpec, MemorySink, generate_company_group

ROOT = Path(__file__).resolve().parents[3]
HEARTBEAT_S = 1.0


@pytest.fixture
def server() -> Iterator[FakeSalesforceServer]:
    sink = MemorySink()
    generate_company_group(GroupSpec(orgs=1, accounts=60, seed=7), sink)
    with FakeSalesforceServer(sink.orgs(), ServerSettings(page_size=50)) as running:
        yield running


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-c", "from entrypoints.cli import main; main()", "worker", "--threads", "1",
        "--heartbeat-s", str(HEARTBEAT_S), "--maintenance-chance", "1000000",
    ]  # fmt: skip
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def _wait_for(h: SyncHarness, sql: str, worker: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not await h.scalar(sql):
        if worker.poll() is not None:
            raise AssertionError(worker.stderr.read().decode() if worker.stderr else "worker exited")
        assert time.monotonic() < deadline, f"timed out waiting for: {sql}"
        time.sleep(0.1)  # noqa: ASYNC251 - polling a child process


@pytest.mark.slow
async def test_a_job_of_a_killed_worker_is_redelivered_and_takes_effect_once(
    server: FakeSalesforceServer,
    database_url: str,
    services: ServiceUrls,
    tmp_path: Path,
    fault_report: FaultRecord,
) -> None:
    async with harness(server, database_url) as h:
        await h.add("bu1")
        broker = create_broker(services.redis_url, max_attempts=3)
        actors = declare_sync_actors(broker, None)
        broker.flush_all()
        host_map = ",".join(f"{host}={target}" for host, target in server.host_map().items())
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": services.redis_url,
            "XSELL_SECRET_KEYS": KEY,
            "XSELL_SALESFORCE_HOST_MAP": host_map,
            "XSELL_DATA_DIR": str(tmp_path),
            "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
        }
        # Slow pages, so the kill lands after some pages are committed and before the run ends.
        server.org("bu1").apply_faults({"latency_ms": 150})
        first = _worker(env)
        second: subprocess.Popen[bytes] | None = None
        try:
            message = actors.sync_org.send("bu1")
            await _wait_for(h, "SELECT count(*) FROM sync_cursors WHERE org_id = 'bu1'", first, 120)
            assert await h.scalar("SELECT status FROM sync_runs WHERE org_id = 'bu1'") == "running"
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            fault_report.injected += 1
            killed_at = time.monotonic()
            server.org("bu1").apply_faults({"latency_ms": 0})

            second = _worker(env)
            await _wait_for(
                h, "SELECT count(*) FROM sync_runs WHERE org_id = 'bu1' AND status = 'completed'", second, 120
            )
            redelivered_s = time.monotonic() - killed_at
            await assert_in_step(h, "bu1")
            # Once: one completed run (the killed one stays as it was), no duplicate keys, counter cleared.
            time.sleep(2 * HEARTBEAT_S)  # noqa: ASYNC251 - a second delivery would start within this
            runs = await h.scalar("SELECT count(*) FROM sync_runs WHERE org_id = 'bu1'")
            completed = await h.scalar(
                "SELECT count(*) FROM sync_runs WHERE org_id = 'bu1' AND status = 'completed'"
            )
            assert (runs, completed) == (2, 1)
            duplicates = await h.scalar(
                "SELECT count(*) FROM (SELECT external_id FROM accounts WHERE org_id = 'bu1'"
                " GROUP BY external_id HAVING count(*) > 1) AS twice"
            )
            assert duplicates == 0
            assert not Redis.from_url(services.redis_url).hexists(ATTEMPTS_KEY, message.message_id)
            assert redelivered_s < 60, redelivered_s
            fault_report.survived += 1
        finally:
            for process in (first, second):
                if process is not None and process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    process.wait(30)
            broker.close()
