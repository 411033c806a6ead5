"""Entity resolution: quality on the generator's ground truth, and speed of full vs incremental runs.

Speed uses accounts built with the simulator's own identity and variant functions (the full generator
also writes opportunities and activities, too slow at 10^5-10^6 accounts). Size: XSELL_BENCH_RESOLVE_N.
With XSELL_BENCH_RESOLVE_DB_N set, also `xsell resolve`'s own path on an embedded PostgreSQL at that size.
Also: pairwise precision/recall/F1 on the labelled KVK company-name pairs shipped in the `emm` package,
and Splink side by side on the same generated records. Both packages are installed into this environment
on first use (benchmark only; the report says when it did).
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import importlib
import importlib.metadata
import io
import itertools
import os
import random
import resource
import subprocess
import sys
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from adapters.embedded.services import running_services
from adapters.persistence.engine import create_engine, create_session_factory
from adapters.persistence.migrations import upgrade
from adapters.persistence.resolution_unit_of_work import SqlaResolutionUnitOfWork
from adapters.resolution.rapidfuzz_scorer import RapidfuzzPairScorer
from application.resolution.ports import ResolutionRecord
from application.resolution.resolve import ResolveCustomers
from domain.account import AccountKey
from domain.resolution.clustering import PairLink, cluster_accounts, cluster_and_link
from domain.resolution.decisions import MatchThresholds
from domain.resolution.model import MatchModel
from domain.resolution.normalisation import MatchFeatures
from simulators.salesforce.generator import GroupSpec, MemorySink, generate_company_group, read_ground_truth
from simulators.salesforce.generator.names import new_identity, variant_of

THRESHOLDS = MatchThresholds()
MODEL = MatchModel.default()


def _pairs(groups: dict[str, list[str]]) -> set[tuple[str, str]]:
    return {tuple(sorted(p)) for ids in groups.values() for p in itertools.combinations(ids, 2)}  # type: ignore[misc]


def _resolve(records: list[ResolutionRecord], focus: set[AccountKey] | None = None) -> tuple[list, int]:  # type: ignore[type-arg]
    scorer = RapidfuzzPairScorer()
    stats = scorer.statistics(records)
    scored = scorer.score(records, stats, MODEL, THRESHOLDS, focus)
    clusters = cluster_accounts(
        [r.key for r in records],
        scored,
        auto_merge=THRESHOLDS.auto_merge,
        cannot_link=THRESHOLDS.cannot_link,
    )
    return clusters, scorer.last_comparisons


def generated(n: int = 3000, seed: int = 1) -> tuple[list[ResolutionRecord], set[tuple[str, str]]]:
    """The generator's accounts in 3 orgs and its true same-company pairs (by account id)."""
    sink = MemorySink()
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "truth.jsonl"
        generate_company_group(GroupSpec(orgs=3, accounts=n, seed=seed), sink, path)
        truth = read_ground_truth(path)
    records = []
    for index, data in sink.data.items():
        table = data.tables["Account"]
        c = table.columns
        for r in table.rows:
            records.append(
                ResolutionRecord(
                    AccountKey(f"bu{index}", r[c["Id"]]),
                    r[c["Name"]],
                    r[c["Website"]],
                    r[c["Phone"]],
                    r[c["BillingStreet"]],
                    r[c["BillingCity"]],
                    r[c["BillingCountry"]],
                )
            )
    actual = _pairs({c["company_id"]: [a["account_id"] for a in c["accounts"]] for c in truth.companies})
    return records, actual


def _precision_recall_f1(predicted: set[Any], actual: set[Any]) -> tuple[float, ...]:
    hits = len(predicted & actual)
    precision = hits / len(predicted) if predicted else 0.0
    recall = hits / len(actual) if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def quality(n: int = 3000, seed: int = 1) -> tuple[float, float]:
    records, actual = generated(n, seed)
    clusters, _ = _resolve(records)
    predicted = _pairs({str(i): [k.external_id for k in cl.members] for i, cl in enumerate(clusters)})
    precision, recall, _ = _precision_recall_f1(predicted, actual)
    return precision, recall


_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]


def _brand(number: int) -> str:
    """A made-up brand word, different for every number ("Kelosa"): see `synthetic`."""
    word = ""
    while True:
        number, digit = divmod(number, len(_SYLLABLES))
        word += _SYLLABLES[digit]
        if not number:
            return word.capitalize()
        number -= 1


def synthetic(n: int, seed: int = 5, *, distinct: bool = True) -> list[ResolutionRecord]:
    """n accounts of companies present in 1-3 orgs, each a noisy variant of its company's identity.

    The generator draws names from a few thousand word pairs, so at 10^5-10^6 companies hundreds of
    different companies share one name and one web domain, which no real customer base does. With
    `distinct` (the default) each company's name and domain start with its own brand word, so blocks
    stay as small as real ones; `distinct=False` keeps the collisions, a worst case.
    """
    rng = random.Random(seed)
    records: list[ResolutionRecord] = []
    company = 0
    while len(records) < n:
        identity = new_identity(rng)
        if distinct:
            brand = _brand(company)
            identity = dataclasses.replace(
                identity, name=f"{brand} {identity.name}", domain=f"{brand.lower()}-{identity.domain}"
            )
        present = [org for org in range(3) if rng.random() < 0.6] or [rng.randrange(3)]
        for position, org in enumerate(present):
            v = variant_of(identity, rng, faithful=position == 0)
            key = AccountKey(f"bu{org}", f"{company:09d}{org:09d}")
            records.append(
                ResolutionRecord(
                    key,
                    v["Name"] or "",
                    v["Website"],
                    v["Phone"],
                    v["BillingStreet"],
                    v["BillingCity"],
                    v["BillingCountry"],
                )
            )
        company += 1
    return records[:n]


def _changed(records: list[ResolutionRecord], share: float, seed: int = 9) -> list[ResolutionRecord]:
    """A copy where `share` of the accounts changed a compared field, as a sync would bring in."""
    rng = random.Random(seed)
    result = list(records)
    for index in rng.sample(range(len(records)), int(len(records) * share)):
        r = result[index]
        result[index] = dataclasses.replace(
            r, phone=f"+1 555 {rng.randrange(10**7):07d}", name=r.name + " Intl"
        )
    return result


def speed(n: int, *, distinct: bool = True) -> dict[str, float]:
    """Full run, then an incremental run after 1% changed, with the scorer's cache warm as in a worker."""
    records = synthetic(n, distinct=distinct)
    scorer = RapidfuzzPairScorer()
    started = time.perf_counter()
    statistics = scorer.statistics(records)
    scored = scorer.score(records, statistics, MODEL, THRESHOLDS)
    scored_s = time.perf_counter() - started
    # The records and pairs live until the run ends; freezing them spares the garbage collector from
    # rescanning millions of objects while clustering allocates.
    gc.freeze()
    # A resolver keeps the auto-merge graph's components and their pairs for its next run, so that an
    # incremental run reads only what touches a change.
    clusters, components = cluster_and_link(
        [r.key for r in records], scored, auto_merge=THRESHOLDS.auto_merge, cannot_link=THRESHOLDS.cannot_link
    )
    full_s = time.perf_counter() - started
    comparisons = scorer.last_comparisons
    # A resolver that stays up keeps the last run's records, pairs and clusters as long-lived state.
    gc.freeze()
    updated = _changed(records, 0.01)
    changed = {new.key for old, new in zip(records, updated, strict=True) if old != new}
    started = time.perf_counter()
    rescored = scorer.score(updated, statistics, MODEL, THRESHOLDS, changed)
    incremental_scored_s = time.perf_counter() - started
    # Pairs touching a changed account are replaced by the new ones; only the clusters linked to a changed
    # account are redone (equal to a full clustering, tested) and every other cluster is kept.
    affected = components.affected(changed, rescored, auto_merge=THRESHOLDS.auto_merge)
    inside = [
        p
        for p in components.pairs_touching(affected)
        if p.pair.left not in changed and p.pair.right not in changed
    ]
    redone = cluster_accounts(
        affected, inside + rescored, auto_merge=THRESHOLDS.auto_merge, cannot_link=THRESHOLDS.cannot_link
    )
    kept = [c for c in clusters if next(iter(c.members)) not in affected]
    incremental_s = time.perf_counter() - started
    gc.unfreeze()
    return {
        "full_s": full_s,
        "scored_s": scored_s,
        "comparisons": comparisons,
        "incremental_s": incremental_s,
        "incremental_scored_s": incremental_scored_s,
        "incremental_comparisons": scorer.last_comparisons,
        "customers": len(kept) + len(redone),
        "rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "cluster_s": full_s - scored_s,
    }


def _account_row(r: ResolutionRecord) -> tuple[str | None, ...]:
    return (r.key.org_id, r.key.external_id, r.name, "USD", r.website, r.phone, r.street, r.city, r.country)


class _WallClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


async def _database_speed(n: int, data_dir: Path) -> dict[str, float]:
    records = synthetic(n)
    with running_services(None, None, data_dir) as urls:
        await asyncio.to_thread(upgrade, urls.database_url)
        url = make_url(urls.database_url)
        connection = await asyncpg.connect(
            user=url.username,
            password=url.password,
            host=url.host or url.query.get("host"),
            port=url.port,
            database=url.database,
        )
        engine = create_engine(urls.database_url, 2)
        try:
            now = datetime.now(UTC)
            for org in ("bu0", "bu1", "bu2"):
                await connection.execute(
                    "INSERT INTO orgs (id, name, kind, business_unit, currency, created_at) "
                    "VALUES ($1, $2, 'memory', $3, 'USD', $4)",
                    org,
                    org,
                    org,
                    now,
                )
            columns = ["org_id", "external_id", "name", "currency", "website", "phone"]
            columns += ["billing_street", "billing_city", "billing_country", "created_at", "modified_at"]
            await connection.copy_records_to_table(
                "accounts",
                records=[(*_account_row(r), now, now) for r in records],
                columns=columns,
            )
            factory = create_session_factory(engine)

            async def run(full: bool) -> float:
                # A new scorer per run: each `xsell resolve` is a new process with a cold cache.
                started = time.perf_counter()
                async with factory() as session:
                    uow = SqlaResolutionUnitOfWork(session)
                    resolver = ResolveCustomers(uow, RapidfuzzPairScorer(), _WallClock(), THRESHOLDS)
                    await resolver.execute(full=full)
                return time.perf_counter() - started

            full_s = await run(True)
            updated = _changed(records, 0.01)
            await connection.executemany(
                "UPDATE accounts SET name = $3, phone = $4 WHERE org_id = $1 AND external_id = $2",
                [
                    (new.key.org_id, new.key.external_id, new.name, new.phone)
                    for old, new in zip(records, updated, strict=True)
                    if old != new
                ],
            )
            incremental_s = await run(False)
        finally:
            await connection.close()
            await engine.dispose()
    return {"full_s": full_s, "incremental_s": incremental_s}


def database_speed(n: int) -> dict[str, float]:
    """`xsell resolve`'s own path on an embedded PostgreSQL: n accounts loaded by COPY, a full run, then an
    incremental run after 1% changed, each through the real unit of work with a cold scorer."""
    with TemporaryDirectory(prefix="xsell-bench-resolve-") as data_dir:
        return asyncio.run(_database_speed(n, Path(data_dir)))


def _installed(package: str) -> bool:
    """Make a benchmark-only package importable, installing it into this environment when missing.

    Returns True when it had to be installed (the report says so).
    """
    try:
        importlib.metadata.distribution(package)
        return False
    except importlib.metadata.PackageNotFoundError:
        pass
    print(f"bench resolve: installing {package} (benchmark only) ...", file=sys.stderr, flush=True)
    command = [sys.executable, "-m", "pip", "install", "--quiet", package]
    subprocess.run(command, check=True)
    importlib.invalidate_caches()
    return True


def _emm_wheel() -> tuple[Path, bool]:
    """The `emm` wheel, downloaded once without installing it: only its data file is read, and
    installing it would pin old rapidfuzz and scikit-learn and break `pip check` of this environment.

    Returns the wheel's path and whether it had to be downloaded (the report says so).
    """
    cache = Path(".xsell") / "bench-cache"
    wheels = sorted(cache.glob("emm-*.whl"))
    if wheels:
        return wheels[-1], False
    print("bench resolve: downloading the emm wheel for its labelled data ...", file=sys.stderr, flush=True)
    cache.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
    subprocess.run([*command, "-d", str(cache), "emm"], check=True)
    return sorted(cache.glob("emm-*.whl"))[-1], True


def _cleaned(records: list[ResolutionRecord]) -> list[dict[str, str | None]]:
    """Our normalisation as plain columns, so that Splink compares the same cleaned values we do."""
    rows = []
    for r in records:
        f = MatchFeatures.of(
            name=r.name, website=r.website, phone=r.phone, street=r.street, city=r.city, country=r.country
        )
        rows.append(
            {
                "unique_id": f"{r.key.org_id}/{r.key.external_id}",
                "name": f.name.key or None,
                "domain": f.domain,
                "phone": f.phone,
                "street": f.street,
                "city": f.city,
                "country": f.country,
            }
        )
    return rows


def splink_side_by_side(n: int = 3000, seed: int = 1) -> dict[str, float]:
    """xsell and Splink on the same generated accounts in the same run: pairwise F1 and seconds each.

    Splink gets our cleaned columns, the same blocking ideas (domain, phone, name, street+city), its
    default u-estimation by random sampling and m by expectation maximisation, and clusters at 0.9.
    """
    installed = _installed("splink")
    import pandas as pd
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    records, actual = generated(n, seed)
    started = time.perf_counter()
    clusters, _ = _resolve(records)
    ours_s = time.perf_counter() - started
    ours = _pairs({str(i): [k.external_id for k in c.members] for i, c in enumerate(clusters)})

    started = time.perf_counter()
    frame = pd.DataFrame(_cleaned(records))
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("name", [0.95, 0.88, 0.7]).configure(term_frequency_adjustments=True),
            cl.ExactMatch("domain").configure(term_frequency_adjustments=True),
            cl.ExactMatch("phone"),
            cl.LevenshteinAtThresholds("street", [2]),
            cl.ExactMatch("city"),
            cl.ExactMatch("country"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("domain"),
            block_on("phone"),
            block_on("name"),
            block_on("street", "city"),
            block_on("substr(name, 1, 4)", "city"),
        ],
    )
    linker = Linker(DuckDBAPI().register(frame), settings, log_level="WARNING")
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("phone"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name"))
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    splink_clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=0.9
    ).as_pandas_dataframe()  # type: ignore[no-untyped-call]
    splink_s = time.perf_counter() - started
    groups: dict[str, list[str]] = {}
    for unique_id, cluster_id in zip(
        splink_clusters["unique_id"], splink_clusters["cluster_id"], strict=True
    ):
        groups.setdefault(str(cluster_id), []).append(str(unique_id).split("/", 1)[1])
    theirs = _pairs(groups)
    return {
        "ours_f1": _precision_recall_f1(ours, actual)[2],
        "ours_s": ours_s,
        "splink_f1": _precision_recall_f1(theirs, actual)[2],
        "splink_precision": _precision_recall_f1(theirs, actual)[0],
        "splink_recall": _precision_recall_f1(theirs, actual)[1],
        "splink_s": splink_s,
        "installed": float(installed),
    }


def public_kvk() -> dict[str, float]:
    """Pairwise precision/recall/F1 on the labelled Dutch Chamber of Commerce (KVK) company-name pairs
    shipped in ING's `emm` package (PyPI): real registered names, hard candidate pairs, names only.

    Two readings: the production model and thresholds over blocked pairs (it wants a second field to
    agree, so names alone rarely merge), and the name comparison alone on every labelled pair
    (a match when it reaches "close" or "exact").
    """
    wheel, installed = _emm_wheel()
    import pandas as pd

    with zipfile.ZipFile(wheel) as archive:
        data = archive.read("emm/data/unittest_sample_namepairs.csv.gz")
    labelled = pd.read_csv(io.BytesIO(data), compression="gzip")
    records: dict[AccountKey, ResolutionRecord] = {}
    pairs: list[tuple[AccountKey, AccountKey]] = []
    truth: list[bool] = []
    for row in labelled.itertuples():
        left, right = AccountKey("registry", str(row.gt_uid)), AccountKey("candidate", str(row.uid))
        records[left] = ResolutionRecord(left, str(row.gt_name), country="NL")
        records[right] = ResolutionRecord(right, str(row.name), country="NL")
        pairs.append((left, right))
        truth.append(bool(row.correct))
    everyone = list(records.values())
    clusters, _ = _resolve(everyone)
    customer_of = {k: index for index, c in enumerate(clusters) for k in c.members}
    model_says = [customer_of[a] == customer_of[b] for a, b in pairs]
    scorer = RapidfuzzPairScorer()
    scored = scorer.score_pairs(everyone, pairs, scorer.statistics(everyone), MODEL)
    name_level = {(m.pair.left, m.pair.right): m.name_level for m in scored}
    names_say = [name_level[PairLink.of(a, b).left, PairLink.of(a, b).right] >= 4 for a, b in pairs]
    actual = {index for index, same in enumerate(truth) if same}
    model = _precision_recall_f1(
        {str(i) for i, same in enumerate(model_says) if same}, {str(i) for i in actual}
    )
    names = _precision_recall_f1(
        {str(i) for i, same in enumerate(names_say) if same}, {str(i) for i in actual}
    )
    return {
        "pairs": len(pairs),
        "matches": len(actual),
        "model_precision": model[0],
        "model_recall": model[1],
        "model_f1": model[2],
        "name_precision": names[0],
        "name_recall": names[1],
        "name_f1": names[2],
        "installed": float(installed),
    }


def run() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    precision, recall = quality()
    rows.append(
        {
            "stage": "resolve quality: pairwise precision (generator, 3k)",
            "figure": f"{precision:.3f}",
            "baseline": "target 0.98",
            "ratio": precision / 0.98,
        }
    )
    rows.append(
        {
            "stage": "resolve quality: pairwise recall (generator, 3k)",
            "figure": f"{recall:.3f}",
            "baseline": "target 0.95",
            "ratio": recall / 0.95,
        }
    )
    n = int(os.environ.get("XSELL_BENCH_RESOLVE_N", "200000"))
    figures = speed(n)
    full_s = figures["full_s"]
    target_s = 120 * n / 1_000_000
    rows.append(
        {
            "stage": f"resolve full, {n:,} accounts ({figures['comparisons']:,.0f} comparisons)",
            "figure": f"{full_s:.1f} s (scoring {figures['scored_s']:.1f} s)",
            "baseline": f"target {target_s:.0f} s (120 s per 1M)",
            "ratio": full_s / target_s,
        }
    )
    rows.append(
        {
            "stage": "resolve incremental after 1% changed "
            f"({figures['incremental_comparisons']:,.0f} comparisons)",
            "figure": f"{figures['incremental_s']:.1f} s (scoring {figures['incremental_scored_s']:.2f} s)",
            "baseline": f"full run {full_s:.1f} s (target <= 10%)",
            "ratio": figures["incremental_s"] / full_s,
        }
    )
    rows.append(
        {
            "stage": "resolve peak RSS",
            "figure": f"{figures['rss_gib']:.2f} GiB",
            "baseline": "target 8 GiB",
            "ratio": figures["rss_gib"] / 8,
        }
    )
    database_n = int(os.environ.get("XSELL_BENCH_RESOLVE_DB_N", "0"))
    if database_n:
        db = database_speed(database_n)
        rows.append(
            {
                "stage": f"resolve on PostgreSQL (xsell resolve's path, cold process), {database_n:,} "
                "accounts: incremental after 1% changed",
                "figure": f"{db['incremental_s']:.1f} s",
                "baseline": f"full run {db['full_s']:.1f} s (target <= 10%)",
                "ratio": db["incremental_s"] / db["full_s"],
            }
        )
    kvk = public_kvk()
    installed = " (emm wheel downloaded for its data)" if kvk["installed"] else ""
    rows.append(
        {
            "stage": f"resolve public KVK company-name pairs ({kvk['pairs']:.0f} labelled, "
            f"{kvk['matches']:.0f} matches), name comparison alone{installed}",
            "figure": f"P {kvk['name_precision']:.2f} R {kvk['name_recall']:.2f} F1 {kvk['name_f1']:.2f}",
            "baseline": f"full model, names only: P {kvk['model_precision']:.2f} R {kvk['model_recall']:.2f} "
            f"F1 {kvk['model_f1']:.2f}",
            "ratio": kvk["name_f1"],
        }
    )
    side = splink_side_by_side()
    installed = " (splink installed for the benchmark)" if side["installed"] else ""
    rows.append(
        {
            "stage": f"resolve vs Splink, generator 3k, same records and run{installed}",
            "figure": f"xsell F1 {side['ours_f1']:.3f} in {side['ours_s']:.2f} s",
            "baseline": f"Splink F1 {side['splink_f1']:.3f} (P {side['splink_precision']:.2f} "
            f"R {side['splink_recall']:.2f}) in {side['splink_s']:.2f} s",
            "ratio": side["ours_f1"] / max(side["splink_f1"], 1e-9),
        }
    )
    return rows
