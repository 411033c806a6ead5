"""`xsell sync`: run the sync use case inline, with a live counter per object."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

import click

from application.orgs import ListOrgs
from application.sync import SyncOrg, SyncReport
from domain.errors import NotFoundError
from domain.sync import OrgSyncState, SyncRunStatus
from entrypoints.cli.app import cli
from entrypoints.cli.runtime import app_container, load_settings, migrated, services
from entrypoints.settings import Settings

__all__ = ["sync", "sync_orgs"]


def _printer(
    org_id: str, live: bool | None = None
) -> tuple[Callable[[str, int, int], None], Callable[[], None]]:
    """A counter that rewrites its line on a terminal; elsewhere (a log, a pipe) one line per object.

    `live` defaults to whether standard error is a terminal.
    """
    rewrite = sys.stderr.isatty() if live is None else live
    state = {"object": "", "line": ""}

    def flush() -> None:
        if state["object"]:
            click.echo("" if rewrite else state["line"], err=True)

    def progress(sobject: str, upserted: int, deleted: int) -> None:
        if state["object"] and state["object"] != sobject:
            flush()
        state["object"] = sobject
        state["line"] = f"  {org_id:<12} {sobject:<20} {upserted:>10,} upserted {deleted:>8,} deleted"
        if rewrite:
            click.echo(f"\r{state['line']}", nl=False, err=True)

    return progress, flush


def _summary(report: SyncReport) -> str:
    upserted = sum(item["upserted"] for item in report.counts.values())
    deleted = sum(item["deleted"] for item in report.counts.values())
    line = f"{report.org_id}: {report.status.value}"
    if report.reason:
        line += f" ({report.reason})"
    line += f"; {upserted:,} upserted, {deleted:,} deleted"
    if report.mismatches:
        diffs = ", ".join(f"{name} xsell {x:,} vs org {c:,}" for name, (x, c) in report.mismatches.items())
        line += f"; counts differ: {diffs}"
    return line


async def sync_orgs(settings: Settings, org_ids: tuple[str, ...], full: bool) -> bool:
    """Sync the orgs named (all but those needing attention when none), printing progress; True if all did."""
    async with app_container(settings) as container:
        if not org_ids:
            async with container() as request:
                summaries = await (await request.get(ListOrgs)).execute()
            org_ids = tuple(s.org.id for s in summaries if s.status.state is not OrgSyncState.ATTENTION)
            if not org_ids:
                raise click.ClickException("no orgs to sync; connect one with `xsell orgs add`")
        ok = True
        for org_id in org_ids:
            progress, done = _printer(org_id)
            async with container() as request:
                use_case = await request.get(SyncOrg)
                try:
                    report = await use_case.execute(org_id, full=full, trigger="cli", progress=progress)
                except NotFoundError:
                    done()
                    raise click.ClickException(f"no org {org_id!r}; see `xsell orgs list`") from None
            done()
            click.echo(_summary(report))
            ok = ok and report.status in (SyncRunStatus.COMPLETED, SyncRunStatus.PAUSED)
        return ok


@cli.command()
@click.option("--org", "org_ids", multiple=True, metavar="ORG", help="Sync only this org (repeatable).")
@click.option("--full", is_flag=True, help="Forget the cursors and read every record again.")
def sync(org_ids: tuple[str, ...], full: bool) -> None:
    """Sync CRM records now, in this process: every org (or those named), every object.

    Incremental by default: only records changed since the last run are read, deletes included.
    A sync stops early, and says so, when an org reaches its share of the daily API budget
    (XSELL_SYNC_BUDGET_SHARE); the next run resumes. Exits 1 when a sync failed.
    """
    settings = load_settings()
    with services(settings) as resolved:
        migrated(resolved)
        ok = asyncio.run(sync_orgs(resolved, org_ids, full))
    if not ok:
        raise click.ClickException("at least one org did not sync; see above")
