"""Train, evaluate, promote, roll back and score on in-memory stores with a synthetic synced group."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import numpy as np
import pytest
from bench.bench_features import synthetic_inputs
from tests.fakes import FakeClock
from tests.fakes_features import FakeFeatureSource, FakeOfflineFeatureStore, FakeOnlineFeatureStore
from tests.fakes_models import FakeModelRegistry, FakeRecommendationStore

from adapters.features.registry import PandasFeatureRegistry
from adapters.ml.ensemble import EnsembleTrainer
from application.errors import InvalidRequestError
from application.features import BuildFeatures
from application.models.evaluate import EvaluateModels, LearningData
from application.models.ports import TrainingBudget
from application.models.realtime import ScoreCustomerNow, ServingModels
from application.models.registry import PromoteModel, RollBackModel, SetServingPolicy
from application.models.scoring import OrgInfo, ScoreCustomers, suppressed_pairs
from application.models.train import TrainModel
from domain.errors import ChecksumMismatchError, NotFoundError
from domain.model_version import ModelStage
from domain.recommendation import Arm
from domain.suppression import SuppressionPolicy

TODAY = datetime(2025, 7, 10, tzinfo=UTC)
BUDGET = TrainingBudget(seconds=3, max_trials=1, algorithms=("xgboost", "lightgbm"))
ORGS = {o: OrgInfo(o, f"Org {o}", c) for o, c in (("org-a", "USD"), ("org-b", "EUR"), ("org-c", "GBP"))}


class CountingNotice:
    def __init__(self) -> None:
        self.count = 0

    async def changed(self) -> None:
        self.count += 1


class World:
    def __init__(self) -> None:
        self.inputs = synthetic_inputs(customers=500, families=4, as_of=TODAY.date(), seed=3)
        self.clock = FakeClock(TODAY)
        self.source = FakeFeatureSource(self.inputs)
        self.features = PandasFeatureRegistry()
        self.offline = FakeOfflineFeatureStore()
        self.online = FakeOnlineFeatureStore()
        self.build = BuildFeatures(self.source, self.features, self.offline, self.online, self.clock)
        self.data = LearningData(self.source, self.features, self.offline, self.build)
        self.trainer = EnsembleTrainer()
        self.registry = FakeModelRegistry()
        self.changes = CountingNotice()
        self.store = FakeRecommendationStore(ORGS, {f: f.upper() for f in self.inputs.families})

    def train(self) -> TrainModel:
        return TrainModel(self.data, self.trainer, self.registry, self.clock)

    def scorer(self) -> ScoreCustomers:
        return ScoreCustomers(
            self.source,
            self.features,
            self.offline,
            self.build,
            self.trainer,
            self.registry,
            self.store,
            self.clock,
            group_currency="USD",
            exchange_rates={"EUR": 1.1},
            changes=self.changes,
        )


async def _train(world: World, by: str = "ana"):  # type: ignore[no-untyped-def]
    outcome = await world.train().execute(by=by, horizon_days=90, training_cutoffs=2, budget=BUDGET)
    world.clock.advance(minutes=5)
    return outcome


async def test_the_first_model_serves_later_ones_wait_promote_and_roll_back() -> None:
    world = World()
    first = await _train(world)
    assert first.promoted and first.version.stage is ModelStage.CHAMPION
    assert {"validation_auc", "baseline_popularity_auc"} <= set(first.version.metrics)
    details = await world.registry.details(first.version.id)
    assert (
        details["training_cutoffs"] == ["2024-10-12", "2025-01-11"]
        and details["validation_cutoff"] == "2025-04-11"
    )
    second = await _train(world, by="bob")
    assert not second.promoted and second.version.stage is ModelStage.CANDIDATE

    await PromoteModel(world.registry, world.clock).execute(second.version.id, by="carol", reason="better")
    stages = {v.id: v.stage for v in await world.registry.all()}
    assert stages == {first.version.id: ModelStage.ARCHIVED, second.version.id: ModelStage.CHAMPION}

    world.clock.advance(minutes=1)
    archived, restored = await RollBackModel(world.registry, world.clock).execute(
        by="dave", reason="worse online"
    )
    assert (archived.id, restored.id) == (second.version.id, first.version.id)
    back = await world.registry.get(first.version.id)
    assert back is not None and back.stage is ModelStage.CHAMPION
    assert [(c.to_stage, c.by) for c in back.history] == [
        (ModelStage.CANDIDATE, "ana"),
        (ModelStage.CHAMPION, "ana"),
        (ModelStage.ARCHIVED, "carol"),
        (ModelStage.CHAMPION, "dave"),
    ]
    # What served when: the first model was not serving between the promotion and the roll back.
    assert back.stage_at(back.history[2].at) is ModelStage.ARCHIVED


async def test_a_roll_back_without_an_earlier_champion_is_refused() -> None:
    world = World()
    await _train(world)
    with pytest.raises(InvalidRequestError, match="first model"):
        await RollBackModel(world.registry, world.clock).execute(by="dave")


async def test_scoring_suppresses_ranks_values_and_splits_arms_by_customer() -> None:
    world = World()
    champion = (await _train(world)).version
    challenger = (await _train(world)).version
    await PromoteModel(world.registry, world.clock).execute(challenger.id, by="ana", challenger=True)
    policy = await SetServingPolicy(world.registry).execute(challenger_share=0.5, salt="exp-1", by="ana")

    report = await world.scorer().execute(per_customer=2)
    (batch,) = world.store.batches
    assert report.written == len(batch) > 0 and report.suppressed > 0
    blocked = suppressed_pairs(world.inputs, TODAY.date(), SuppressionPolicy())
    assert not blocked & set(zip(batch.customer_ids, batch.family_ids, strict=True))
    per_customer = Counter(batch.customer_ids)
    assert max(per_customer.values()) <= 2
    for customer in per_customer:
        rows = [i for i, c in enumerate(batch.customer_ids) if c == customer]
        assert [int(batch.ranks[i]) for i in rows] == list(range(1, len(rows) + 1))
        values = [batch.expected_values[i] for i in rows]
        assert values == sorted(values, reverse=True)
    for i, customer in enumerate(batch.customer_ids):
        arm = policy.arm_for(customer, has_challenger=True)
        assert batch.arms[i] == arm.value
        assert batch.model_version_ids[i] == (challenger.id if arm is Arm.CHALLENGER else champion.id)
        assert batch.target_org_ids[i] in ORGS
        currency = ORGS[batch.target_org_ids[i]].currency
        assert batch.currencies[i] == currency
        expected_group = {"USD": 1.0, "EUR": 1.1}.get(currency)
        if expected_group is None:
            assert np.isnan(batch.group_values[i])
        else:
            assert batch.group_values[i] == pytest.approx(
                batch.expected_values[i] * expected_group, abs=0.011
            )
    assert 0.3 < batch.arms.count("challenger") / len(batch) < 0.7
    assert all(0 <= p <= 1 for p in batch.probabilities)
    assert sum(bool(r) for r in batch.reasons) > len(batch) / 2
    assert world.store.runs[report.run_id]["status"] == "completed"
    assert world.changes.count == 1  # cached lists of offers are retired once the run is written


async def test_an_altered_artifact_is_refused_and_the_run_is_recorded_failed() -> None:
    world = World()
    champion = (await _train(world)).version
    world.registry.files[champion.id]["xgboost.ubj"] += b"\x00"
    with pytest.raises(ChecksumMismatchError):
        await world.scorer().execute()
    assert [run["status"] for run in world.store.runs.values()] == ["failed"]
    assert not world.store.batches


async def test_scoring_without_a_model_says_what_to_do() -> None:
    with pytest.raises(InvalidRequestError, match="xsell train"):
        await World().scorer().execute()


async def test_evaluation_reports_models_members_and_baselines_on_the_same_candidates() -> None:
    world = World()
    report = await EvaluateModels(world.data, world.trainer, world.clock).execute(
        date(2025, 1, 1), horizon_days=90, k=3, budget=BUDGET, training_cutoffs=2
    )
    names = [(row.name, row.kind) for row in report.rows]
    assert names == [
        ("ensemble", "ensemble"),
        ("xgboost", "member"),
        ("lightgbm", "member"),
        ("popularity", "baseline"),
        ("segment_popularity", "baseline"),
        ("co_purchase", "baseline"),
    ]
    assert report.plan.training[-1] < report.plan.validation < report.plan.target
    assert report.positives["evaluation"] > 0
    assert {row.evaluation.overall["rows"] for row in report.rows} == {report.candidates["evaluation"]}
    as_json = report.to_dict()
    assert as_json["results"][0]["overall"]["map@3"] is not None


async def test_evaluating_a_future_date_is_refused() -> None:
    world = World()
    with pytest.raises(InvalidRequestError, match="not in the past"):
        await EvaluateModels(world.data, world.trainer, world.clock).execute(TODAY.date())


async def test_one_customer_is_scored_on_the_spot_from_the_served_features() -> None:
    world = World()
    champion = (await _train(world)).version
    await world.build.execute(TODAY.date(), publish=True)
    models = ServingModels(world.registry, world.trainer)
    live = ScoreCustomerNow(world.features, world.online, world.registry, models)
    batch = world.online.served[world.features.layout().feature_set_version]
    names = batch.layout.pair_numbers
    ruled_out = sum(
        np.nan_to_num(batch.pair_numbers[:, :, names.index(n)])
        for n in ("family_owned", "family_open_opportunities", "family_lost_opportunities")
    )
    row = int(np.flatnonzero((ruled_out == 0).sum(axis=1) >= 2)[0])
    customer = batch.customer_ids[row]
    offers = await live.execute(customer, limit=3)
    assert 0 < len(offers) <= 3
    assert all(o.model_version_id == champion.id and 0 <= o.probability <= 1 for o in offers)
    values = [o.expected_value for o in offers]
    assert values == sorted(values, reverse=True)
    free = {f for f, n in zip(batch.families, ruled_out[row], strict=True) if n == 0}
    assert {o.family_id for o in offers} <= free and len(offers) == min(3, len(free))
    # The loaded model is reused by the next request.
    (first,) = (await models.current()).values()
    (again,) = (await models.current()).values()
    assert first[1] is again[1]
    with pytest.raises(NotFoundError):
        await live.execute("no-such-customer")
