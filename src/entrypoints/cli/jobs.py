"""`xsell jobs list|show`: the asynchronous work requested through the API, and how it went."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import click

from application.errors import InvalidRequestError
from application.jobs import ListJobs, ShowJob
from domain.access import Principal, PrincipalKind, Role
from domain.errors import NotFoundError
from domain.job import Job
from entrypoints.cli.app import cli
from entrypoints.cli.runtime import app_container, load_settings, migrated, services
from entrypoints.settings import Settings

__all__ = ["jobs"]

# The command line acts as the operator: it sees every job, like an admin.
_OPERATOR = Principal(subject="cli", kind=PrincipalKind.USER, role=Role.ADMIN, org_ids=frozenset())


async def _list(settings: Settings, limit: int) -> list[Job]:
    async with app_container(settings) as container, container() as request:
        page = await (await request.get(ListJobs)).execute(_OPERATOR, limit=limit)
        return page.items


async def _show(settings: Settings, job_id: uuid.UUID) -> Job:
    async with app_container(settings) as container, container() as request:
        return await (await request.get(ShowJob)).execute(job_id, _OPERATOR)


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"


@cli.group()
def jobs() -> None:
    """Follow the work started through the API (POST /api/v1/jobs, POST /api/v1/orgs/ID/sync).

    A job is queued until a worker takes it (its message waits in the database's outbox while Redis is
    down), then running, then succeeded or failed.
    """


@jobs.command("list")
@click.option(
    "--limit", type=click.IntRange(1, 500), default=20, show_default=True, help="Newest jobs to show."
)
def list_(limit: int) -> None:
    """The newest jobs first: id, kind, org, status, when it was asked for and finished."""
    settings = load_settings()
    with services(settings) as resolved:
        migrated(resolved)
        items = asyncio.run(_list(resolved, limit))
    if not items:
        click.echo("no jobs yet", err=True)
    for job in items:
        click.echo(
            f"{job.id}  {job.kind.value:<8}  {job.org_id or '-':<12}  {job.status.value:<9}  "
            f"{_when(job.created_at)}  {_when(job.finished_at)}"
        )


@jobs.command("show")
@click.argument("job_id")
def show(job_id: str) -> None:
    """One job with its parameters, result and error."""
    try:
        parsed = uuid.UUID(job_id)
    except ValueError:
        raise click.ClickException(f"{job_id!r} is not a job id; see `xsell jobs list`") from None
    settings = load_settings()
    with services(settings) as resolved:
        migrated(resolved)
        try:
            job = asyncio.run(_show(resolved, parsed))
        except (NotFoundError, InvalidRequestError) as error:
            raise click.ClickException(f"{error}; see `xsell jobs list`") from None
    click.echo(f"job        {job.id}")
    click.echo(f"kind       {job.kind.value}" + (f" of org {job.org_id}" if job.org_id else ""))
    click.echo(f"status     {job.status.value} (attempts: {job.attempts})")
    click.echo(f"asked by   {job.requested_by} at {_when(job.created_at)}")
    click.echo(f"started    {_when(job.started_at)}")
    click.echo(f"finished   {_when(job.finished_at)}")
    click.echo(f"parameters {json.dumps(job.parameters, sort_keys=True)}")
    click.echo(f"result     {json.dumps(job.result, sort_keys=True)}")
    if job.error:
        click.echo(f"error      {job.error}")
