"""`xsell features list` and `xsell features build`: the feature registry and point-in-time builds."""

from __future__ import annotations

import asyncio
import datetime as dt

import click

from application.errors import ApplicationError
from application.features import BuildFeatures, BuildReport, ListFeatureDefinitions
from domain.errors import DomainError
from domain.feature_definition import FeatureDefinition, FeatureEntity
from entrypoints.cli.app import cli
from entrypoints.cli.runtime import load_settings, migrated, run_use_case, services
from entrypoints.settings import Settings

__all__ = ["features"]


@cli.group()
def features() -> None:
    """Model features: list their definitions, build their values as of a date."""


@features.command("list")
@click.option(
    "--entity",
    type=click.Choice([e.value for e in FeatureEntity]),
    help="Only features of one entity: a customer, or a customer x product family.",
)
def list_features(entity: str | None) -> None:
    """Show every feature: name, version, entity, type and what it means."""
    # Listing needs no database or Redis: the registry is code, so no services are started.
    version, definitions = asyncio.run(_list(load_settings(), FeatureEntity(entity) if entity else None))
    click.echo(f"feature set {version}: {len(definitions)} features\n")
    rows = [("name", "version", "entity", "type", "description")]
    rows += [(d.name, f"v{d.version}", str(d.entity), str(d.dtype), d.description) for d in definitions]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)) + "  " + row[4]
        )


async def _list(settings: Settings, entity: FeatureEntity | None) -> tuple[str, list[FeatureDefinition]]:
    async def listed(use_case: ListFeatureDefinitions) -> tuple[str, list[FeatureDefinition]]:
        return use_case.execute(entity)

    return await run_use_case(settings, ListFeatureDefinitions, listed)


@features.command()
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="DATE",
    default=None,
    help="Cutoff date (YYYY-MM-DD, UTC): values use only what was known by the end of that day."
    " Default: today.",
)
@click.option(
    "--offline-only",
    is_flag=True,
    help="Fill only the offline (training) store; use for past cutoffs without touching what serving uses.",
)
def build(as_of: dt.datetime | None, offline_only: bool) -> None:
    """Compute features as of a date for training and serving.

    One computation fills both stores, so training and serving see identical values. Building an older
    date than the one served fills only the offline store.
    """
    day = as_of.date() if as_of else dt.datetime.now(dt.UTC).date()
    settings = load_settings()
    with services(settings) as resolved:
        migrated(resolved)
        try:
            report = asyncio.run(_build(resolved, day, not offline_only))
        except (DomainError, ApplicationError) as exc:
            raise click.ClickException(str(exc)) from None
    served = "now served online" if report.served_online else "offline only (online serves a later date)"
    if offline_only:
        served = "offline only"
    click.echo(
        f"features as of {report.as_of}: {report.customers:,} customers x {report.families} families, "
        f"{report.features} features, set {report.feature_set_version}; {served}; {report.seconds:.1f} s"
    )


async def _build(settings: Settings, as_of: dt.date, publish: bool) -> BuildReport:
    return await run_use_case(
        settings,
        BuildFeatures,
        lambda use_case: use_case.execute(
            as_of, publish=publish, on_step=lambda step: click.echo(f"  {step} ...", err=True)
        ),
    )
