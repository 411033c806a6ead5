"""`xsell fake-salesforce`: serve fake Salesforce orgs (generated or from CSV exports) on localhost."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from entrypoints.cli.app import cli
from simulators.salesforce.csv_seed import SeedFileError, load_org_directory
from simulators.salesforce.faults import FaultSpecError, parse_fault_option
from simulators.salesforce.generator import CsvSink, GroupSpec, MemorySink, generate_company_group
from simulators.salesforce.org import FakeOrg
from simulators.salesforce.server import FakeSalesforceServer, ServerStartError
from simulators.salesforce.settings import ServerSettings

__all__ = ["fake_salesforce"]

_DEFAULT_DIR = Path(".xsell") / "fake-salesforce"


def _parse_org_option(value: str) -> tuple[str, Path]:
    name, sep, directory = value.partition("=")
    if not sep or not name or not directory:
        raise click.UsageError(f"--org must look like NAME=DIR, not {value!r}")
    if not name.replace("-", "").replace("_", "").isalnum():
        raise click.UsageError(f"org name {name!r} may use only letters, digits, '-' and '_'")
    return name, Path(directory)


def _print_connection(server: FakeSalesforceServer, keys_dir: Path, admin: bool) -> None:
    echo = click.echo
    echo(
        "Fake Salesforce is running. "
        f"Login URL (stands in for https://login.salesforce.com): {server.login_url}"
    )
    keys_dir.mkdir(parents=True, exist_ok=True)
    for org in server.orgs:
        app, user = org.apps[0], org.users[0]
        key_file = keys_dir / f"{org.name}-jwt-private-key.pem"
        key_file.write_bytes(app.private_key_pem)
        key_file.chmod(0o600)
        counts = ", ".join(
            f"{name} {len(table.rows)}" for name, table in org.data.tables.items() if table.rows
        )
        echo("")
        echo(
            f"org {org.name}  id {org.org_id}  currency {org.data.currency}"
            f"{' (multi-currency)' if org.data.multi_currency else ''}"
        )
        echo(f"  instance URL   {org.instance_url}   (My Domain host: {org.my_domain}.salesforce.com)")
        echo(
            f"  username       {user.username}   password {user.password}   "
            f"security token {user.security_token}"
        )
        echo(f"  restricted     {org.users[1].username}   (profile hides some fields)")
        echo(f"  client id      {app.client_id}   client secret {app.client_secret}")
        echo(f"  JWT key        {key_file}")
        echo(f"  records        {counts}")
    echo("")
    echo(
        "httpx/curl: POST {login}/services/oauth2/token with grant_type=password|client_credentials, then use"
    )
    echo("the returned instance_url. simple-salesforce: mount simulators.salesforce.FakeSalesforceAdapter")
    echo("(or call connect_simple_salesforce) so its https:// URLs reach these ports.")
    if admin:
        echo(f"Admin endpoint (faults, record mutations): {server.login_url}/__admin/orgs")
    echo("Press Ctrl+C to stop.")


@cli.command("fake-salesforce")
@click.option(
    "--generate/--no-generate",
    default=None,
    help="Generate a company group (the default when no --org is given).",
)
@click.option(
    "--orgs",
    "org_count",
    type=click.IntRange(1, 50),
    default=3,
    show_default=True,
    help="Number of generated orgs (business units).",
)
@click.option(
    "--accounts",
    type=click.IntRange(1, 5_000_000),
    default=600,
    show_default=True,
    help="Approximate number of generated accounts across all orgs.",
)
@click.option(
    "--seed", type=int, default=7, show_default=True, help="Seed; the same seed gives the same data."
)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default="2026-10-01",
    show_default=True,
    help="Last day of the generated three-year history.",
)
@click.option(
    "--ground-truth",
    type=click.Path(dir_okay=False, path_type=Path),
    default=_DEFAULT_DIR / "ground_truth.jsonl",
    show_default=True,
    help="Where to write the ground truth of a generated group (JSON Lines).",
)
@click.option(
    "--write-csv",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write the generated orgs as CSV directories here (streaming) and exit without serving.",
)
@click.option(
    "--org",
    "org_dirs",
    multiple=True,
    metavar="NAME=DIR",
    help="Serve an org from CSV files named by object (Account.csv, Contact.csv, ...). Repeatable.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65000),
    default=0,
    show_default=True,
    help="Login port; orgs take the ports after it. 0 picks free ports.",
)
@click.option(
    "--page-size",
    type=click.IntRange(1, 2000),
    default=2000,
    show_default=True,
    help="REST query page size (Salesforce's batch size).",
)
@click.option(
    "--token-lifetime",
    type=click.FloatRange(1, None),
    default=7200,
    show_default=True,
    help="Access token lifetime in seconds.",
)
@click.option(
    "--api-limit",
    type=click.IntRange(1, None),
    default=15000,
    show_default=True,
    help="Daily API request budget of each org.",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="ORG:KEY=VALUE",
    help="Inject a fault, e.g. bu1:latency_ms=50, bu2:error_rate=0.1, bu1:hide_field=Account.Industry@100."
    " Keys: latency_ms, error_rate, reset_rate, expire_tokens_once, daily_limit, exhaust_daily_limit,"
    " query_timeout_days, query_timeouts, hide_field, shared_modstamp, late_records, bulk_fail.",
)
@click.option(
    "--admin", is_flag=True, help="Serve the test-only /__admin endpoint (faults and record mutations)."
)
@click.option(
    "--keys-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=_DEFAULT_DIR / "keys",
    show_default=True,
    help="Where to write each connected app's JWT private key.",
)
def fake_salesforce(
    generate: bool | None,
    org_count: int,
    accounts: int,
    seed: int,
    as_of: datetime,
    ground_truth: Path,
    write_csv: Path | None,
    org_dirs: tuple[str, ...],
    host: str,
    port: int,
    page_size: int,
    token_lifetime: float,
    api_limit: int,
    faults: tuple[str, ...],
    admin: bool,
    keys_dir: Path,
) -> None:
    """Serve fake Salesforce orgs on localhost that behave like Salesforce on the wire.

    Each org gets its own instance URL (port), org id, users and connected app; logins (OAuth password,
    client credentials, JWT bearer, SOAP) work on the login URL and on each instance URL. By default a
    seeded company group of three business-unit orgs is generated, with its ground truth written for
    evaluation.

    \b
    Examples:
      xsell fake-salesforce                                # 3 generated orgs, ~600 accounts
      xsell fake-salesforce --accounts 20000 --seed 1
      xsell fake-salesforce --org emea=exports/emea --org us=exports/us
      xsell fake-salesforce --fault bu1:error_rate=0.05 --admin
      xsell fake-salesforce --accounts 1000000 --write-csv data/group   # then serve with --org
    """
    parsed_dirs = [_parse_org_option(value) for value in org_dirs]
    try:
        parsed_faults = [parse_fault_option(option) for option in faults]
    except FaultSpecError as error:
        raise click.UsageError(str(error)) from None
    if generate is None:
        generate = not parsed_dirs
    if write_csv is not None and not generate:
        raise click.UsageError("--write-csv writes a generated group; do not combine it with --no-generate")
    spec = GroupSpec(orgs=org_count, accounts=accounts, seed=seed, as_of=as_of.date())
    if write_csv is not None:
        click.echo(f"Generating about {accounts} accounts in {org_count} orgs into {write_csv} ...")
        summary = generate_company_group(spec, CsvSink(write_csv), ground_truth)
        click.echo(
            f"Wrote {summary.companies} companies, {summary.accounts} accounts; ground truth {ground_truth}"
        )
        click.echo(
            "Serve them with: "
            + " ".join(f"--org {unit.name}={write_csv / unit.name}" for unit in summary.units)
        )
        return
    orgs: list[FakeOrg] = []
    if generate:
        click.echo(f"Generating about {accounts} accounts in {org_count} orgs (seed {seed}) ...")
        sink = MemorySink()
        generate_company_group(spec, sink, ground_truth)
        orgs = sink.orgs(seed)
        click.echo(f"Ground truth written to {ground_truth}")
    names = {org.name for org in orgs}
    for name, directory in parsed_dirs:
        if name in names:
            raise click.UsageError(f"org name {name!r} is used twice")
        names.add(name)
        try:
            orgs.append(load_org_directory(name, len(orgs), directory, seed=seed))
        except SeedFileError as error:
            raise click.ClickException(f"cannot seed org {name}: {error}") from None
    by_name = {org.name: org for org in orgs}
    for org_name, key, value in parsed_faults:
        if org_name not in by_name:
            raise click.UsageError(
                f"--fault names org {org_name!r}, but the orgs are {', '.join(sorted(by_name))}"
            )
        try:
            by_name[org_name].apply_faults({key: value})
        except FaultSpecError as error:
            raise click.UsageError(str(error)) from None
    for org in orgs:
        org.api_max = api_limit if org.api_max == 15000 else org.api_max
    settings = ServerSettings(page_size=page_size, token_lifetime_s=token_lifetime, admin=admin)
    server = FakeSalesforceServer(orgs, settings, host=host, port=port, quiet=True)
    try:
        server.start()
    except ServerStartError as error:
        raise click.ClickException(str(error)) from None
    _print_connection(server, keys_dir, admin)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.")
