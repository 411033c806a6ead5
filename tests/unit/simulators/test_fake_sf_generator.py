"""The company-group generator: determinism, ground truth, realistic variation and learnable drivers."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from simulators.salesforce.generator import (
    CsvSink,
    GroupSpec,
    MemorySink,
    generate_company_group,
    read_ground_truth,
)


def test_same_seed_gives_identical_orgs_and_ground_truth(tmp_path: Path) -> None:
    outputs = []
    for run in ("a", "b"):
        sink = MemorySink()
        generate_company_group(GroupSpec(accounts=150, seed=3), sink, tmp_path / f"{run}.jsonl")
        outputs.append(
            {
                index: {name: table.rows for name, table in data.tables.items()}
                for index, data in sink.data.items()
            }
        )
    assert outputs[0] == outputs[1]
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def test_ground_truth_names_every_account_once_with_propensities(tmp_path: Path) -> None:
    sink = MemorySink()
    summary = generate_company_group(GroupSpec(accounts=300, seed=5), sink, tmp_path / "truth.jsonl")
    truth = read_ground_truth(tmp_path / "truth.jsonl")
    assert [org["name"] for org in truth.header["orgs"]] == ["bu1", "bu2", "bu3"]
    mapping = truth.company_of_account()
    served = {
        (unit.name, row[0])
        for index, data in sink.data.items()
        for unit in [sink.units[index]]
        for row in data.tables["Account"].rows
    }
    assert set(mapping) == served
    assert len(truth.companies) == summary.companies
    assert Counter(len(company["accounts"]) for company in truth.companies)[1] < len(truth.companies)
    for company in truth.companies:
        for family, probability in company["propensity"].items():
            assert (probability is None) == (family in company["owned"])
            assert probability is None or 0 <= probability <= 1
    assert any(company["parent_company_id"] for company in truth.companies)


def test_same_company_is_spelled_differently_across_orgs(tmp_path: Path) -> None:
    sink = MemorySink()
    generate_company_group(GroupSpec(accounts=400, seed=11), sink, tmp_path / "truth.jsonl")
    truth = read_ground_truth(tmp_path / "truth.jsonl")
    names = {}
    for index, data in sink.data.items():
        table = data.tables["Account"]
        for row in table.rows:
            names[(sink.units[index].name, row[0])] = row[table.columns["Name"]]
    spread = [
        {names[(account["org"], account["account_id"])] for account in company["accounts"]}
        for company in truth.companies
        if len(company["accounts"]) > 1
    ]
    assert sum(len(variants) > 1 for variants in spread) > len(spread) / 3


def test_purchases_follow_the_hidden_propensity(tmp_path: Path) -> None:
    sink = MemorySink()
    generate_company_group(GroupSpec(accounts=1500, seed=2), sink, tmp_path / "truth.jsonl")
    truth = read_ground_truth(tmp_path / "truth.jsonl")
    # Companies owning more families were those with stronger drivers, and co-ownership lifts the rest,
    # so heavy owners' remaining propensity must exceed that of companies owning nothing.
    heavy = [c for c in truth.companies if len(c["owned"]) >= 2]
    none = [c for c in truth.companies if not c["owned"]]

    def mean_propensity(companies: list[dict[str, object]]) -> float:
        values = [p for c in companies for p in c["propensity"].values() if p is not None]  # type: ignore[attr-defined]
        return sum(values) / len(values)

    assert heavy and none
    assert mean_propensity(heavy) > mean_propensity(none)


def test_a_few_thousand_accounts_generate_within_seconds() -> None:
    started = time.perf_counter()
    summary = generate_company_group(GroupSpec(accounts=3000, seed=1), MemorySink())
    assert summary.accounts >= 3000
    assert time.perf_counter() - started < 30


def test_csv_sink_writes_loadable_directories(tmp_path: Path) -> None:
    from simulators.salesforce.csv_seed import load_org_directory

    summary = generate_company_group(GroupSpec(accounts=120, seed=4), CsvSink(tmp_path / "group"))
    org = load_org_directory("bu2", 1, tmp_path / "group" / "bu2")
    assert org.data.multi_currency
    assert len(org.data.tables["Account"].rows) > 0
    assert sum(len(org.data.tables["Account"].rows) for _ in [0]) <= summary.accounts


def test_true_propensities_at_a_past_cutoff_match_the_purchases_that_followed(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from simulators.salesforce.generator.ground_truth import read_ground_truth, true_propensity

    generate_company_group(GroupSpec(accounts=3000, seed=13), MemorySink(), tmp_path / "truth.jsonl")
    truth = read_ground_truth(tmp_path / "truth.jsonl")
    cutoff = datetime(2026, 1, 1, tzinfo=UTC)
    end = cutoff + timedelta(days=180)
    expected = observed = 0.0
    for company in truth.companies:
        for family in truth.header["families"]:
            p = true_propensity(truth.header, company, family, cutoff, 180)
            if p is None:
                continue
            assert 0.0 <= p < 1.0
            expected += p
            observed += any(
                f == family and cutoff < datetime.fromisoformat(when) <= end
                for f, when, _ in company["purchases"]
            )
    # The probabilities add up to the purchases that happened (within sampling noise; purchases of other
    # families inside the window lift some hazards, which the cutoff's state does not know yet).
    assert observed > 50
    assert 0.85 < observed / expected < 1.2
