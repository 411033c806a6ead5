"""The Dramatiq worker on real Redis: `xsell worker` runs a queued sync_org (ids only in the message), and a
message that keeps killing its worker is quarantined."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import dramatiq
import pytest
from dramatiq.broker import MessageProxy
from dramatiq.middleware import SkipMessage
from redis import Redis
from tests.integration.sync.sync_support import KEY, assert_in_step, harness

from adapters.embedded.services import ServiceUrls
from adapters.tasks.actors import create_broker, declare_sync_actors
from adapters.tasks.quarantine import AttemptLimit, quarantined
from simulators.salesforce import FakeSalesforceServer, ServerSettings
from simulators.salesforce.generator import GroupSpec, MemorySink, generate_company_group

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def server() -> Iterator[FakeSalesforceServer]:
    sink = MemorySink()
    generate_company_group(GroupSpec(orgs=1, accounts=40, seed=4), sink)
    with FakeSalesforceServer(sink.orgs(), ServerSettings(page_size=100)) as running:
        yield running


@pytest.mark.slow
async def test_a_queued_sync_runs_on_the_worker(
    server: FakeSalesforceServer, database_url: str, services: ServiceUrls, tmp_path: Path
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
        worker = subprocess.Popen(  # noqa: ASYNC220 - a child process the test stops below
            [sys.executable, "-c", "from entrypoints.cli import main; main()", "worker", "--threads", "2"],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            message = actors.sync_org.send("bu1")
            assert json.dumps(message.asdict()).count(KEY) == 0
            assert message.args == ("bu1",)
            deadline = time.monotonic() + 90
            status = None
            while time.monotonic() < deadline:
                status = await h.scalar("SELECT status FROM sync_runs WHERE org_id = 'bu1' LIMIT 1")
                if status not in (None, "running"):
                    break
                assert worker.poll() is None, worker.stderr.read().decode() if worker.stderr else ""
                time.sleep(0.5)  # noqa: ASYNC251 - polling a child process
            assert status == "completed"
            await assert_in_step(h, "bu1")
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(30)
            broker.close()


def test_a_message_that_keeps_crashing_its_worker_is_quarantined(services: ServiceUrls) -> None:
    client = Redis.from_url(services.redis_url)
    limit = AttemptLimit(client, max_attempts=3)
    broker = dramatiq.get_broker()
    message = dramatiq.Message(
        queue_name="sync", actor_name="sync_org", args=("bu1",), kwargs={}, options={},
        message_id=str(uuid.uuid4()),
    )  # fmt: skip
    proxy = MessageProxy(message)
    for _ in range(3):  # three deliveries whose worker died before it could record anything
        limit.before_process_message(broker, proxy)
    with pytest.raises(SkipMessage):
        limit.before_process_message(broker, proxy)
    assert quarantined(client)[message.message_id]["attempts"] == 3
    # A delivery whose worker survives (success or an ordinary error) resets the count.
    other = MessageProxy(dramatiq.Message("sync", "sync_org", ("bu2",), {}, {}, message_id=str(uuid.uuid4())))
    for _ in range(5):
        limit.before_process_message(broker, other)
        limit.after_process_message(broker, other)
    assert other.message_id not in quarantined(client)
