"""The outbox relay on real PostgreSQL and Redis: with Redis unreachable every message waits; relays running
at once (SKIP LOCKED) send each message exactly once, carrying ids and options only; `xsell scheduler` runs
a relay."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dramatiq
import pytest
from sqlalchemy import text
from tests.integration.api_support import ORGS, seed
from tests.integration.sync.sync_support import SystemClock

from adapters.embedded.services import ServiceUrls
from adapters.persistence.engine import create_engine, create_session_factory
from adapters.persistence.job_unit_of_work import SqlaJobUnitOfWork
from adapters.tasks.actors import create_broker, declare_sync_actors
from adapters.tasks.model_actors import declare_model_actors
from adapters.tasks.outbox_relay import DramatiqOutboxRelay
from application.errors import DependencyUnavailableError
from application.jobs import JobRequest, RequestJob
from domain.access import Principal, PrincipalKind, Role
from domain.job import JobKind

ADMIN = Principal(subject="admin-1", kind=PrincipalKind.USER, role=Role.ADMIN, org_ids=frozenset())
JOBS = 30
ROOT = Path(__file__).resolve().parents[2]


class LaterQueue:
    """The API's attempt right after the commit found nothing to do: every message is left to the relays."""

    async def send_pending(self, limit: int = 100) -> int:
        return 0


def _broker(redis_url: str, **options: float) -> dramatiq.Broker:
    broker = create_broker(redis_url, max_attempts=3, **options)  # type: ignore[arg-type]
    declare_sync_actors(broker, None)
    declare_model_actors(broker, None)
    return broker


async def _drain(relay: DramatiqOutboxRelay) -> int:
    sent = 0
    while batch := await relay.send_pending(limit=4):
        sent += batch
    return sent


async def test_relays_at_once_send_each_message_exactly_once(
    services: ServiceUrls, database_url: str
) -> None:
    await seed(database_url, per_org=1)
    engine = create_engine(database_url, 4)
    factory = create_session_factory(engine)
    broker = _broker(services.redis_url)
    broker.flush_all()
    try:
        job_ids = set()
        for n in range(JOBS):
            request = JobRequest(JobKind.SYNC, org_id=ORGS[n % len(ORGS)], full=n % 2 == 0)
            async with factory() as session:
                job = await RequestJob(SqlaJobUnitOfWork(session), LaterQueue(), SystemClock()).execute(
                    request, ADMIN
                )
            job_ids.add(str(job.id))

        unreachable = _broker("unix:///nonexistent/xsell-redis.sock", timeout_s=1.0)
        with pytest.raises(DependencyUnavailableError):
            await DramatiqOutboxRelay(factory, unreachable).send_pending()
        async with engine.connect() as connection:
            waiting = "SELECT count(*) FROM outbox WHERE relayed_at IS NULL"
            assert (await connection.execute(text(waiting))).scalar() == JOBS

        sent = await asyncio.gather(*(_drain(DramatiqOutboxRelay(factory, broker)) for _ in range(3)))
        assert sum(sent) == JOBS
        async with engine.connect() as connection:
            assert (await connection.execute(text(waiting))).scalar() == 0
        queued = [dramatiq.Message.decode(raw) for raw in broker.client.hvals("xsell:sync.msgs")]
        assert len(queued) == JOBS  # not one message twice
        assert {m.message_id for m in queued} == job_ids == {m.kwargs["job_id"] for m in queued}
        for message in queued:
            assert message.actor_name == "sync_org" and message.args == ()
            assert set(message.kwargs) == {"org_id", "full", "job_id"}
            assert json.dumps(message.kwargs).count("secret") == 0
    finally:
        broker.flush_all()
        broker.close()
        await engine.dispose()


@pytest.mark.slow
async def test_the_scheduler_relays_what_waits_in_the_outbox(
    services: ServiceUrls, database_url: str, tmp_path: Path
) -> None:
    await seed(database_url, per_org=1)
    engine = create_engine(database_url, 1)
    factory = create_session_factory(engine)
    broker = _broker(services.redis_url)
    broker.flush_all()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "DATABASE_URL": database_url,
        "REDIS_URL": services.redis_url,
        "XSELL_DATA_DIR": str(tmp_path),
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
    }
    command = [
        sys.executable,
        "-c",
        "from entrypoints.cli import main; main()",
        "scheduler",
        "--metrics-port",
        "0",
    ]
    scheduler = subprocess.Popen(  # noqa: ASYNC220 - a child process the test stops below
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        async with factory() as session:
            job = await RequestJob(SqlaJobUnitOfWork(session), LaterQueue(), SystemClock()).execute(
                JobRequest(JobKind.SCORE), ADMIN
            )
        deadline = time.monotonic() + 90
        while True:
            async with engine.connect() as connection:
                relayed = (
                    await connection.execute(
                        text("SELECT relayed_at IS NOT NULL FROM outbox WHERE job_id = :id"), {"id": job.id}
                    )
                ).scalar()
            if relayed:
                break
            if scheduler.poll() is not None:
                raise AssertionError(scheduler.stderr.read().decode() if scheduler.stderr else "exited")
            assert time.monotonic() < deadline, "the scheduler never relayed the job"
            await asyncio.sleep(0.3)
        [message] = [dramatiq.Message.decode(raw) for raw in broker.client.hvals("xsell:models.msgs")]
        assert (message.actor_name, message.kwargs) == ("score", {"job_id": str(job.id)})
    finally:
        scheduler.send_signal(signal.SIGTERM)
        scheduler.wait(30)
        broker.flush_all()
        broker.close()
        await engine.dispose()
