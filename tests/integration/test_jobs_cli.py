"""`xsell jobs list|show` as a user runs it: the newest jobs, one job in full, one-line errors."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.cli import one_line_error, run_xsell
from tests.integration.api_support import seed

from adapters.embedded.services import ServiceUrls
from adapters.persistence.engine import create_engine, create_session_factory
from adapters.persistence.job_unit_of_work import SqlaJobUnitOfWork
from domain.job import Job, JobKind

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


async def test_jobs_commands(services: ServiceUrls, database_url: str, tmp_path: Path) -> None:
    await seed(database_url, per_org=1)
    synced = Job(uuid.uuid4(), JobKind.SYNC, {"full": True}, "ana", NOW, org_id="emea")
    synced.start(NOW)
    synced.succeed(NOW + timedelta(minutes=2), {"upserted": 12, "deleted": 1})
    failed = Job(uuid.uuid4(), JobKind.SCORE, {}, "ana", NOW + timedelta(hours=1))
    failed.start(NOW + timedelta(hours=1))
    failed.fail(
        NOW + timedelta(hours=1, minutes=1), "no model serves yet: train one with `xsell train` first"
    )
    engine = create_engine(database_url, 1)
    try:
        async with SqlaJobUnitOfWork(create_session_factory(engine)()) as uow:
            await uow.jobs.add(synced)
            await uow.jobs.add(failed)
            await uow.commit()
    finally:
        await engine.dispose()
    env = {"DATABASE_URL": database_url, "REDIS_URL": services.redis_url, "XSELL_DATA_DIR": str(tmp_path)}

    listed = run_xsell("jobs", "list", **env)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [str(failed.id), str(synced.id)]  # newest first
    assert "sync" in lines[1] and "emea" in lines[1] and "succeeded" in lines[1]

    shown = run_xsell("jobs", "show", str(failed.id), **env)
    assert shown.returncode == 0, shown.stderr
    assert "status     failed (attempts: 1)" in shown.stdout
    assert "error      no model serves yet" in shown.stdout
    assert '{"deleted": 1, "upserted": 12}' in run_xsell("jobs", "show", str(synced.id), **env).stdout

    assert "not a job id" in one_line_error(run_xsell("jobs", "show", "nope", **env))
    assert "xsell jobs list" in one_line_error(run_xsell("jobs", "show", str(uuid.uuid4()), **env))
