"""ScoreCustomers: score every candidate with the serving models, suppress, value, explain and store.

One run: features as of the day (both stores), the champion (and a challenger for its A/B share of
customers, by a stable hash), suppression of families owned, open or lost recently in any org, expected
value = probability x expected deal size x match confidence in the selling org's currency and the group
currency, each customer's best offers ranked by expected value, reasons for them, one write.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from application.errors import InvalidRequestError
from application.features.build import BuildFeatures
from application.features.model import FeatureInputs
from application.features.ports import FeatureRegistry, FeatureSource, OfflineFeatureStore
from application.models.dataset import CandidateSet
from application.models.ports import ModelTrainer, TrainedModel
from application.models.reasons import PeerEvidence, feature_reasons
from application.models.registry import ModelRegistry
from application.ports.cache import ChangeNotice, NoChangeNotice
from application.ports.clock import Clock
from application.ports.metrics import ModelMetrics, NoMetrics
from domain.model_version import ModelStage, ModelVersion
from domain.recommendation import Arm, Reason
from domain.suppression import SuppressionPolicy

__all__ = [
    "OrgInfo",
    "RecommendationBatch",
    "RecommendationStore",
    "ScoreCustomers",
    "ScoringReport",
    "suppressed_pairs",
]

Progress = Callable[[str], None]


@dataclass(frozen=True)
class OrgInfo:
    id: str
    name: str
    currency: str


@dataclass(frozen=True)
class RecommendationBatch:
    """The offers of one scoring run, column by column (one entry per recommendation)."""

    run_id: str
    as_of: date
    created_at: datetime
    group_currency: str
    customer_ids: list[str]
    family_ids: list[str]
    target_org_ids: list[str]
    probabilities: npt.NDArray[np.float64]
    expected_values: npt.NDArray[np.float64]
    currencies: list[str]
    group_values: npt.NDArray[np.float64]  # NaN where no exchange rate is known
    ranks: npt.NDArray[np.int32]
    model_version_ids: list[str]
    arms: list[str]
    reasons: list[tuple[Reason, ...]]

    def __len__(self) -> int:
        return len(self.customer_ids)


@dataclass(frozen=True)
class ScoringReport:
    run_id: str
    as_of: date
    champion_id: str
    challenger_id: str | None
    customers: int
    candidates: int
    suppressed: int
    written: int
    explained: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)


class RecommendationStore(Protocol):
    async def orgs(self) -> dict[str, OrgInfo]: ...

    async def family_names(self) -> dict[str, str]: ...

    async def decided_pairs(self, since: datetime) -> set[tuple[str, str]]:
        """(customer, family) with a recommendation someone accepted, dismissed or closed since `since`."""
        ...

    async def start_run(
        self, run_id: str, as_of: date, champion_id: str, challenger_id: str | None, at: datetime
    ) -> None: ...

    async def finish_run(
        self,
        run_id: str,
        *,
        at: datetime,
        status: str,
        candidates: int,
        suppressed: int,
        written: int,
        error: str | None,
    ) -> None: ...

    async def replace_open(self, batch: RecommendationBatch) -> int:
        """Replace every undecided recommendation by `batch` in one transaction; returns rows written."""
        ...


def suppressed_pairs(inputs: FeatureInputs, as_of: date, policy: SuppressionPolicy) -> set[tuple[str, str]]:
    """(customer, family) pairs the suppression rules rule out, in any org: owned (won), open, lost recently.

    The same rules as `SuppressionPolicy` (a test compares them), applied to all customers at once: an
    opportunity counts when it is known at the cutoff; open means not closed by `as_of`; lost recently means
    closed-lost with a close date on or after `as_of - lost_window_days`.
    """
    opportunities: Any = inputs.opportunities
    if opportunities.empty:
        return set()
    close = pd.to_datetime(opportunities["close_date"], errors="coerce")
    closed = opportunities["is_closed"].fillna(False).astype(bool) & (close <= pd.Timestamp(as_of))
    won = closed & opportunities["is_won"].fillna(False).astype(bool)
    recent = close >= pd.Timestamp(as_of - timedelta(days=policy.lost_window_days))
    lost_recently = closed & ~won & recent
    ruled_out = opportunities[(won | ~closed | lost_recently).to_numpy()][
        ["org_id", "opportunity_id", "account_id"]
    ]
    items = inputs.line_items[["org_id", "opportunity_id", "product_id"]].merge(
        ruled_out, on=["org_id", "opportunity_id"]
    )
    items = items.merge(inputs.products[["org_id", "product_id", "family_id"]], on=["org_id", "product_id"])
    items = items.merge(inputs.members[["org_id", "account_id", "customer_id"]], on=["org_id", "account_id"])
    return set(zip(items["customer_id"].astype(str), items["family_id"].astype(str), strict=True))


def _sellers(inputs: FeatureInputs) -> dict[str, list[str]]:
    """Family → the orgs that sell it (have a product mapped to it), most products first."""
    products: Any = inputs.products
    counts = products.groupby(["family_id", "org_id"]).size().reset_index(name="n")
    counts = counts.sort_values(["family_id", "n", "org_id"], ascending=[True, False, True])
    sellers: dict[str, list[str]] = {}
    for family, org in zip(counts["family_id"].astype(str), counts["org_id"].astype(str), strict=True):
        sellers.setdefault(family, []).append(org)
    return sellers


def _member_orgs(inputs: FeatureInputs) -> dict[str, set[str]]:
    members: Any = inputs.members
    orgs: dict[str, set[str]] = {}
    for customer, org in zip(members["customer_id"].astype(str), members["org_id"].astype(str), strict=True):
        orgs.setdefault(customer, set()).add(org)
    return orgs


class ScoreCustomers:
    def __init__(
        self,
        source: FeatureSource,
        registry_features: FeatureRegistry,
        offline: OfflineFeatureStore,
        build: BuildFeatures,
        trainer: ModelTrainer,
        registry: ModelRegistry,
        store: RecommendationStore,
        clock: Clock,
        *,
        group_currency: str = "USD",
        exchange_rates: Mapping[str, float] | None = None,
        metrics: ModelMetrics | None = None,
        changes: ChangeNotice | None = None,
    ) -> None:
        self._metrics: ModelMetrics = metrics or NoMetrics()
        self._changes: ChangeNotice = changes or NoChangeNotice()
        self._source = source
        self._features = registry_features
        self._offline = offline
        self._build = build
        self._trainer = trainer
        self._registry = registry
        self._store = store
        self._clock = clock
        self._group_currency = group_currency
        self._rates = {group_currency: 1.0, **(exchange_rates or {})}

    async def _load(self, version: ModelVersion) -> TrainedModel:
        files = await self._registry.artifacts(version.id)
        missing = sorted(set(version.artifacts) - set(files))
        if missing:
            raise InvalidRequestError(f"model {version.id} lacks artifacts {missing}; retrain it")
        for name, content in files.items():
            version.verify_artifact(name, content)  # raises ChecksumMismatchError for altered bytes
        return await asyncio.to_thread(self._trainer.load, files)

    async def execute(
        self,
        *,
        as_of: date | None = None,
        per_customer: int = 5,
        policy: SuppressionPolicy | None = None,
        progress: Progress | None = None,
    ) -> ScoringReport:
        """Score as of `as_of` (default today) and keep each customer's `per_customer` best offers.

        Raises InvalidRequestError when no model serves, the serving model was trained on another feature
        set, or `per_customer` is outside 1..12; ChecksumMismatchError when an artifact was altered.
        """
        say = progress or (lambda _: None)
        if not 1 <= per_customer <= 12:
            raise InvalidRequestError(f"offers per customer are 1 to 12, got {per_customer}")
        started = time.monotonic()
        timings: dict[str, float] = {}

        def lap(name: str, since: float) -> float:
            now = time.monotonic()
            timings[name] = round(now - since, 2)
            return now

        day = as_of or self._clock.now().date()
        versions = await self._registry.all()
        champion = next((v for v in versions if v.stage is ModelStage.CHAMPION), None)
        if champion is None:
            raise InvalidRequestError("no model serves yet: train one with `xsell train` first")
        challenger = next((v for v in versions if v.stage is ModelStage.CHALLENGER), None)
        version = self._features.layout().feature_set_version
        for serving in (champion, challenger):
            if serving is not None and serving.feature_set_version != version:
                raise InvalidRequestError(
                    f"model {serving.id} learnt feature set {serving.feature_set_version},"
                    " but the features are"
                    f" now {version}: train a new model"
                )
        serving_policy = await self._registry.serving_policy()
        run_id = uuid.uuid4().hex
        await self._store.start_run(
            run_id, day, champion.id, challenger.id if challenger else None, self._clock.now()
        )
        try:
            report = await self._score(
                run_id, day, champion, challenger, serving_policy.arm_for, per_customer, policy, say, lap
            )
        except BaseException as exc:
            await self._store.finish_run(
                run_id,
                at=self._clock.now(),
                status="failed",
                candidates=0,
                suppressed=0,
                written=0,
                error=str(exc)[:500] or type(exc).__name__,
            )
            raise
        return ScoringReport(**{**report.__dict__, "seconds": time.monotonic() - started, "timings": timings})

    async def _score(
        self,
        run_id: str,
        day: date,
        champion: ModelVersion,
        challenger: ModelVersion | None,
        arm_for: Callable[..., Arm],
        per_customer: int,
        policy: SuppressionPolicy | None,
        say: Progress,
        lap: Callable[[str, float], float],
    ) -> ScoringReport:
        mark = time.monotonic()
        say("loading the serving models (checksums verified)")
        models = {Arm.CHAMPION: await self._load(champion)}
        if challenger is not None:
            models[Arm.CHALLENGER] = await self._load(challenger)
        mark = lap("load models", mark)
        say(f"building features as of {day} (offline and online)")
        await self._build.execute(day, publish=True)
        batch = await self._offline.load(self._features.layout().feature_set_version, day)
        if batch is None or not batch.families:
            raise InvalidRequestError(
                "no product families are mapped yet: run `xsell products suggest` first"
            )
        inputs = await self._source.load(day)
        mark = lap("features", mark)
        candidates = CandidateSet.from_batch(batch)
        say(f"scoring {len(candidates):,} candidate pairs of {len(batch.customer_ids):,} customers")
        arms = np.array(
            [arm_for(c, has_challenger=challenger is not None) is Arm.CHALLENGER for c in batch.customer_ids]
        )
        challenger_rows = arms[candidates.customer]
        probability = np.empty(len(candidates))
        probability[~challenger_rows] = await asyncio.to_thread(
            models[Arm.CHAMPION].predict, candidates.take(np.flatnonzero(~challenger_rows))
        )
        if challenger is not None and challenger_rows.any():
            probability[challenger_rows] = await asyncio.to_thread(
                models[Arm.CHALLENGER].predict, candidates.take(np.flatnonzero(challenger_rows))
            )
        mark = lap("predict", mark)
        blocked = suppressed_pairs(inputs, day, policy or SuppressionPolicy())
        blocked |= await self._store.decided_pairs(self._clock.now() - timedelta(days=180))
        ids, families = batch.customer_ids, batch.families
        keep = np.fromiter(
            (
                (ids[c], families[f]) not in blocked
                for c, f in zip(candidates.customer.tolist(), candidates.family.tolist(), strict=True)
            ),
            dtype=bool,
            count=len(candidates),
        )
        suppressed = int((~keep).sum())
        orgs = await self._store.orgs()
        sellers = _sellers(inputs)
        member_orgs = _member_orgs(inputs)
        deal = np.nan_to_num(candidates.number("expected_deal_size"), nan=0.0).clip(min=0.0)
        confidence = np.nan_to_num(candidates.number("match_confidence"), nan=1.0).clip(0.0, 1.0)
        value = probability * deal * confidence
        rows = np.flatnonzero(keep & (value >= 0))
        # Each customer's best offers by expected value (probability breaks ties).
        order = rows[np.lexsort((-probability[rows], -value[rows], candidates.customer[rows]))]
        customer_sorted = candidates.customer[order]
        starts = np.r_[0, np.flatnonzero(np.diff(customer_sorted)) + 1]
        rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
        chosen = order[rank < per_customer]
        ranks = (rank[rank < per_customer] + 1).astype(np.int32)
        mark = lap("suppress and rank", mark)
        say(f"explaining {len(chosen):,} offers")
        reasons = await self._reasons(models, candidates, chosen, challenger_rows, inputs, orgs)
        mark = lap("reasons", mark)
        target_orgs: list[str] = []
        currencies: list[str] = []
        for c, f in zip(
            candidates.customer[chosen].tolist(), candidates.family[chosen].tolist(), strict=True
        ):
            selling = sellers.get(families[f], [])
            present = member_orgs.get(ids[c], set())
            target = next((o for o in selling if o in present), selling[0] if selling else "")
            target_orgs.append(target)
            currencies.append(orgs[target].currency if target in orgs else self._group_currency)
        rates = np.array([self._rates.get(cur, np.nan) for cur in currencies])
        expected = np.round(value[chosen], 2)
        is_challenger = challenger_rows[chosen]
        batch_out = RecommendationBatch(
            run_id=run_id,
            as_of=day,
            created_at=self._clock.now(),
            group_currency=self._group_currency,
            customer_ids=[ids[c] for c in candidates.customer[chosen].tolist()],
            family_ids=[families[f] for f in candidates.family[chosen].tolist()],
            target_org_ids=target_orgs,
            probabilities=probability[chosen],
            expected_values=expected,
            currencies=currencies,
            group_values=np.round(expected * rates, 2),
            ranks=ranks,
            model_version_ids=[
                challenger.id if flag and challenger is not None else champion.id
                for flag in is_challenger.tolist()
            ],
            arms=[Arm.CHALLENGER.value if flag else Arm.CHAMPION.value for flag in is_challenger.tolist()],
            reasons=reasons,
        )
        unsellable = sum(1 for t in target_orgs if not t)
        if unsellable:
            raise InvalidRequestError(
                f"{unsellable} offers have no org that sells their family; check the crosswalk"
            )
        say(f"writing {len(batch_out):,} recommendations")
        written = await self._store.replace_open(batch_out)
        await self._changes.changed()
        lap("write", mark)
        serving = {Arm.CHAMPION.value: champion.id}
        if challenger is not None:
            serving[Arm.CHALLENGER.value] = challenger.id
        self._metrics.serving(serving)
        self._metrics.scored(batch_out.probabilities.tolist())
        await self._store.finish_run(
            run_id,
            at=self._clock.now(),
            status="completed",
            candidates=len(candidates),
            suppressed=suppressed,
            written=written,
            error=None,
        )
        return ScoringReport(
            run_id=run_id,
            as_of=day,
            champion_id=champion.id,
            challenger_id=challenger.id if challenger else None,
            customers=len(ids),
            candidates=len(candidates),
            suppressed=suppressed,
            written=written,
            explained=len(chosen),
            seconds=0.0,
        )

    async def _reasons(
        self,
        models: Mapping[Arm, TrainedModel],
        candidates: CandidateSet,
        chosen: npt.NDArray[np.intp],
        challenger_rows: npt.NDArray[np.bool_],
        inputs: FeatureInputs,
        orgs: Mapping[str, OrgInfo],
    ) -> list[tuple[Reason, ...]]:
        family_names = await self._store.family_names()
        reasons: list[tuple[Reason, ...]] = [() for _ in chosen]
        for arm, model in models.items():
            mine = np.flatnonzero(challenger_rows[chosen] == (arm is Arm.CHALLENGER))
            if not len(mine):
                continue
            rows = candidates.take(chosen[mine])
            explanation = await asyncio.to_thread(model.explain, rows)
            sentences = feature_reasons(explanation, rows, family_names=family_names, top=3)
            for position, text in zip(mine.tolist(), sentences, strict=True):
                reasons[position] = text
        peers = await asyncio.to_thread(
            PeerEvidence, inputs, org_names={o.id: o.name for o in orgs.values()}, family_names=family_names
        )
        industries = candidates.label("industry")[chosen] if "industry" in candidates.layout.labels else None
        for position, row in enumerate(chosen.tolist()):
            industry = None if industries is None else industries[position]
            peer = peers.reason(
                candidates.customer_ids[candidates.customer[row]],
                candidates.families[candidates.family[row]],
                None if industry is None else str(industry),
            )
            if peer is not None:
                reasons[position] = (*reasons[position], peer)
        return reasons
