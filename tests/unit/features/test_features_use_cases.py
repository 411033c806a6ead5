"""BuildFeatures and GetOnlineFeatures on in-memory stores: one batch to both, backfills, bad requests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from test_features_values import world
from tests.fakes import FakeClock
from tests.fakes_features import FakeFeatureSource, FakeOfflineFeatureStore, FakeOnlineFeatureStore

from adapters.features.registry import PandasFeatureRegistry
from application.errors import InvalidRequestError
from application.features import BuildFeatures, GetOnlineFeatures

TODAY = datetime(2025, 7, 10, tzinfo=UTC)


@pytest.fixture
def parts() -> tuple[BuildFeatures, FakeOfflineFeatureStore, FakeOnlineFeatureStore, PandasFeatureRegistry]:
    registry = PandasFeatureRegistry()
    offline, online = FakeOfflineFeatureStore(), FakeOnlineFeatureStore()
    build = BuildFeatures(FakeFeatureSource(world()), registry, offline, online, FakeClock(TODAY))
    return build, offline, online, registry


async def test_one_batch_goes_to_both_stores(parts: tuple) -> None:  # type: ignore[type-arg]
    build, offline, online, registry = parts
    steps: list[str] = []
    report = await build.execute(date(2025, 6, 30), on_step=steps.append)
    assert (report.customers, report.families, report.served_online) == (2, 3, True)
    assert report.features == len(registry.definitions())
    assert steps[-1] == "publishing to the online store"
    version = registry.layout().feature_set_version
    assert await online.read(version, ["acme", "beta"]) == await offline.read(
        version, date(2025, 6, 30), ["acme", "beta"]
    )


async def test_older_cutoffs_fill_only_the_offline_store(parts: tuple) -> None:  # type: ignore[type-arg]
    build, offline, online, registry = parts
    version = registry.layout().feature_set_version
    await build.execute(date(2025, 6, 30))
    assert not (await build.execute(date(2025, 3, 31))).served_online
    assert not (await build.execute(date(2025, 7, 1), publish=False)).served_online
    assert await online.served_as_of(version) == date(2025, 6, 30)
    assert await offline.as_of_dates(version) == [date(2025, 3, 31), date(2025, 6, 30), date(2025, 7, 1)]


async def test_a_future_cutoff_is_refused(parts: tuple) -> None:  # type: ignore[type-arg]
    build, offline, _, _ = parts
    with pytest.raises(InvalidRequestError, match="future"):
        await build.execute(TODAY.date() + timedelta(days=1))
    assert offline.batches == {}


async def test_online_features_come_back_with_names(parts: tuple) -> None:  # type: ignore[type-arg]
    build, _, online, registry = parts
    await build.execute(date(2025, 6, 30))
    found = await GetOnlineFeatures(registry, online).execute(["acme", "nobody"])
    assert set(found) == {"acme"}
    acme = found["acme"]
    assert acme.values["won_count"] == 1.0
    assert acme.values["industry"] == "Banking"
    assert acme.families["fam-a"]["family_owned"] == 1.0
    assert acme.families["fam-b"]["family_days_since_purchase"] is None  # missing is None, never NaN
    with pytest.raises(InvalidRequestError, match="at most"):
        await GetOnlineFeatures(registry, online, max_customers=1).execute(["acme", "beta"])
