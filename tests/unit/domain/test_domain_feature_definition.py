"""FeatureDefinition: identity is (name, version); a changed computation needs a new version."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.errors import FeatureVersionConflictError, InvariantViolationError, NotFoundError
from domain.feature_definition import (
    FeatureCatalog,
    FeatureDefinition,
    FeatureDtype,
    FeatureEntity,
    FeatureKey,
    FeatureSet,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)
T1 = datetime(2025, 2, 1, tzinfo=UTC)


def feature(**overrides: object) -> FeatureDefinition:
    fields: dict[str, object] = {
        "name": "activity_30d",
        "version": 1,
        "entity": FeatureEntity.CUSTOMER,
        "dtype": FeatureDtype.FLOAT,
        "description": "Activities logged in the 30 days before the cutoff",
        "owner": "data-science",
        "fingerprint": "sha256:aaa",
        "created_at": T0,
    }
    fields.update(overrides)
    return FeatureDefinition(**fields)  # type: ignore[arg-type]


def test_identity_is_name_and_version() -> None:
    assert feature().key == FeatureKey("activity_30d", 1)
    assert feature() == feature(description="edited", owner="someone")
    assert feature() != feature(version=2)
    assert str(feature().key) == "activity_30d@v1"


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": "Activity30d"},
        {"name": "30d_activity"},
        {"name": "activity-30d"},
        {"name": ""},
        {"version": 0},
        {"version": True},
        {"version": "1"},
        {"entity": "account"},
        {"dtype": "complex"},
        {"description": " "},
        {"owner": ""},
        {"created_at": datetime(2025, 1, 1)},
    ],
)
def test_feature_definition_invariants(overrides: dict[str, object]) -> None:
    with pytest.raises(InvariantViolationError):
        feature(**overrides)


def test_entities_and_dtypes() -> None:
    assert [e.value for e in FeatureEntity] == ["customer", "customer_family"]
    assert feature(entity="customer_family", dtype="bool").entity is FeatureEntity.CUSTOMER_FAMILY


def test_revising_makes_the_next_version() -> None:
    revised = feature().revise(fingerprint="sha256:bbb", at=T1, dtype=FeatureDtype.INT)
    assert revised.key == FeatureKey("activity_30d", 2)
    assert (revised.dtype, revised.entity, revised.fingerprint, revised.created_at) == (
        FeatureDtype.INT,
        FeatureEntity.CUSTOMER,
        "sha256:bbb",
        T1,
    )
    assert revised.description == feature().description


def test_documentation_is_not_computation() -> None:
    assert feature().same_computation(feature(description="better words", owner="other"))
    assert not feature().same_computation(feature(fingerprint="sha256:bbb"))
    assert not feature().same_computation(feature(dtype=FeatureDtype.INT))
    assert not feature().same_computation(feature(entity=FeatureEntity.CUSTOMER_FAMILY))


def test_the_catalog_refuses_a_changed_computation_under_an_old_version() -> None:
    catalog = FeatureCatalog()
    original = catalog.register(feature())

    assert catalog.register(feature(description="reworded")) is original
    with pytest.raises(FeatureVersionConflictError, match="register version 2"):
        catalog.register(feature(fingerprint="sha256:changed"))

    catalog.register(feature().revise(fingerprint="sha256:changed", at=T1))
    assert catalog.latest("activity_30d").version == 2
    assert catalog.get(FeatureKey("activity_30d", 1)) is original
    with pytest.raises(NotFoundError):
        catalog.get(FeatureKey("activity_30d", 3))
    with pytest.raises(NotFoundError):
        catalog.latest("nope")


def test_a_feature_set_version_depends_only_on_its_members() -> None:
    a, b = feature(), feature(name="industry_adoption", entity=FeatureEntity.CUSTOMER_FAMILY)
    first, second = FeatureSet.of([a, b]), FeatureSet.of([b, a])
    assert first.version == second.version
    assert first.version.startswith("fs-")
    assert len(first.version) == 19
    assert FeatureSet.of([a, b.revise(fingerprint="x", at=T1)]).version != first.version


def test_a_feature_set_holds_one_version_of_each_feature() -> None:
    with pytest.raises(InvariantViolationError):
        FeatureSet(frozenset())
    with pytest.raises(InvariantViolationError):
        FeatureSet(frozenset({FeatureKey("a", 1), FeatureKey("a", 2)}))
