"""The evaluation's reference row: customers map to generated companies, families to true propensities."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np

from application.features.model import FeatureBatch, FeatureLayout, cutoff_instant
from application.models.dataset import CandidateSet
from domain.resolution.product_families import family_slug
from entrypoints.cli.evaluate import GroundTruthReference
from simulators.salesforce.generator import GroupSpec, MemorySink, generate_company_group
from simulators.salesforce.generator.ground_truth import read_ground_truth, true_propensity

CUTOFF = date(2026, 1, 1)


def test_each_candidate_gets_its_company_true_propensity(tmp_path: Path) -> None:
    path = tmp_path / "truth.jsonl"
    generate_company_group(GroupSpec(accounts=200, seed=4), MemorySink(), path)
    truth = read_ground_truth(path)
    companies = truth.companies[:20]
    families = (*(family_slug(f) for f in truth.header["families"][:3]), "not-a-family")
    ids = tuple(f"cust-{c['company_id']}" for c in companies)
    # Every customer holds its company's accounts, and the first one also a stray account of another company.
    members = {
        customer: [(a["org"], a["account_id"]) for a in company["accounts"]]
        for customer, company in zip(ids, companies, strict=True)
    }
    members[ids[0]].append((companies[1]["accounts"][0]["org"], companies[1]["accounts"][0]["account_id"]))
    layout = FeatureLayout("fs-test", (), (), ("family_owned",))
    batch = FeatureBatch(
        CUTOFF,
        layout,
        ids,
        families,
        np.empty((len(ids), 0)),
        np.empty((len(ids), 0), dtype=object),
        np.zeros((len(ids), len(families), 1)),
    )
    candidates = CandidateSet.from_batch(batch)
    scores = GroundTruthReference(path).scores(candidates, members, 180)
    for row in range(len(candidates)):
        company = companies[int(candidates.customer[row])]
        family = families[int(candidates.family[row])]
        if family == "not-a-family":
            assert math.isnan(scores[row])
            continue
        name = next(f for f in truth.header["families"] if family_slug(f) == family)
        expected = true_propensity(truth.header, company, name, cutoff_instant(CUTOFF), 180)
        assert scores[row] == (0.0 if expected is None else expected)
    assert np.nanmax(scores) > 0
