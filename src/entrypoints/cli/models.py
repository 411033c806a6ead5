"""`xsell train`, `xsell score` and `xsell models`: learn, serve, and manage what serves."""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal

import click

from application.models.feedback import ListRecommendations, RecommendationFilter, RecordFeedback
from application.models.ports import TRAINING_PROFILES, TrainingBudget
from application.models.realtime import LiveOffer, ScoreCustomerNow
from application.models.registry import (
    ListModels,
    PromoteModel,
    RollBackModel,
    SetServingPolicy,
    ShowModel,
)
from application.models.scoring import ScoreCustomers, ScoringReport
from application.models.train import TrainingOutcome, TrainModel
from domain.recommendation import Recommendation, RecommendationStatus
from entrypoints.cli.app import cli
from entrypoints.cli.runtime import BY_OPTION, load_settings, run_command

__all__ = ["PROFILES", "models", "recommendations", "score", "train"]

PROFILES = TRAINING_PROFILES


def _say(line: str) -> None:
    click.echo(f"  {line}", err=True)


def _number(value: float | None, digits: int = 3) -> str:
    return (
        "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"
    )


@cli.command()
@click.option(
    "--profile",
    type=click.Choice(sorted(PROFILES)),
    default="standard",
    show_default=True,
    help="Tuning effort: quick (about a minute), standard (about 5 minutes), thorough (about 30).",
)
@click.option(
    "--budget", type=click.FloatRange(5, 86_400), metavar="SECONDS", help="Override the profile's time."
)
@click.option(
    "--horizon",
    type=click.IntRange(7, 730),
    default=None,
    metavar="DAYS",
    help="Purchase window after each cutoff (default: XSELL_MODEL_HORIZON_DAYS).",
)
@click.option(
    "--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="DATE", help="Default: today."
)
@BY_OPTION
def train(
    profile: str, budget: float | None, horizon: int | None, as_of: dt.datetime | None, decided_by: str
) -> None:
    """Train a new model version on the synced history and register it.

    Each algorithm (XGBoost, LightGBM, random forest, MLP) is tuned by Optuna on a later cutoff than it
    learns from, blended and calibrated. The first model ever trained starts serving; later ones wait as
    candidates for `xsell models promote`.
    """
    chosen = PROFILES[profile]
    if budget is not None:
        chosen = TrainingBudget(budget, chosen.max_trials, chosen.max_rows, chosen.algorithms, chosen.seed)
    days = horizon or load_settings().model_horizon_days
    outcome: TrainingOutcome = run_command(
        TrainModel,
        lambda use_case: use_case.execute(
            by=decided_by,
            horizon_days=days,
            budget=chosen,
            as_of=as_of.date() if as_of else None,
            progress=_say,
        ),
    )
    version = outcome.version
    metrics = version.metrics
    click.echo(
        f"{version.id}: {', '.join(sorted(version.algorithms))}; validation AUC "
        f"{_number(metrics.get('validation_auc'))}, MAP@5 {_number(metrics.get('validation_map@5'))}, "
        f"Brier {_number(metrics.get('validation_brier'), 4)}; stage {version.stage}"
        f"{' (first model: now serving)' if outcome.promoted else ''}; {outcome.seconds:.0f} s"
    )


@cli.command()
@click.option(
    "--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="DATE", help="Default: today."
)
@click.option(
    "--per-customer",
    type=click.IntRange(1, 12),
    default=5,
    show_default=True,
    help="Offers kept per customer.",
)
@click.option(
    "--customer",
    "customer_id",
    metavar="ID",
    help="Score only this customer, now, from the served features; print the offers, write nothing.",
)
def score(as_of: dt.datetime | None, per_customer: int, customer_id: str | None) -> None:
    """Score every customer with the serving model(s) and replace the open recommendations.

    Families owned, open or lost in the last 180 days in any org are never offered; accepted and
    dismissed offers are not repeated for 180 days. With --customer, one customer is scored on the spot.
    """
    if customer_id is not None:
        offers: list[LiveOffer] = run_command(
            ScoreCustomerNow, lambda use_case: use_case.execute(customer_id, limit=per_customer)
        )
        if not offers:
            click.echo(f"nothing to offer {customer_id}: it owns, has open or lost every family")
        for offer in offers:
            click.echo(
                f"{offer.family_id:<24} p={offer.probability:.3f}  value {offer.expected_value:>12,.2f}"
                f"  [{offer.arm.value} {offer.model_version_id}]"
            )
            for reason in offer.reasons:
                click.echo(f"    - {reason.text}")
        return
    report: ScoringReport = run_command(
        ScoreCustomers,
        lambda use_case: use_case.execute(
            as_of=as_of.date() if as_of else None, per_customer=per_customer, progress=_say
        ),
    )
    arms = report.champion_id + (f" (challenger {report.challenger_id})" if report.challenger_id else "")
    click.echo(
        f"scored {report.candidates:,} candidate pairs of {report.customers:,} customers with {arms}: "
        f"{report.suppressed:,} suppressed, {report.written:,} recommendations written,"
        f" {report.seconds:.1f} s"
    )


@cli.group()
def models() -> None:
    """The model registry: versions, what serves, promotion, roll back and A/B tests."""


@models.command("list")
def list_models() -> None:
    """Every version with its stage and validation metrics, the A/B policy and each arm's feedback."""
    versions, policy, outcomes = run_command(ListModels, lambda use_case: use_case.execute())
    if not versions:
        click.echo("no model yet: run `xsell train`")
        return
    click.echo(f"{'version':<28} {'stage':<11} {'AUC':>6} {'MAP@5':>6} {'best baseline MAP@5':>20}  created")
    for v in versions:
        baseline = max(
            (
                value
                for name, value in v.metrics.items()
                if name.endswith("_map@5") and name.startswith("baseline_")
            ),
            default=None,
        )
        click.echo(
            f"{v.id:<28} {v.stage.value:<11} {_number(v.metrics.get('validation_auc')):>6} "
            f"{_number(v.metrics.get('validation_map@5')):>6} {_number(baseline):>20}"
            f"  {v.created_at:%Y-%m-%d %H:%M}"
        )
    click.echo(
        f"\nA/B: the challenger serves {policy.challenger_share:.0%} of customers (salt {policy.salt!r})"
    )
    for o in outcomes:
        click.echo(
            f"  {o.model_version_id} [{o.arm}]: {o.recommendations:,} offers,"
            f" accepted {_number(o.acceptance_rate, 2)},"
            f" converted {_number(o.conversion_rate, 3)}, revenue {o.revenue:,.2f}"
        )


@models.command("show")
@click.argument("version_id")
def show(version_id: str) -> None:
    """One version: metrics, members, blend weights, calibration and its full stage history."""
    version, details = run_command(ShowModel, lambda use_case: use_case.execute(version_id))
    click.echo(f"{version.id}  stage {version.stage}  feature set {version.feature_set_version}")
    click.echo(
        f"trained on {version.training_window.start:%Y-%m-%d} .. {version.training_window.end:%Y-%m-%d}"
    )
    for name, value in sorted(version.metrics.items()):
        click.echo(f"  {name:<36} {value:.4f}")
    click.echo("history:")
    for change in version.history:
        click.echo(
            f"  {change.at:%Y-%m-%d %H:%M:%S} {change.from_stage or '-'} -> {change.to_stage} by {change.by}"
            f"{': ' + change.reason if change.reason else ''}"
        )
    click.echo(
        "details: "
        + json.dumps({k: details.get(k) for k in ("weights", "calibration", "members")}, default=str)
    )


@models.command("promote")
@click.argument("version_id")
@click.option("--challenger", is_flag=True, help="Serve it to the A/B share only, beside the champion.")
@click.option("--reason", help="Why (kept in history).")
@BY_OPTION
def promote(version_id: str, challenger: bool, reason: str | None, decided_by: str) -> None:
    """Make VERSION_ID the champion (the current one is archived), or the A/B challenger."""
    version = run_command(
        PromoteModel,
        lambda use_case: use_case.execute(version_id, by=decided_by, challenger=challenger, reason=reason),
    )
    click.echo(f"{version.id} is now {version.stage}; run `xsell score` to serve it")


@models.command("rollback")
@click.option("--reason", help="Why (kept in history).")
@BY_OPTION
def rollback(reason: str | None, decided_by: str) -> None:
    """Archive the champion and restore the version that served before it."""
    archived, restored = run_command(
        RollBackModel, lambda use_case: use_case.execute(by=decided_by, reason=reason)
    )
    click.echo(f"{archived.id} archived; {restored.id} serves again; run `xsell score` to apply it")


@models.command("ab")
@click.option(
    "--share",
    type=click.FloatRange(0, 0.5),
    required=True,
    help="Share of customers the challenger serves (0-0.5).",
)
@click.option("--salt", help="Change to reshuffle which customers fall in the challenger's share.")
@BY_OPTION
def ab(share: float, salt: str | None, decided_by: str) -> None:
    """Set the challenger's share of customers (a stable hash of the customer id decides who)."""
    policy = run_command(
        SetServingPolicy, lambda use_case: use_case.execute(challenger_share=share, salt=salt, by=decided_by)
    )
    click.echo(f"the challenger serves {policy.challenger_share:.0%} of customers (salt {policy.salt!r})")


@cli.group()
def recommendations() -> None:
    """The offers scoring wrote, and what sales did with them (accept, dismiss, convert, lost)."""


@recommendations.command("list")
@click.option("--customer", "customer_id", metavar="ID", help="Only this customer's offers.")
@click.option(
    "--status", type=click.Choice([s.value for s in RecommendationStatus]), help="Only this status."
)
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True)
def list_recommendations(customer_id: str | None, status: str | None, limit: int) -> None:
    """Offers by expected value, highest first, with their reasons."""
    where = RecommendationFilter(customer_id, RecommendationStatus(status) if status else None, limit)
    found: list[Recommendation] = run_command(ListRecommendations, lambda use_case: use_case.execute(where))
    if not found:
        click.echo("no recommendations match; run `xsell score` first")
    for r in found:
        click.echo(
            f"{r.id}  {r.customer_id}  {r.family_id:<22} {r.target_org_id:<6} p={r.probability:.3f}"
            f"  {r.expected_value.amount:>12,.2f} {r.expected_value.currency}  {r.status.value:<9}"
            f" {r.arm.value}"
        )
        for reason in r.reasons:
            click.echo(f"    - {reason.text}")


def _decide(
    recommendation_id: str,
    status: RecommendationStatus,
    by: str,
    *,
    amount: Decimal | None = None,
    reason: str | None = None,
) -> None:
    decided: Recommendation = run_command(
        RecordFeedback,
        lambda use_case: use_case.execute(recommendation_id, status, by=by, amount=amount, reason=reason),
    )
    click.echo(f"{decided.id} is now {decided.status.value} (by {decided.decided_by})")


@recommendations.command("accept")
@click.argument("recommendation_id")
@BY_OPTION
def accept(recommendation_id: str, decided_by: str) -> None:
    """Take up an offer (a new one)."""
    _decide(recommendation_id, RecommendationStatus.ACCEPTED, decided_by)


@recommendations.command("dismiss")
@click.argument("recommendation_id")
@click.option("--reason", help="Why it does not fit (kept with the offer).")
@BY_OPTION
def dismiss(recommendation_id: str, reason: str | None, decided_by: str) -> None:
    """Turn down an offer (a new one); it is not offered again for 180 days."""
    _decide(recommendation_id, RecommendationStatus.DISMISSED, decided_by, reason=reason)


@recommendations.command("convert")
@click.argument("recommendation_id")
@click.option(
    "--amount", type=click.FloatRange(min=0), required=True, help="Amount won, in the offer's currency."
)
@BY_OPTION
def convert(recommendation_id: str, amount: float, decided_by: str) -> None:
    """Record that an accepted offer was won, and for how much."""
    _decide(recommendation_id, RecommendationStatus.CONVERTED, decided_by, amount=Decimal(str(amount)))


@recommendations.command("lost")
@click.argument("recommendation_id")
@BY_OPTION
def lost(recommendation_id: str, decided_by: str) -> None:
    """Record that an accepted offer was lost."""
    _decide(recommendation_id, RecommendationStatus.LOST, decided_by)
