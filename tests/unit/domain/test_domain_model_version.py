"""ModelVersion: stage transitions, promotion and roll back, stage history, artifact checksums."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import (
    ChecksumMismatchError,
    InvalidStageTransitionError,
    InvariantViolationError,
    NotFoundError,
)
from domain.events import ModelVersionStageChanged
from domain.model_version import (
    STAGE_TRANSITIONS,
    ModelStage,
    ModelVersion,
    StageChange,
    TrainingWindow,
    promote_to_champion,
    roll_back,
)

M = ModelStage
T0 = datetime(2025, 5, 1, tzinfo=UTC)
T1, T2, T3, T4 = (T0 + timedelta(days=d) for d in (1, 2, 3, 4))
WINDOW = TrainingWindow(datetime(2023, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC))
MODEL_BYTES = b'{"learner": "xgboost"}'
MODEL_SHA = hashlib.sha256(MODEL_BYTES).hexdigest()

ALLOWED = {
    (M.CANDIDATE, M.CHALLENGER),
    (M.CANDIDATE, M.CHAMPION),
    (M.CANDIDATE, M.ARCHIVED),
    (M.CHALLENGER, M.CHAMPION),
    (M.CHALLENGER, M.CANDIDATE),
    (M.CHALLENGER, M.ARCHIVED),
    (M.CHAMPION, M.ARCHIVED),
    (M.ARCHIVED, M.CHAMPION),
    (M.ARCHIVED, M.CHALLENGER),
}


def version(version_id: str = "mv-1", **overrides: object) -> ModelVersion:
    fields: dict[str, object] = {
        "id": version_id,
        "algorithms": frozenset({"xgboost", "lightgbm"}),
        "feature_set_version": "fs-0123456789abcdef",
        "training_window": WINDOW,
        "created_by": "trainer",
        "metrics": {"auc": 0.81, "map_at_5": 0.22},
        "artifacts": {"xgboost.ubj": MODEL_SHA},
        "created_at": T0,
    }
    fields.update(overrides)
    return ModelVersion(**fields)  # type: ignore[arg-type]


def at_stage(stage: ModelStage) -> ModelVersion:
    mv = version()
    path = {
        M.CANDIDATE: [],
        M.CHALLENGER: [M.CHALLENGER],
        M.CHAMPION: [M.CHAMPION],
        M.ARCHIVED: [M.ARCHIVED],
    }[stage]
    for step in path:
        mv.move_to(step, by="ops", at=T1)
    mv.events.clear()
    return mv


def test_a_new_version_is_a_registered_candidate() -> None:
    mv = version()
    assert mv.stage is M.CANDIDATE
    assert mv.history == [StageChange(None, M.CANDIDATE, "trainer", T0, "registered")]
    assert mv.algorithms == {"xgboost", "lightgbm"}
    assert not mv.was_champion


def test_the_stage_graph_is_exactly_the_declared_one() -> None:
    assert {(s, t) for s, targets in STAGE_TRANSITIONS.items() for t in targets} == ALLOWED
    assert [s.value for s in M] == ["candidate", "challenger", "champion", "archived"]


@pytest.mark.parametrize(("source", "target"), sorted(ALLOWED))
def test_every_allowed_stage_move_is_recorded(source: ModelStage, target: ModelStage) -> None:
    mv = at_stage(source)

    change = mv.move_to(target, by="ann", at=T2, reason="why not")

    assert mv.stage is target
    assert change == StageChange(source, target, "ann", T2, "why not")
    assert mv.history[-1] == change
    assert mv.events == [
        ModelVersionStageChanged(
            occurred_at=T2,
            model_version_id="mv-1",
            from_stage=source,
            to_stage=target,
            decided_by="ann",
            reason="why not",
        )
    ]


@pytest.mark.parametrize(("source", "target"), sorted(set(itertools.product(M, M)) - ALLOWED))
def test_every_forbidden_stage_move_raises_and_changes_nothing(
    source: ModelStage, target: ModelStage
) -> None:
    mv = at_stage(source)
    history = list(mv.history)
    with pytest.raises(InvalidStageTransitionError, match=f"from {source} to {target}"):
        mv.move_to(target, by="ann", at=T2)
    assert mv.stage is source
    assert mv.history == history
    assert mv.events == []


def test_stage_moves_name_who_use_utc_and_go_forward_in_time() -> None:
    mv = version()
    with pytest.raises(InvariantViolationError):
        mv.move_to(M.CHALLENGER, by="", at=T1)
    with pytest.raises(InvariantViolationError):
        mv.move_to(M.CHALLENGER, by="ann", at=datetime(2025, 6, 1))
    with pytest.raises(InvariantViolationError):
        mv.move_to(M.CHALLENGER, by="ann", at=T0 - timedelta(seconds=1))
    with pytest.raises(InvariantViolationError):
        mv.move_to("retired", by="ann", at=T1)  # type: ignore[arg-type]
    assert mv.stage is M.CANDIDATE
    assert len(mv.history) == 1


def test_the_full_history_says_what_served_when() -> None:
    mv = version()
    mv.move_to(M.CHALLENGER, by="ann", at=T1)
    mv.move_to(M.CHAMPION, by="bob", at=T2)
    mv.move_to(M.ARCHIVED, by="bob", at=T3)

    assert [(c.from_stage, c.to_stage, c.by, c.at) for c in mv.history] == [
        (None, M.CANDIDATE, "trainer", T0),
        (M.CANDIDATE, M.CHALLENGER, "ann", T1),
        (M.CHALLENGER, M.CHAMPION, "bob", T2),
        (M.CHAMPION, M.ARCHIVED, "bob", T3),
    ]
    assert mv.stage_at(T0 - timedelta(seconds=1)) is None
    assert mv.stage_at(T0) is M.CANDIDATE
    assert mv.stage_at(T2 + timedelta(hours=5)) is M.CHAMPION
    assert mv.stage_at(T4) is M.ARCHIVED
    assert mv.was_champion


def test_promotion_archives_the_old_champion() -> None:
    old, new = version("mv-old"), version("mv-new")
    promote_to_champion(old, None, by="ann", at=T1)
    promote_to_champion(new, old, by="bob", at=T2, reason="better MAP@5")

    assert (old.stage, new.stage) == (M.ARCHIVED, M.CHAMPION)
    assert old.history[-1] == StageChange(M.CHAMPION, M.ARCHIVED, "bob", T2, "replaced by mv-new")
    assert new.history[-1] == StageChange(M.CANDIDATE, M.CHAMPION, "bob", T2, "better MAP@5")


def test_a_refused_promotion_changes_nothing() -> None:
    champion = version("mv-old")
    promote_to_champion(champion, None, by="ann", at=T1)
    stale = version("mv-stale")
    stale.move_to(M.CHALLENGER, by="ann", at=T3)

    with pytest.raises(InvariantViolationError):  # T2 is before the challenger's last change
        promote_to_champion(stale, champion, by="bob", at=T2)
    assert champion.stage is M.CHAMPION

    archived = at_stage(M.CHAMPION)
    archived.move_to(M.ARCHIVED, by="ann", at=T2)
    with pytest.raises(InvariantViolationError, match="not the serving champion"):
        promote_to_champion(stale, archived, by="bob", at=T3)
    with pytest.raises(InvariantViolationError, match="already the champion"):
        promote_to_champion(champion, champion, by="bob", at=T3)
    assert stale.stage is M.CHALLENGER


def test_roll_back_restores_the_previous_champion() -> None:
    first, second = version("mv-1"), version("mv-2")
    promote_to_champion(first, None, by="ann", at=T1)
    promote_to_champion(second, first, by="ann", at=T2)

    roll_back(second, first, by="bob", at=T3, reason="conversion dropped")

    assert (first.stage, second.stage) == (M.CHAMPION, M.ARCHIVED)
    assert first.history[-1] == StageChange(M.ARCHIVED, M.CHAMPION, "bob", T3, "conversion dropped")
    assert second.history[-1].reason == "rolled back to mv-1"
    assert first.stage_at(T2) is M.ARCHIVED
    assert first.stage_at(T3) is M.CHAMPION


def test_roll_back_only_to_an_archived_former_champion() -> None:
    champion, never = version("mv-1"), version("mv-2")
    promote_to_champion(champion, None, by="ann", at=T1)
    never.move_to(M.ARCHIVED, by="ann", at=T1)

    with pytest.raises(InvariantViolationError, match="never served"):
        roll_back(champion, never, by="bob", at=T2)
    with pytest.raises(InvariantViolationError, match="only the champion"):
        roll_back(never, champion, by="bob", at=T2)
    assert (champion.stage, never.stage) == (M.CHAMPION, M.ARCHIVED)


def test_artifacts_are_verified_against_their_checksum() -> None:
    mv = version()
    mv.verify_artifact("xgboost.ubj", MODEL_BYTES)
    with pytest.raises(ChecksumMismatchError):
        mv.verify_artifact("xgboost.ubj", MODEL_BYTES + b" ")
    with pytest.raises(NotFoundError):
        mv.verify_artifact("mlp.pt", MODEL_BYTES)


def test_checksums_are_sha256_hex_stored_lower_case() -> None:
    assert version(artifacts={"m": MODEL_SHA.upper()}).artifacts == {"m": MODEL_SHA}


@pytest.mark.parametrize(
    "overrides",
    [
        {"id": ""},
        {"algorithms": frozenset()},
        {"algorithms": frozenset({"XGBoost"})},
        {"feature_set_version": " "},
        {"created_by": ""},
        {"metrics": {"auc": float("nan")}},
        {"metrics": {"auc": "high"}},
        {"artifacts": {"m": "abc"}},
        {"artifacts": {"m": "g" * 64}},
        {"artifacts": {"": MODEL_SHA}},
        {"stage": "retired"},
        {"created_at": datetime(2025, 1, 1)},
        {"stage": M.CHAMPION, "history": [StageChange(None, M.CANDIDATE, "t", T0)]},
    ],
)
def test_model_version_invariants(overrides: dict[str, object]) -> None:
    with pytest.raises(InvariantViolationError):
        version("mv-1", **overrides)


def test_training_windows_run_forward_in_utc() -> None:
    with pytest.raises(InvariantViolationError):
        TrainingWindow(T1, T0)
    with pytest.raises(InvariantViolationError):
        TrainingWindow(T0, T0)
    with pytest.raises(InvariantViolationError):
        TrainingWindow(datetime(2025, 1, 1), T0)


def test_versions_are_equal_by_id() -> None:
    assert version("mv-1") == version("mv-1", metrics={})
    assert version("mv-1") != version("mv-2")
