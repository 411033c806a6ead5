"""`xsell evaluate`: how well would the models have predicted the purchases after a past date?"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
from collections import Counter
from pathlib import Path

import click
import numpy as np
import numpy.typing as npt

from application.errors import ApplicationError
from application.features.model import cutoff_instant
from application.models.dataset import CandidateSet
from application.models.evaluate import EvaluateModels, EvaluationReport
from application.models.ports import TrainingBudget
from domain.errors import DomainError
from domain.resolution.product_families import family_slug
from entrypoints.cli.app import cli
from entrypoints.cli.runtime import load_settings, migrated, run_use_case, services
from entrypoints.settings import Settings
from simulators.salesforce.generator.ground_truth import read_ground_truth, true_propensity

__all__ = ["GroundTruthReference", "evaluate"]

_ALGORITHMS = ("xgboost", "lightgbm", "random_forest", "mlp")


class GroundTruthReference:
    """The fake orgs' generator knows every company's true propensity; score candidates with it.

    A customer maps to the company most of its member accounts belong to (entity resolution may be
    imperfect); families map by their slug.
    """

    name = "true propensity"

    def __init__(self, path: Path) -> None:
        truth = read_ground_truth(path)
        self._header = truth.header
        self._companies = {c["company_id"]: c for c in truth.companies}
        self._company_of = truth.company_of_account()
        self._family = {family_slug(f): f for f in truth.header["families"]}

    def scores(
        self, candidates: CandidateSet, members: dict[str, list[tuple[str, str]]], horizon_days: int
    ) -> npt.NDArray[np.float64]:
        company_of_customer: dict[str, str | None] = {}
        for customer, accounts in members.items():
            votes = Counter(self._company_of.get(a) for a in accounts)
            votes.pop(None, None)
            company_of_customer[customer] = min(votes, key=lambda c: (-votes[c], c)) if votes else None
        out = np.full(len(candidates), np.nan)
        cache: dict[tuple[int, int, int], float] = {}
        for row, (cut, cust, fam) in enumerate(
            zip(
                candidates.cutoff.tolist(),
                candidates.customer.tolist(),
                candidates.family.tolist(),
                strict=True,
            )
        ):
            key = (cut, cust, fam)
            if key not in cache:
                company_id = company_of_customer.get(candidates.customer_ids[cust])
                family = self._family.get(candidates.families[fam])
                value = math.nan
                if company_id is not None and family is not None:
                    start = cutoff_instant(candidates.cutoffs[cut])
                    p = true_propensity(
                        self._header, self._companies[company_id], family, start, horizon_days
                    )
                    value = 0.0 if p is None else p
                cache[key] = value
            out[row] = cache[key]
        return out


def _metric(value: float | None) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.3f}"


def _table(report: EvaluationReport) -> list[str]:
    k = report.k
    columns = ("auc", "pr_auc", f"precision@{k}", f"recall@{k}", f"map@{k}", f"ndcg@{k}", "brier", "ece")
    header = ("model", "kind", *columns)
    rows: list[tuple[str, ...]] = [header]
    for row in report.rows:
        values = row.evaluation.overall
        rows.append(
            (
                row.name,
                row.kind,
                *(_metric(values.get(c)) for c in columns),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]


@cli.command("evaluate")
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    required=True,
    metavar="DATE",
    help="The cutoff (YYYY-MM-DD): train on what was known by then, evaluate on the purchases after it.",
)
@click.option(
    "--horizon",
    type=click.IntRange(7, 730),
    default=180,
    show_default=True,
    metavar="DAYS",
    help="Length of the purchase window after each cutoff.",
)
@click.option("--k", type=click.IntRange(1, 50), default=5, show_default=True, help="Cut-off for @k metrics.")
@click.option(
    "--budget",
    type=click.FloatRange(5, 86_400),
    default=120,
    show_default=True,
    metavar="SECONDS",
    help="Tuning time for all algorithms together.",
)
@click.option(
    "--algorithms",
    default=",".join(_ALGORITHMS),
    show_default=True,
    help="Comma-separated ensemble members.",
)
@click.option(
    "--training-cutoffs",
    type=click.IntRange(1, 24),
    default=6,
    show_default=True,
    help="Past cutoffs to train on.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the results as JSON (default: XSELL_DATA_DIR/evaluations/evaluation-DATE.json).",
)
@click.option(
    "--ground-truth",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A fake-org ground-truth file: adds the true propensities as a reference row"
    " (default: the demo's, when present).",
)
def evaluate(
    as_of: dt.datetime,
    horizon: int,
    k: int,
    budget: float,
    algorithms: str,
    training_cutoffs: int,
    output: Path | None,
    ground_truth: Path | None,
) -> None:
    """Train on the past and score the purchases that followed: models beside baselines, one table.

    Uses whatever is synced into xsell (fake orgs or CSV orgs). Candidates are the (customer, product
    family) pairs not owned at the cutoff; a purchase is a closed-won line item of the family closing
    within the horizon after it.
    """
    chosen = tuple(a.strip() for a in algorithms.split(",") if a.strip())
    unknown = sorted(set(chosen) - set(_ALGORITHMS))
    if unknown or not chosen:
        raise click.BadParameter(f"choose from {', '.join(_ALGORITHMS)}", param_hint="--algorithms")
    settings = load_settings()
    if ground_truth is None:
        demo_truth = settings.data_dir / "fake-salesforce" / "ground_truth.jsonl"
        ground_truth = demo_truth if demo_truth.exists() else None
    reference = GroundTruthReference(ground_truth) if ground_truth else None
    with services(settings) as resolved:
        migrated(resolved)
        try:
            report = asyncio.run(
                _evaluate(
                    resolved,
                    as_of.date(),
                    horizon,
                    k,
                    TrainingBudget(seconds=budget, algorithms=chosen),
                    training_cutoffs,
                    reference,
                )
            )
        except (DomainError, ApplicationError) as exc:
            raise click.ClickException(str(exc)) from None
    path = output or settings.data_dir / "evaluations" / f"evaluation-{as_of.date().isoformat()}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_dict(), indent=2, default=str))
    plan = report.plan
    click.echo(
        f"evaluation as of {plan.target} over {plan.horizon_days} days: trained on cutoffs "
        f"{', '.join(str(c) for c in plan.training)}, validated on {plan.validation}"
    )
    click.echo(
        f"candidates {report.candidates['evaluation']:,} with {report.positives['evaluation']:,} purchases"
        f" (training {report.candidates['training']:,} / {report.positives['training']:,})"
    )
    for line in _table(report):
        click.echo(line)
    ensemble = next(row.evaluation for row in report.rows if row.kind == "ensemble")
    click.echo("\nensemble per family (AUC, buyers in their customer's top k):")
    for family, values in sorted(ensemble.families.items()):
        click.echo(
            f"  {family:<28} {int(values['positives']):>6,} buyers of {int(values['rows']):>8,}  AUC "
            f"{_metric(values.get('auc'))}  recall@{report.k} {_metric(values.get(f'recall@{report.k}'))}"
        )
    click.echo("ensemble calibration (predicted -> observed, candidates):")
    for b in ensemble.reliability:
        click.echo(
            f"  {b.lower:.1f}-{b.upper:.1f}: {b.mean_predicted:.3f} -> {b.observed_rate:.3f}  ({b.count:,})"
        )
    for note in report.notes:
        click.echo(f"note: {note}")
    if reference is not None:
        click.echo(f"reference: true propensities from {ground_truth}")
    click.echo(f"written to {path} ({report.seconds:.0f} s)")


async def _evaluate(
    settings: Settings,
    as_of: dt.date,
    horizon: int,
    k: int,
    budget: TrainingBudget,
    training_cutoffs: int,
    reference: GroundTruthReference | None,
) -> EvaluationReport:
    def say(line: str) -> None:
        click.echo(f"  {line}", err=True)

    return await run_use_case(
        settings,
        EvaluateModels,
        lambda use_case: use_case.execute(
            as_of,
            horizon_days=horizon,
            k=k,
            budget=budget,
            training_cutoffs=training_cutoffs,
            reference=reference,
            progress=say,
        ),
    )
