"""The model registry and recommendation store on real PostgreSQL, and the model commands' errors."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select, update
from tests.cli import one_line_error, run_xsell

from adapters.embedded.services import ServiceUrls
from adapters.persistence.engine import create_engine
from adapters.persistence.model_registry import SqlaModelRegistry
from adapters.persistence.model_tables import recommendations, scoring_runs
from adapters.persistence.recommendation_store import SqlaRecommendationStore
from application.errors import InvalidRequestError
from application.models.scoring import RecommendationBatch
from domain.errors import ChecksumMismatchError
from domain.model_version import ModelStage, ModelVersion, TrainingWindow, promote_to_champion
from domain.recommendation import Reason, ReasonKind
from domain.serving import ServingPolicy

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _version(name: str, files: dict[str, bytes], at: datetime) -> ModelVersion:
    return ModelVersion(
        id=name,
        algorithms=frozenset({"xgboost", "mlp"}),
        feature_set_version="fs-1",
        training_window=TrainingWindow(at - timedelta(days=400), at - timedelta(days=10)),
        created_by="ana",
        metrics={"validation_auc": 0.81},
        artifacts={n: hashlib.sha256(c).hexdigest() for n, c in files.items()},
        created_at=at,
    )


async def test_versions_artifacts_and_stage_history_round_trip(database_url: str) -> None:
    engine = create_engine(database_url, 2)
    registry = SqlaModelRegistry(engine)
    try:
        files = {"ensemble.json": b"{}", "xgboost.ubj": bytes(range(256))}
        first = _version("m-1", files, NOW)
        promote_to_champion(first, None, by="ana", at=NOW, reason="first")
        await registry.add(first, files, {"k": 5})
        second = _version("m-2", files, NOW + timedelta(hours=1))
        await registry.add(second, files, {})

        loaded = await registry.get("m-1")
        assert loaded is not None and loaded.stage is ModelStage.CHAMPION
        assert [(c.from_stage, c.to_stage, c.by) for c in loaded.history] == [
            (None, ModelStage.CANDIDATE, "ana"),
            (ModelStage.CANDIDATE, ModelStage.CHAMPION, "ana"),
        ]
        assert await registry.artifacts("m-1") == files
        assert await registry.details("m-1") == {"k": 5}
        assert [v.id for v in await registry.all()] == ["m-2", "m-1"]

        # Promotion moves both versions in one transaction.
        newer, current = await registry.get("m-2"), await registry.get("m-1")
        assert newer is not None and current is not None
        promote_to_champion(newer, current, by="bob", at=NOW + timedelta(hours=2))
        await registry.save_stages([newer, current])
        assert {v.id: v.stage for v in await registry.all()} == {
            "m-2": ModelStage.CHAMPION,
            "m-1": ModelStage.ARCHIVED,
        }

        # A stale copy (read before that promotion) cannot overwrite it.
        stale = _version("m-1", files, NOW)
        promote_to_champion(stale, None, by="eve", at=NOW + timedelta(hours=3))
        with pytest.raises(InvalidRequestError, match="changed by someone else"):
            await registry.save_stages([stale])

        await registry.set_serving_policy(ServingPolicy(0.2, "exp-2"), by="ana")
        assert await registry.serving_policy() == ServingPolicy(0.2, "exp-2")
    finally:
        await engine.dispose()


async def test_a_version_whose_artifacts_do_not_match_their_checksums_is_not_registered(
    database_url: str,
) -> None:
    engine = create_engine(database_url, 2)
    try:
        version = _version("m-bad", {"ensemble.json": b"{}"}, NOW)
        with pytest.raises(ChecksumMismatchError):
            await SqlaModelRegistry(engine).add(version, {"ensemble.json": b"{ }"}, {})
        assert await SqlaModelRegistry(engine).all() == []
    finally:
        await engine.dispose()


def _batch(run_id: str, customers: list[str]) -> RecommendationBatch:
    n = len(customers)
    return RecommendationBatch(
        run_id=run_id,
        as_of=date(2026, 3, 1),
        created_at=NOW,
        group_currency="USD",
        customer_ids=customers,
        family_ids=["analytics"] * n,
        target_org_ids=["bu1"] * n,
        probabilities=np.full(n, 0.25),
        expected_values=np.full(n, 1234.5),
        currencies=["EUR"] * n,
        group_values=np.array([1358.0] + [np.nan] * (n - 1)),
        ranks=np.ones(n, dtype=np.int32),
        model_version_ids=["m-1"] * n,
        arms=["champion"] * n,
        reasons=[(Reason(ReasonKind.ACTIVITY, "Activity in the last 30 days is 3.1 times its usual", 0.4),)]
        * n,
    )


async def test_a_scoring_run_replaces_undecided_offers_and_keeps_decided_ones(database_url: str) -> None:
    engine = create_engine(database_url, 2)
    store = SqlaRecommendationStore(engine)
    try:
        await store.start_run("run-1", date(2026, 3, 1), "m-1", None, NOW)
        assert await store.replace_open(_batch("run-1", ["c1", "c2", "c3"])) == 3
        await store.finish_run(
            "run-1", at=NOW, status="completed", candidates=9, suppressed=2, written=3, error=None
        )
        async with engine.begin() as connection:
            await connection.execute(
                update(recommendations)
                .where(recommendations.c.customer_id == "c1")
                .values(status="accepted", accepted_at=NOW, decided_by="sam")
            )
        assert await store.decided_pairs(NOW - timedelta(days=1)) == {("c1", "analytics")}

        await store.replace_open(_batch("run-2", ["c2", "c4"]))
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(
                        recommendations.c.customer_id,
                        recommendations.c.status,
                        recommendations.c.scoring_run_id,
                        recommendations.c.group_value,
                        recommendations.c.reasons,
                    ).order_by(recommendations.c.customer_id)
                )
            ).all()
            run = (await connection.execute(select(scoring_runs))).one()
        assert [(r.customer_id, r.status, r.scoring_run_id) for r in rows] == [
            ("c1", "accepted", "run-1"),
            ("c2", "new", "run-2"),
            ("c4", "new", "run-2"),
        ]
        assert float(rows[1].group_value) == 1358.0 and rows[2].group_value is None
        assert rows[1].reasons[0]["text"].startswith("Activity in the last 30 days")
        assert (run.status, run.written, run.suppressed) == ("completed", 3, 2)
    finally:
        await engine.dispose()


def test_model_commands_without_a_model_say_what_to_do(services: ServiceUrls, database_url: str) -> None:
    env = {"DATABASE_URL": database_url, "REDIS_URL": services.redis_url}
    assert "xsell train" in one_line_error(run_xsell("score", **env))
    assert "nothing to roll back" in one_line_error(run_xsell("models", "rollback", **env))
    assert "no model version 'nope'" in one_line_error(run_xsell("models", "promote", "nope", **env))
    assert "choose from" in one_line_error(
        run_xsell("evaluate", "--as-of", "2026-01-01", "--algorithms", "svm", **env)
    )
    listed = run_xsell("models", "list", **env)
    assert listed.returncode == 0 and "xsell train" in listed.stdout
    # Evaluating before any product family is mapped explains the next step.
    line = one_line_error(run_xsell("evaluate", "--as-of", "2026-01-01", "--budget", "5", **env))
    assert "xsell products suggest" in line


def test_evaluate_rejects_a_malformed_date() -> None:
    result = run_xsell("evaluate", "--as-of", "01/02/2026")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_optuna_keeps_its_studies_in_postgresql_apart_from_the_schema(database_url: str) -> None:
    import optuna
    from tests.unit.models.synthetic import synthetic_candidates

    from adapters.ml.ensemble import EnsembleTrainer, optuna_storage_url
    from application.models.ports import TrainingBudget

    storage = optuna_storage_url(database_url)
    train = synthetic_candidates(date(2024, 1, 1), 600, 1)
    valid = synthetic_candidates(date(2024, 7, 1), 600, 2)
    budget = TrainingBudget(seconds=4, max_trials=2, algorithms=("xgboost", "lightgbm"))
    EnsembleTrainer(storage).train(train, valid, budget, study_prefix="pg")
    studies = optuna.get_all_study_summaries(
        optuna.storages.RDBStorage(
            storage, engine_kwargs={"connect_args": {"options": "-c search_path=optuna"}}
        )
    )
    assert {s.study_name for s in studies} == {"pg-xgboost", "pg-lightgbm"}
    assert all(s.n_trials >= 1 for s in studies)


async def test_feedback_moves_an_offer_once_and_counts_for_its_arm(database_url: str) -> None:
    from decimal import Decimal

    from tests.fakes import FakeClock

    from adapters.persistence.engine import ReadPool
    from adapters.persistence.recommendation_store import SqlaRecommendationRepository
    from application.models.feedback import ListRecommendations, RecommendationFilter, RecordFeedback
    from domain.errors import InvalidStatusTransitionError
    from domain.recommendation import RecommendationStatus

    engine = create_engine(database_url, 2)
    try:
        await SqlaRecommendationStore(engine).replace_open(_batch("run-1", ["c1", "c2"]))
        repository = SqlaRecommendationRepository(engine, ReadPool(database_url, 1))
        listed = await ListRecommendations(repository).execute(RecommendationFilter(customer_id="c1"))
        (offer,) = listed
        assert offer.expected_value.currency == "EUR" and offer.reasons[0].text.startswith("Activity")
        stale = await repository.get(offer.id)  # a second reader, before anyone decides
        assert stale is not None
        clock = FakeClock(NOW + timedelta(hours=1))
        feedback = RecordFeedback(repository, clock)
        await feedback.execute(offer.id, RecommendationStatus.ACCEPTED, by="sam")
        with pytest.raises(InvalidStatusTransitionError):
            await feedback.execute(offer.id, RecommendationStatus.DISMISSED, by="kim")
        clock.advance(days=30)
        converted = await feedback.execute(
            offer.id, RecommendationStatus.CONVERTED, by="sam", amount=Decimal("5000")
        )
        assert converted.converted_amount is not None and converted.converted_amount.currency == "EUR"
        stored = await repository.get(offer.id)
        assert stored is not None and stored.status is RecommendationStatus.CONVERTED
        assert stored.accepted_at == NOW + timedelta(hours=1) and stored.decided_by == "sam"
        # The second reader decides on its stale copy: the stored decision is not overwritten.
        stale.dismiss(by="kim", at=NOW + timedelta(hours=2))
        assert not await repository.save_decision(stale)
        again = await repository.get(offer.id)
        assert again is not None and again.status is RecommendationStatus.CONVERTED
        (outcome,) = await SqlaModelRegistry(engine).arm_outcomes()
        assert (outcome.recommendations, outcome.converted, outcome.revenue) == (2, 1, 5000.0)
        assert outcome.acceptance_rate == 1.0
    finally:
        await engine.dispose()
