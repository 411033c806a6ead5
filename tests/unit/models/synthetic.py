"""A small synthetic learning task with a known signal, shared by the model tests."""

from __future__ import annotations

from datetime import date

import numpy as np

from application.features.model import FeatureBatch, FeatureLayout
from application.models.dataset import CandidateSet

LAYOUT = FeatureLayout(
    feature_set_version="fs-test",
    numbers=("activities_30d", "activity_trend", "employees"),
    labels=("industry", "size_band"),
    pair_numbers=("family_owned", "segment_adoption_lift", "expected_deal_size"),
)
FAMILIES = ("analytics", "crm-suite", "data-platform", "security")


def synthetic_batch(as_of: date, customers: int, seed: int) -> tuple[FeatureBatch, set[tuple[str, str]]]:
    """Purchases depend on activity trend and segment lift (and a family effect); 30 % of pairs are owned."""
    rng = np.random.default_rng(seed)
    ids = tuple(f"c{seed}-{i:05d}" for i in range(customers))
    trend = rng.lognormal(0.0, 0.6, customers)
    numbers = np.column_stack([rng.poisson(3 * trend), trend, rng.lognormal(5, 1.2, customers)]).astype(
        np.float64
    )
    numbers[rng.random(customers) < 0.05, 2] = np.nan
    industries = np.array(["Retail", "Banking", "Energy"], dtype=object)[rng.integers(0, 3, customers)]
    bands = np.array(["1-49", "50-249", "250-999"], dtype=object)[rng.integers(0, 3, customers)]
    labels = np.column_stack([industries, bands])
    owned = rng.random((customers, len(FAMILIES))) < 0.3
    lift = rng.lognormal(0.0, 0.5, (customers, len(FAMILIES)))
    deal = rng.uniform(5_000, 50_000, (customers, len(FAMILIES)))
    pairs = np.stack([owned.astype(float), lift, deal], axis=2)
    logit = -3.0 + 1.2 * np.log(trend)[:, None] + 1.5 * np.log(lift) + np.array([0.0, 0.5, -0.5, 0.2])
    bought = (rng.random((customers, len(FAMILIES))) < 1 / (1 + np.exp(-logit))) & ~owned
    purchases = {(ids[c], FAMILIES[f]) for c, f in zip(*np.nonzero(bought), strict=True)}
    batch = FeatureBatch(as_of, LAYOUT, ids, FAMILIES, numbers, labels, pairs)
    return batch, purchases


def synthetic_candidates(as_of: date, customers: int, seed: int) -> CandidateSet:
    batch, purchases = synthetic_batch(as_of, customers, seed)
    return CandidateSet.from_batch(batch, purchases)
