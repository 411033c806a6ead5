"""`xsell orgs add|list|remove|test|schedule|rotate-secrets`: connect CRM orgs, manage their sealed
credentials and their sync schedules."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from adapters.security.secret_box import SecretBoxError
from application.errors import InvalidRequestError
from application.orgs import AddOrg, ListOrgs, RemoveOrg, RotateOrgSecrets, ScheduleOrg, TestOrg
from application.ports.crm import CrmError, OrgCredentials
from application.ports.schedule import CronCalendar
from domain.errors import DomainError, NotFoundError
from domain.org import Org, OrgKind
from entrypoints.cli.app import cli
from entrypoints.cli.runtime import app_container, load_settings, migrated, services
from entrypoints.settings import Settings

__all__ = ["orgs"]

T = TypeVar("T")
_FLOWS = ("password", "client_credentials", "jwt")


def _run(work: Callable[[Any], Awaitable[T]]) -> T:
    """Run `work(request_container)` against the migrated database, one-line errors for known failures."""
    settings = load_settings()
    with services(settings) as resolved:
        migrated(resolved)
        return asyncio.run(_in_container(resolved, work))


async def _in_container(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    async with app_container(settings) as container, container() as request:
        try:
            return await work(request)
        except NotFoundError as error:
            raise click.ClickException(f"{error}; see `xsell orgs list`") from None
        except (InvalidRequestError, DomainError, CrmError) as error:
            raise click.ClickException(str(error)) from None
        except SecretBoxError as error:
            raise click.ClickException(f"credentials: {error}") from None


@cli.group()
def orgs() -> None:
    """Connect CRM orgs, test their logins, and manage their encrypted credentials.

    Secrets are read from environment variables or asked for (never from the command line, where other
    users could see them): XSELL_ORG_PASSWORD, XSELL_ORG_SECURITY_TOKEN, XSELL_ORG_CLIENT_SECRET.
    """


def _secret(variable: str, prompt: str) -> str:
    value = os.environ.get(variable)
    if value:
        return value
    return str(click.prompt(prompt, hide_input=True))


@orgs.command("add")
@click.argument("org_id")
@click.option("--name", required=True, help="Display name, e.g. 'Acme EMEA'.")
@click.option("--kind", type=click.Choice(["salesforce", "csv"]), default="salesforce", show_default=True)
@click.option("--business-unit", default="", help="Business unit the org belongs to (default: the name).")
@click.option("--currency", default="USD", show_default=True, help="Org currency (ISO 4217).")
@click.option("--flow", type=click.Choice(_FLOWS), default="jwt", show_default=True, help="Salesforce login.")
@click.option("--login-url", default="https://login.salesforce.com", show_default=True,
              help="Login host: login, test (sandbox) or https://MYDOMAIN.my.salesforce.com.")  # fmt: skip
@click.option("--username", help="Integration user (password and jwt flows).")
@click.option("--client-id", help="Connected app consumer key.")
@click.option("--private-key-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="PEM private key of the connected app's certificate (jwt flow).")  # fmt: skip
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), help="CSV exports (csv kind).")
@click.option(
    "--schedule", help="Cron schedule (UTC) of its syncs, e.g. '0 * * * *'; default XSELL_SYNC_SCHEDULE."
)
@click.option("--replace", is_flag=True, help="Change the login of an org that exists.")
def add(
    org_id: str,
    name: str,
    kind: str,
    business_unit: str,
    currency: str,
    flow: str,
    login_url: str,
    username: str | None,
    client_id: str | None,
    private_key_file: Path | None,
    folder: Path | None,
    schedule: str | None,
    replace: bool,
) -> None:
    """Connect an org: ORG_ID is a short slug you choose (emea, acme-us). Test it with `xsell orgs test`."""
    secrets: dict[str, str] = {}
    if kind == "csv":
        if folder is None:
            raise click.UsageError("a csv org needs --folder")
        credentials = OrgCredentials(flow="csv", login_url=str(folder.resolve()))
        instance_url: str | None = str(folder.resolve())
    else:
        if not client_id:
            raise click.UsageError("a Salesforce org needs --client-id (the connected app's consumer key)")
        if flow in ("password", "jwt") and not username:
            raise click.UsageError(f"the {flow} flow needs --username")
        if flow == "jwt":
            if private_key_file is None:
                raise click.UsageError("the jwt flow needs --private-key-file")
            secrets["private_key"] = private_key_file.read_text()
        else:
            secrets["client_secret"] = _secret("XSELL_ORG_CLIENT_SECRET", "Connected app consumer secret")
        if flow == "password":
            secrets["password"] = _secret("XSELL_ORG_PASSWORD", "Password")
            token = os.environ.get("XSELL_ORG_SECURITY_TOKEN")
            if token:
                secrets["security_token"] = token
        credentials = OrgCredentials(flow, login_url, username, client_id, secrets)
        instance_url = None
    try:
        org = Org(org_id, name, OrgKind(kind), business_unit or name, currency, instance_url)
    except DomainError as error:
        raise click.UsageError(str(error)) from None

    async def work(request: Any) -> None:
        calendar: CronCalendar = await request.get(CronCalendar)
        if schedule is not None:
            calendar.check(schedule)  # before anything is stored
        await (await request.get(AddOrg)).execute(org, credentials, replace=replace)
        if schedule is not None:
            await (await request.get(ScheduleOrg)).execute(org_id, schedule)

    _run(work)
    click.echo(f"org {org_id} saved (credentials encrypted); check it with: xsell orgs test {org_id}")


@orgs.command("list")
def list_() -> None:
    """Show every org: how it logs in, its sync state, API usage and last sync (never a secret)."""

    async def work(request: Any) -> list[Any]:
        return list(await (await request.get(ListOrgs)).execute())

    rows = _run(work)
    if not rows:
        click.echo("no orgs yet; add one with `xsell orgs add`")
        return
    default = load_settings().sync_schedule
    click.echo(f"{'ORG':<14}{'KIND':<11}{'LOGIN':<20}{'STATE':<11}{'API USE':<16}{'SCHEDULE':<18}LAST SYNC")
    for row in rows:
        usage = row.status.usage
        api = f"{usage.used:,}/{usage.max:,}" if usage else "-"
        run = row.last_run
        last = f"{run.started_at:%Y-%m-%d %H:%M} {run.status.value}" if run else "never"
        state = row.status.state.value + (f" ({row.status.reason})" if row.status.reason else "")
        schedule = row.org.sync_schedule or f"{default} *"  # * marks the default
        click.echo(
            f"{row.org.id:<14}{row.org.kind.value:<11}{row.flow or '-':<20}{state:<11}{api:<16}"
            f"{schedule:<18}{last}"
        )


@orgs.command("schedule")
@click.argument("org_id")
@click.argument("cron")
def schedule_(org_id: str, cron: str) -> None:
    """Sync ORG_ID on CRON, five fields in UTC ('*/30 * * * *', '0 2 * * 1-5'), or 'default' for
    XSELL_SYNC_SCHEDULE. A running `xsell scheduler` picks the change up within a minute."""
    wanted = None if cron.strip().lower() == "default" else cron

    async def work(request: Any) -> Org:
        use_case: ScheduleOrg = await request.get(ScheduleOrg)
        return await use_case.execute(org_id, wanted)

    org = _run(work)
    shown = org.sync_schedule or f"the default schedule ({load_settings().sync_schedule})"
    click.echo(f"org {org_id} syncs on {shown} (UTC)")


@orgs.command("remove")
@click.argument("org_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def remove(org_id: str, yes: bool) -> None:
    """Remove an org with its credentials and every record synced from it."""
    if not yes:
        click.confirm(f"Remove org {org_id} and all its synced records?", abort=True)

    async def work(request: Any) -> None:
        await (await request.get(RemoveOrg)).execute(org_id)

    _run(work)
    click.echo(f"org {org_id} removed")


@orgs.command("test")
@click.argument("org_id")
def test(org_id: str) -> None:
    """Log in to the org and read its daily API usage."""

    async def work(request: Any) -> Any:
        return await (await request.get(TestOrg)).execute(org_id)

    usage = _run(work)
    share = f" ({usage.share():.1%})" if usage.max else ""
    click.echo(f"org {org_id}: login ok; API requests today {usage.used:,} of {usage.max:,}{share}")


@orgs.command("rotate-secrets")
def rotate_secrets() -> None:
    """Re-encrypt every org's credentials with the newest key in XSELL_SECRET_KEYS.

    Rotation: put a new key first in XSELL_SECRET_KEYS (keep the old one after it), run this, then
    remove the old key.
    """

    async def work(request: Any) -> int:
        use_case: RotateOrgSecrets = await request.get(RotateOrgSecrets)
        return await use_case.execute()

    count = _run(work)
    click.echo(f"re-encrypted the credentials of {count} org(s) with the newest key")
