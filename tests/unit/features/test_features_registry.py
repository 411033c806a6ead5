"""The registry: one definition per feature, fingerprints that follow the code, and the append-only lock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from adapters.features.definitions import FeatureBook, FeatureContext
from adapters.features.lock import lock_problems, read_lock, record_lock
from adapters.features.registry import PandasFeatureRegistry
from application.features import ListFeatureDefinitions
from domain.errors import InvariantViolationError
from domain.feature_definition import FeatureDtype, FeatureEntity, FeatureSet

CUSTOMER = FeatureEntity.CUSTOMER


def test_every_released_feature_matches_features_lock() -> None:
    # Failing here means a computation changed under a released version: bump the version.
    assert lock_problems(PandasFeatureRegistry().definitions()) == []


def test_the_issue_s_feature_groups_are_all_defined() -> None:
    names = {d.name for d in PandasFeatureRegistry().definitions()}
    assert {"industry", "size_band", "annual_revenue", "country"} <= names
    assert {"families_owned", "family_owned_orgs", "tenure_days", "orgs_present", "match_confidence"} <= names
    assert {"won_count", "lost_count", "open_count", "won_amount", "win_rate", "days_since_last_win"} <= names
    assert {"avg_days_to_close", "activities_30d", "activities_90d", "activities_365d"} <= names
    assert {"activity_trend", "days_since_last_activity", "activity_call_share"} <= names
    assert {"neighbour_adoption_share", "neighbour_days_since_purchase"} <= names
    assert {"segment_adoption_rate", "segment_adoption_lift"} <= names
    assert {"expected_deal_size", "revenue_potential", "spend_headroom"} <= names


def test_layout_puts_each_feature_in_exactly_one_column() -> None:
    registry = PandasFeatureRegistry()
    layout = registry.layout()
    columns = [*layout.numbers, *layout.labels, *layout.pair_numbers]
    assert sorted(columns) == sorted(d.name for d in registry.definitions())
    assert layout.feature_set_version == FeatureSet.of(registry.definitions()).version


def test_list_filters_by_entity_and_reports_the_set_version() -> None:
    registry = PandasFeatureRegistry()
    version, pairs = ListFeatureDefinitions(registry).execute(FeatureEntity.CUSTOMER_FAMILY)
    assert version == registry.layout().feature_set_version
    assert pairs
    assert {d.name for d in pairs} == set(registry.layout().pair_numbers)


def _v1() -> Any:
    def score(ctx: FeatureContext) -> Any:
        return ctx["base"] * 2

    return score


def _v1_reformatted() -> Any:
    def score(ctx: FeatureContext) -> Any:
        """Twice the base."""
        # A comment and a docstring are not computation.
        return ctx["base"] * 2

    return score


def _v2() -> Any:
    def score(ctx: FeatureContext) -> Any:
        return ctx["base"] * 3

    return score


def _base(factor: int) -> Any:
    if factor == 1:

        def base(ctx: FeatureContext) -> Any:
            return 1

    else:

        def base(ctx: FeatureContext) -> Any:
            return 2

    return base


def _book(score: Any, base_factor: int = 1) -> FeatureBook:
    book = FeatureBook()
    book.step(_base(base_factor))
    book.feature(1, CUSTOMER, FeatureDtype.FLOAT, "A score.")(score)
    return book


def test_fingerprint_ignores_formatting_but_follows_code_and_the_steps_read() -> None:
    original = _book(_v1()).fingerprint("score")
    assert _book(_v1_reformatted()).fingerprint("score") == original
    assert _book(_v2()).fingerprint("score") != original
    assert _book(_v1(), base_factor=2).fingerprint("score") != original


def test_a_step_that_does_not_exist_is_caught() -> None:
    book = FeatureBook()
    book.feature(1, CUSTOMER, FeatureDtype.FLOAT, "A score.")(_v1())
    with pytest.raises(InvariantViolationError, match="base"):
        book.fingerprint("score")


def test_per_family_features_must_be_numeric() -> None:
    with pytest.raises(InvariantViolationError, match="numeric"):
        FeatureBook().feature(1, FeatureEntity.CUSTOMER_FAMILY, FeatureDtype.CATEGORY, "x")(_v1())


def test_lock_records_new_versions_and_refuses_a_changed_computation(tmp_path: Path) -> None:
    lock = tmp_path / "features.lock"
    released = PandasFeatureRegistry(_book(_v1())).definitions()
    assert record_lock(released, lock) == ["score@v1"]
    assert lock_problems(released, lock) == []

    changed = PandasFeatureRegistry(_book(_v2())).definitions()
    assert lock_problems(changed, lock) == [
        "score@v1: the computation changed since it was released; give it version 2"
        " (and run `python -m adapters.features.lock`)"
    ]
    with pytest.raises(ValueError, match="score@v1"):
        record_lock(changed, lock)
    assert set(read_lock(lock)) == {"score@v1"}
