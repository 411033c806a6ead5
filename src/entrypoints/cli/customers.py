"""`xsell resolve`, `xsell matches`, `xsell customers export`, `xsell products`: customers across orgs."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import TypeVar

import click

from application.resolution.crosswalk import (
    AddProductFamily,
    AssignProductFamily,
    ConfirmProductFamily,
    ListCrosswalk,
    SuggestProductFamilies,
)
from application.resolution.export import ExportCustomers
from application.resolution.resolve import ResolveCustomers
from application.resolution.review import (
    DecideMatch,
    ListReviewQueue,
    MergeCustomers,
    SplitCustomer,
    UndoCustomerChange,
)
from domain.account import AccountKey
from domain.errors import DomainError
from domain.ids import SalesforceId
from domain.product import ProductKey
from entrypoints.cli.app import cli
from entrypoints.cli.runtime import BY_OPTION, run_command

__all__ = ["customers", "matches", "products", "resolve"]

T = TypeVar("T")


_BY = BY_OPTION


def _key(value: str) -> tuple[str, str]:
    org_id, sep, external_id = value.rpartition(":")
    if not sep or not org_id or not external_id:
        raise click.UsageError(f"name an account as ORG:ID (e.g. bu1:001A000000000001AAA), not {value!r}")
    try:
        return org_id, SalesforceId.parse(external_id).value
    except DomainError as exc:
        raise click.UsageError(str(exc)) from None


def _account(value: str) -> AccountKey:
    return AccountKey(*_key(value))


_run = run_command


@cli.command()
@click.option(
    "--full", is_flag=True, help="Re-score every account, not only those changed since the last run."
)
@click.option(
    "--retrain", is_flag=True, help="Re-estimate how common each name word and domain is (implies --full)."
)
def resolve(full: bool, retrain: bool) -> None:
    """Recognise the same company across orgs and file every account under one customer.

    Incremental by default: only accounts whose name, website, phone or address changed since the last
    run are compared again; the result is the same as a full run. Customer ids stay stable, and people's
    decisions (`xsell matches …`) always win over the model.
    """

    def say(line: str) -> None:
        click.echo(f"  {line}", err=True)

    report = _run(ResolveCustomers, lambda uc: uc.execute(full=full, retrain=retrain, progress=say))
    click.echo(
        f"{'full' if report.full else 'incremental'} run: {report.accounts:,} accounts "
        f"({report.changed_accounts:,} re-scored), {report.comparisons:,} comparisons; "
        f"{report.customers:,} customers, {report.multi_org_customers:,} in several orgs, "
        f"{report.relations:,} parent/subsidiary links; "
        f"{report.review_pairs:,} pairs wait for review (`xsell matches review`)"
    )


@cli.group()
def matches() -> None:
    """Review uncertain matches and correct customers: accept, reject, merge, split, undo."""


@matches.command("review")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000), help="Pairs to show.")
def review(limit: int) -> None:
    """List pairs the model was unsure about, most likely first, with why they scored so.

    Accept one with `xsell matches accept A B`, reject it with `xsell matches reject A B`.
    """
    items = _run(ListReviewQueue, lambda uc: uc.execute(limit))
    if not items:
        click.echo("nothing to review")
        return
    for item in items:
        left, right = item.pair.left, item.pair.right
        click.echo(
            f"{item.probability:6.1%}  {left.org_id}:{left.external_id}  {right.org_id}:{right.external_id}"
        )
        click.echo(f"        {item.left_name or '(deleted)'}  |  {item.right_name or '(deleted)'}")
        click.echo(f"        {item.explanation.describe()}")


@matches.command("accept")
@click.argument("left")
@click.argument("right")
@_BY
def accept(left: str, right: str, decided_by: str) -> None:
    """Say accounts LEFT and RIGHT (ORG:ID) are one company: their customers merge."""
    a, b = _account(left), _account(right)
    change = _run(DecideMatch, lambda uc: uc.execute(a, b, accept=True, decided_by=decided_by))
    click.echo("recorded" if change is None else f"merged into {change.customer_id} (change {change.id})")


@matches.command("reject")
@click.argument("left")
@click.argument("right")
@_BY
def reject(left: str, right: str, decided_by: str) -> None:
    """Say accounts LEFT and RIGHT (ORG:ID) are different companies; no later run joins them."""
    a, b = _account(left), _account(right)
    _run(DecideMatch, lambda uc: uc.execute(a, b, accept=False, decided_by=decided_by))
    click.echo("recorded; takes effect on the next `xsell resolve`")


@matches.command("merge")
@click.argument("first")
@click.argument("second")
@_BY
def merge(first: str, second: str, decided_by: str) -> None:
    """Merge customer SECOND into FIRST (the one with more accounts keeps its id)."""
    change = _run(MergeCustomers, lambda uc: uc.execute(first, second, decided_by=decided_by))
    click.echo(f"merged into {change.customer_id}; undo with `xsell matches undo {change.id}`")


@matches.command("split")
@click.argument("customer")
@click.argument("accounts", nargs=-1, required=True)
@_BY
def split(customer: str, accounts: tuple[str, ...], decided_by: str) -> None:
    """Split ACCOUNTS (ORG:ID …) off CUSTOMER into a customer of their own; the larger part keeps the id."""
    keys = [_account(a) for a in accounts]
    change = _run(SplitCustomer, lambda uc: uc.execute(customer, keys, decided_by=decided_by))
    click.echo(
        f"split {len(change.moved)} account(s) into {change.other_customer_id}; "
        f"undo with `xsell matches undo {change.id}`"
    )


@matches.command("undo")
@click.argument("change_id")
@_BY
def undo(change_id: str, decided_by: str) -> None:
    """Reverse a merge or split by its change id (printed when it was made)."""
    change = _run(UndoCustomerChange, lambda uc: uc.execute(change_id, decided_by=decided_by))
    click.echo(f"undid {change.kind.value} {change.id}")


@cli.group()
def customers() -> None:
    """Customers: companies as the whole group knows them."""


@customers.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True, help="Format.")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="File (default stdout)."
)
def export(fmt: str, output: Path | None) -> None:
    """Write org, account id, customer id, confidence and who decided, one row per account."""
    rows = _run(ExportCustomers, lambda uc: uc.execute())
    handle = sys.stdout if output is None else output.open("w", newline="", encoding="utf-8")
    try:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "org",
                "account_external_id",
                "customer_id",
                "customer_name",
                "confidence",
                "method",
                "decided_by",
            ]
        )
        for r in rows:
            writer.writerow(
                [
                    r.org_id,
                    r.account_external_id,
                    r.customer_id,
                    r.customer_name,
                    f"{r.confidence:.4f}",
                    r.method,
                    r.decided_by,
                ]
            )
    finally:
        if output is not None:
            handle.close()
    if output is not None:
        click.echo(f"wrote {len(rows):,} rows to {output}", err=True)


@cli.group()
def products() -> None:
    """The product crosswalk: which group product family each org's products belong to."""


@products.command("suggest")
def suggest() -> None:
    """Suggest a family for every product (Product2.Family first, then name, code, description).

    Confirmed mappings are never changed.
    """
    report = _run(SuggestProductFamilies, lambda uc: uc.execute())
    click.echo(
        f"{report.products} products: {report.suggested} suggested, {report.confirmed_kept} confirmed kept, "
        f"{report.unmapped} without a suggestion; {report.families_created} families added to the catalog"
    )


@products.command("families")
def families() -> None:
    """List the catalog's families and every product's mapping."""
    catalog, rows = _run(ListCrosswalk, lambda uc: uc.execute())
    for family in catalog:
        click.echo(f"{family.id:<28} {family.name}")
    click.echo("")
    for row in rows:
        mapping = row.mapping
        state = (
            "unmapped"
            if mapping is None
            else f"{mapping.family_id or '(none)'} [{mapping.source.value}, {mapping.confidence:.2f}"
            f"{', confirmed' if mapping.confirmed else ''}]"
        )
        click.echo(
            f"{row.product.key.org_id}:{row.product.key.external_id}  {row.product.name[:40]:<40} {state}"
        )


@products.command("add-family")
@click.argument("family_id")
@click.argument("name")
@click.option("--description", default="", help="What the family covers.")
def add_family(family_id: str, name: str, description: str) -> None:
    """Add family FAMILY_ID (a lower-case slug) named NAME to the catalog."""
    family = _run(AddProductFamily, lambda uc: uc.execute(family_id, name, description))
    click.echo(f"added {family.id}")


@products.command("map")
@click.argument("product")
@click.argument("family")
@_BY
def map_product(product: str, family: str, decided_by: str) -> None:
    """Map PRODUCT (ORG:ID) to FAMILY, or to `none` when it belongs to no family."""
    key = ProductKey(*_key(product))
    target = None if family.lower() == "none" else family
    mapping = _run(AssignProductFamily, lambda uc: uc.execute(key, target, decided_by=decided_by))
    click.echo(f"{product} -> {mapping.family_id or '(none)'} (confirmed)")


@products.command("confirm")
@click.argument("product")
@_BY
def confirm(product: str, decided_by: str) -> None:
    """Accept the suggested family of PRODUCT (ORG:ID)."""
    key = ProductKey(*_key(product))
    mapping = _run(ConfirmProductFamily, lambda uc: uc.execute(key, decided_by=decided_by))
    click.echo(f"{product} -> {mapping.family_id or '(none)'} (confirmed)")
