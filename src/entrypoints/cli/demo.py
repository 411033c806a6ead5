"""`xsell demo`: the whole product on one machine — fake Salesforce orgs, sync, resolution, API, worker."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import click

from adapters.observability.redaction import remember_secret
from application.auth import AddUser, NewUser, SetPassword
from application.errors import InvalidRequestError
from application.models.ports import TRAINING_PROFILES
from application.models.scoring import ScoreCustomers, ScoringReport
from application.models.train import TrainingOutcome, TrainModel
from application.orgs import AddOrg, ListOrgs
from application.ports.crm import OrgCredentials
from application.resolution.crosswalk import SuggestProductFamilies
from application.resolution.resolve import ResolveCustomers
from domain.access import Role
from domain.errors import ConflictError
from domain.org import Org, OrgKind
from entrypoints.cli.app import cli
from entrypoints.cli.dashboard import default_api_url
from entrypoints.cli.runtime import (
    app_container,
    check_port_free,
    load_settings,
    migrated,
    progress,
    run_use_case,
    services,
)
from entrypoints.cli.serve import api_address, serve_api
from entrypoints.cli.sync import sync_orgs
from entrypoints.providers.keys import kept_keys
from entrypoints.settings import Settings
from simulators.salesforce import FakeSalesforceServer
from simulators.salesforce.generator import GroupSpec, MemorySink, generate_company_group
from simulators.salesforce.org import FakeOrg

__all__ = ["demo"]

_LOGIN_URL = "https://login.salesforce.com"
DEMO_EMAIL = "admin@demo.xsell.dev"
_DEMO_PASSWORD_FILE = "demo-login.secret"  # noqa: S105  (a file name)
# The generated orgs' currencies in US dollars (the group currency), so every offer can be compared.
_DEMO_RATES = (("EUR", 1.087), ("GBP", 1.266), ("CHF", 1.136), ("JPY", 0.00667))


@contextmanager
def _fake_salesforce(data_dir: Path, accounts: int, seed: int) -> Iterator[FakeSalesforceServer]:
    """A generated company group served on localhost; the same seed gives the same orgs on every run."""
    sink = MemorySink()
    truth = data_dir / "fake-salesforce" / "ground_truth.jsonl"
    truth.parent.mkdir(parents=True, exist_ok=True)
    with progress(f"generating a company group of about {accounts:,} accounts in 3 orgs"):
        generate_company_group(GroupSpec(orgs=3, accounts=accounts, seed=seed), sink, truth)
    with ExitStack() as stack:
        with progress("starting the fake Salesforce orgs"):
            server = stack.enter_context(FakeSalesforceServer(sink.orgs(seed)))
        yield server


def _org_and_login(fake: FakeOrg) -> tuple[Org, OrgCredentials]:
    user = fake.users[0]
    app = fake.apps[0]
    org = Org(
        id=fake.name,
        name=f"Business unit {fake.name.upper()}",
        kind=OrgKind.SALESFORCE,
        business_unit=fake.name,
        currency=fake.data.currency,
        external_id=fake.org_id,
    )
    credentials = OrgCredentials(
        flow="password",
        login_url=_LOGIN_URL,
        username=user.username,
        client_id=app.client_id,
        secrets={
            "password": user.password,
            "security_token": user.security_token,
            "client_secret": app.client_secret,
        },
    )
    return org, credentials


async def _connect_orgs(settings: Settings, server: FakeSalesforceServer) -> list[str]:
    """Register each fake org once; later runs find them and keep their sync cursors."""
    async with app_container(settings) as container:
        async with container() as request:
            known = {summary.org.id for summary in await (await request.get(ListOrgs)).execute()}
        for fake in server.orgs:
            if fake.name in known:
                continue
            org, credentials = _org_and_login(fake)
            async with container() as request:
                await (await request.get(AddOrg)).execute(org, credentials)
        return [fake.name for fake in server.orgs]


async def _demo_admin(settings: Settings) -> tuple[str, str]:
    """The demo's admin user and its password, generated once and kept in the data folder (mode 0600)
    so that every run of the demo prints the same login."""
    password = kept_keys(Path(settings.data_dir) / _DEMO_PASSWORD_FILE, lambda: secrets.token_urlsafe(15))[0]
    remember_secret(password)
    new = NewUser(email=DEMO_EMAIL, display_name="Demo admin", role=Role.ADMIN, password=password)
    async with app_container(settings) as container:
        try:
            async with container() as request:
                await (await request.get(AddUser)).execute(new)
        except ConflictError:  # a later run: make sure the kept password still opens it
            async with container() as request:
                await (await request.get(SetPassword)).execute(DEMO_EMAIL, password)
    return DEMO_EMAIL, password


def _resolve(settings: Settings) -> str:
    report = asyncio.run(
        run_use_case(
            settings,
            ResolveCustomers,
            lambda use_case: use_case.execute(full=False, retrain=False, progress=lambda _line: None),
        )
    )
    return (
        f"{report.customers:,} customers from {report.accounts:,} accounts, "
        f"{report.multi_org_customers:,} in several orgs, {report.review_pairs:,} pairs to review"
    )


def _learn_and_score(settings: Settings) -> str:
    """Map products to families, train the quick profile, score every customer; a summary line."""

    def say(line: str) -> None:
        click.echo(f"    {line}", err=True)

    with progress("mapping each org's products to group product families"):
        asyncio.run(run_use_case(settings, SuggestProductFamilies, lambda use_case: use_case.execute()))
    try:
        with progress("training propensity models (quick profile)"):
            click.echo("", err=True)
            trained: TrainingOutcome = asyncio.run(
                run_use_case(
                    settings,
                    TrainModel,
                    lambda use_case: use_case.execute(
                        by="demo",
                        horizon_days=settings.model_horizon_days,
                        budget=TRAINING_PROFILES["quick"],
                        progress=say,
                    ),
                )
            )
    except InvalidRequestError as exc:
        return f"no model yet: {exc}"
    with progress("scoring every customer"):
        click.echo("", err=True)
        scored: ScoringReport = asyncio.run(
            run_use_case(settings, ScoreCustomers, lambda use_case: use_case.execute(progress=say))
        )
    auc = trained.version.metrics.get("validation_auc", float("nan"))
    return (
        f"model {trained.version.id} (validation AUC {auc:.3f}); {scored.written:,} recommendations written"
        f" for {scored.customers:,} customers"
    )


@contextmanager
def _background(settings: Settings, *commands: list[str]) -> Iterator[None]:
    """Worker, scheduler and dashboard as child processes on the same database, Redis and fake orgs."""
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": settings.database_url or "",
            "REDIS_URL": settings.redis_url or "",
            "XSELL_CACHE_REDIS_URL": settings.cache_redis_url or "",
            "XSELL_DATA_DIR": str(settings.data_dir),
            "XSELL_SALESFORCE_HOST_MAP": ",".join(f"{h}={t}" for h, t in settings.salesforce_host_map or ()),
        }
    )
    if settings.exchange_rates:
        env["XSELL_EXCHANGE_RATES"] = ",".join(f"{code}={rate}" for code, rate in settings.exchange_rates)
    xsell = str(Path(sys.executable).parent / "xsell")
    children = [
        subprocess.Popen([xsell, *command], env=env, stdin=subprocess.DEVNULL)  # noqa: S603
        for command in commands
    ]
    try:
        yield
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(20)
            except subprocess.TimeoutExpired:
                child.kill()


@cli.command()
@click.option("--host", help="Address to listen on (default: XSELL_API_HOST or 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="API port (default: XSELL_API_PORT or 8000).")
@click.option(
    "--accounts",
    type=click.IntRange(30, 200_000),
    default=600,
    show_default=True,
    help="Size of the generated company group.",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the generated company group.")
@click.option(
    "--dashboard-port", type=click.IntRange(1, 65535), default=5006, show_default=True, help="Dashboard port."
)
def demo(host: str | None, port: int | None, accounts: int, seed: int, dashboard_port: int) -> None:
    """Run everything on this machine, with generated data: nothing to install or configure.

    Starts embedded PostgreSQL and Redis, three fake Salesforce orgs of one company group, syncs them,
    recognises the customers they share, maps products to families, trains a model (quick profile) and
    scores every customer, then serves the API with a background worker, scheduler and dashboard.
    Data stays in XSELL_DATA_DIR (default ./.xsell): a second run syncs incrementally.
    """
    settings = load_settings()
    host, port = api_address(settings, host, port)
    try:
        check_port_free(host, dashboard_port)
    except click.ClickException:
        raise click.ClickException(
            f"{host}:{dashboard_port} is not free; choose another with --dashboard-port"
        ) from None
    click.echo("xsell demo", err=True)
    with services(settings) as resolved:
        migrated(resolved)
        with _fake_salesforce(resolved.data_dir, accounts, seed) as server:
            resolved = dataclasses.replace(resolved, salesforce_host_map=tuple(server.host_map().items()))
            with progress("connecting the orgs (credentials encrypted at rest)"):
                org_ids = asyncio.run(_connect_orgs(resolved, server))
            if not asyncio.run(sync_orgs(resolved, tuple(org_ids), full=False)):
                raise click.ClickException("the first sync did not complete; see above")
            with progress("recognising customers across orgs"):
                summary = _resolve(resolved)
            click.echo(f"  {summary}", err=True)
            if not resolved.exchange_rates:
                resolved = dataclasses.replace(resolved, exchange_rates=_DEMO_RATES)
            click.echo(f"  {_learn_and_score(resolved)}", err=True)
            with progress("creating the demo admin"):
                email, password = asyncio.run(_demo_admin(resolved))
            base = f"http://{host}:{port}"
            dashboard = f"http://{host}:{dashboard_port}/"
            click.echo(
                "\n".join(
                    [
                        "",
                        f"  Dashboard    {dashboard}   (sign in with the demo login)",
                        f"  API          {base}/api/v1/accounts",
                        f"  API docs     {base}/schema",
                        f"  Health       {base}/health   Readiness {base}/ready",
                        f"  Demo login   {email} / {password}   (POST {base}/api/v1/auth/login)",
                        f"  Salesforce   {server.login_url}  (fake orgs: {', '.join(org_ids)})",
                        f"  Data folder  {settings.data_dir.resolve()}",
                        "",
                        "  A worker, a scheduler and the dashboard run in the background"
                        " (xsell worker, xsell scheduler, xsell dashboard).",
                        "  Press Ctrl-C to stop; every server stops with it.",
                        "",
                    ]
                ),
                err=True,
            )
            dashboard_command = [
                "dashboard",
                "--host",
                host,
                "--port",
                str(dashboard_port),
                "--api-url",
                default_api_url(host, port),
            ]
            with _background(resolved, ["worker", "--threads", "2"], ["scheduler"], dashboard_command):
                serve_api(resolved, host, port)
