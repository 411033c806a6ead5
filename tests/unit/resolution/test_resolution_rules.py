"""Normalisation, the match model, thresholds and clustering: the pure rules of entity resolution."""

from __future__ import annotations

import random

import pytest

from domain.account import AccountKey
from domain.customer import MatchMethod
from domain.errors import InvariantViolationError
from domain.resolution.clustering import (
    PairLink,
    ScoredPair,
    affected_accounts,
    assign_customer_ids,
    cluster_accounts,
    cluster_and_link,
)
from domain.resolution.decisions import MatchThresholds, Verdict
from domain.resolution.hierarchy import is_subsidiary_name
from domain.resolution.model import Field, MatchModel, term_frequency_adjustment
from domain.resolution.normalisation import (
    MatchFeatures,
    normalise_country,
    normalise_domain,
    normalise_name,
    normalise_phone,
    normalise_street,
)


@pytest.mark.parametrize(
    ("raw", "tokens", "form"),
    [
        ("ACME Corp.", ("acme",), "corp"),
        ("Acme Corporation", ("acme",), "corp"),
        ("ACME GmbH (Berlin)", ("acme",), "gmbh"),
        ("Bright Labs GmbH & Co. KG", ("bright", "labs"), "gmbh co kg"),
        ("Harbor Vanguard Foods B.V.", ("harbor", "vanguard", "foods"), "bv"),
        ("Cedar Systems SARL", ("cedar", "systems"), "sarl"),
        ("Delta S.L.", ("delta",), "sl"),
        ("Pacific Analytics P.L.C.", ("pacific", "analytics"), "plc"),
        ("Northern Intl", ("northern", "international"), None),
        ("Müller Straßenbau AG", ("muller", "strassenbau"), "ag"),
        ("The Bank of Foo", ("bank", "foo"), None),
    ],
)
def test_names_lose_legal_forms_accents_punctuation_and_stop_words(
    raw: str, tokens: tuple[str, ...], form: str | None
) -> None:
    name = normalise_name(raw)
    assert name.tokens == tokens
    assert name.legal_form == form


@pytest.mark.parametrize("raw", ["", "   ", "😀🚀", "x" * 10_000, None, "(((", "GmbH"])
def test_bad_names_never_raise(raw: str | None) -> None:
    name = normalise_name(raw)
    assert len(name.key) <= 200


def test_domains_phones_countries_and_streets_normalise() -> None:
    assert normalise_domain("https://www.Acme.co.uk/about") == "acme.co.uk"
    assert normalise_domain("sales@acme.de") == "acme.de"
    assert normalise_domain("gmail.com") is None
    assert normalise_domain("not a website") is None
    assert normalise_domain("http://[broken") is None
    # Plain addresses take a fast path; these must read exactly as urllib reads them.
    assert normalise_domain("www.com") == "com"
    assert normalise_domain("ftp://Acme.com/x") == "acme.com"
    assert normalise_domain("acme.com:8080/shop") == "acme.com"
    assert normalise_domain("acme.co\nm") == "acme.com"  # urllib drops line breaks anywhere
    assert normalise_domain("HTTPS://WWW.Acme.COM/x?y#z") == "acme.com"
    assert normalise_domain("www.www.acme.com") == "www.acme.com"
    assert normalise_domain("acme..com") is None
    assert normalise_phone("(287) 807-1741") == normalise_phone("+1 287 807 1741") == "2878071741"
    assert normalise_phone("12") is None
    assert normalise_country("The Netherlands") == normalise_country("NL") == "NL"
    assert normalise_country("Deutschland") == "DE"
    assert normalise_country("Atlantis") is None
    assert normalise_street("1240 Park St.") == "1240 park street"
    features = MatchFeatures.of(
        name="Acme", website="acme-global.com", phone=None, street=None, city=None, country=None
    )
    assert features.domain_stem == "acme"


def test_thresholds_order_and_verdicts() -> None:
    thresholds = MatchThresholds(0.9, 0.5, 0.01)
    assert thresholds.verdict(0.95) is Verdict.MATCH
    assert thresholds.verdict(0.6) is Verdict.REVIEW
    assert thresholds.verdict(0.2) is Verdict.NON_MATCH
    with pytest.raises(InvariantViolationError):
        MatchThresholds(0.5, 0.9, 0.01)
    with pytest.raises(InvariantViolationError):
        MatchThresholds(1.0, 0.5, 0.01)


def test_explanations_add_up_to_the_probability_and_rare_values_count_more() -> None:
    model = MatchModel.default()
    explanation = model.explain({Field.NAME: 5, Field.PHONE: 1, Field.COUNTRY: 2})
    assert explanation.log2_odds == pytest.approx(
        model.prior
        + model.weight(Field.NAME, 5)
        + model.weight(Field.PHONE, 1)
        + model.weight(Field.COUNTRY, 2)
    )
    assert "phone different" in explanation.describe()
    assert 0.0 < explanation.probability < 1.0
    assert term_frequency_adjustment(0.0001, 0.001) > 0 > term_frequency_adjustment(0.1, 0.001)


def _k(n: int, org: str = "a") -> AccountKey:
    return AccountKey(org, f"{n:018d}")


def test_clustering_resists_chaining_against_strong_evidence() -> None:
    a, b, c = _k(1), _k(2, "b"), _k(3, "c")
    scored = [
        ScoredPair(PairLink.of(a, b), 0.99),
        ScoredPair(PairLink.of(b, c), 0.97),
        ScoredPair(PairLink.of(a, c), 0.00001),  # A and C are provably different companies
    ]
    clusters = cluster_accounts([a, b, c], scored, auto_merge=0.9, cannot_link=0.001)
    assert sorted(len(cl.members) for cl in clusters) == [1, 2]
    assert any(cl.accounts == {a, b} for cl in clusters)  # the stronger link wins
    chained = cluster_accounts([a, b, c], scored[:2], auto_merge=0.9, cannot_link=0.001)
    assert [cl.accounts for cl in chained] == [frozenset({a, b, c})]


def test_human_links_override_the_model() -> None:
    a, b, c = _k(1), _k(2, "b"), _k(3, "c")
    scored = [ScoredPair(PairLink.of(a, b), 0.99), ScoredPair(PairLink.of(b, c), 0.2)]
    clusters = cluster_accounts(
        [a, b, c],
        scored,
        auto_merge=0.9,
        cannot_link=0.001,
        must_link=[PairLink.of(b, c)],
        never_link=[PairLink.of(a, b)],
    )
    assert {cl.accounts for cl in clusters} == {frozenset({a}), frozenset({b, c})}
    joined = next(cl for cl in clusters if len(cl.members) == 2)
    assert joined.members[b] == (1.0, MatchMethod.HUMAN)


def test_customer_ids_survive_and_a_split_keeps_the_id_on_the_larger_part() -> None:
    keys = [_k(i) for i in range(5)]
    previous = dict.fromkeys(keys, "old")
    big = cluster_accounts(keys[:3], [], auto_merge=0.9, cannot_link=0.001)
    # Build clusters by hand: {0,1,2} and {3,4}.
    scored = [ScoredPair(PairLink.of(keys[i], keys[j]), 0.99) for i, j in ((0, 1), (1, 2), (3, 4))]
    clusters = cluster_accounts(keys, scored, auto_merge=0.9, cannot_link=0.001)
    assigned = {cl.accounts: cid for cid, cl in assign_customer_ids(clusters, previous, {"old"})}
    assert assigned[frozenset(keys[:3])] == "old"
    new_id = assigned[frozenset(keys[3:])]
    assert new_id != "old"
    again = {cl.accounts: cid for cid, cl in assign_customer_ids(clusters, previous, {"old"})}
    assert again == assigned  # deterministic
    assert len(big) == 3


def test_reclustering_only_the_accounts_linked_to_a_change_equals_a_full_clustering() -> None:
    rng = random.Random(3)
    keys = [_k(i, "abc"[i % 3]) for i in range(300)]
    probabilities = (0.99, 0.95, 0.6, 0.0001)
    before = {
        PairLink.of(keys[i], keys[j]): rng.choice(probabilities)
        for i, j in (rng.sample(range(300), 2) for _ in range(400))
    }
    changed = set(rng.sample(keys, 6))
    after = {p: v for p, v in before.items() if p.left not in changed and p.right not in changed}
    for key in changed:  # a changed account now links elsewhere (or nowhere)
        for other in rng.sample(keys, 2):
            if other != key:
                after[PairLink.of(key, other)] = rng.choice(probabilities)
    old = cluster_accounts(
        keys, [ScoredPair(p, v) for p, v in before.items()], auto_merge=0.9, cannot_link=0.001
    )
    full = cluster_accounts(
        keys, [ScoredPair(p, v) for p, v in after.items()], auto_merge=0.9, cannot_link=0.001
    )
    scored = [ScoredPair(p, v) for p, v in [*before.items(), *after.items()]]
    affected = affected_accounts(changed, scored, auto_merge=0.9)
    assert changed <= affected < set(keys)
    # A resolver that kept the old components reads only the new pairs (those touching a change) and the
    # old pairs of the affected components.
    linked_old, components = cluster_and_link(
        keys, [ScoredPair(p, v) for p, v in before.items()], auto_merge=0.9, cannot_link=0.001
    )
    assert linked_old == old
    new_pairs = [ScoredPair(p, v) for p, v in after.items() if p.left in changed or p.right in changed]
    assert components.affected(changed, new_pairs, auto_merge=0.9) == affected
    old_pairs = components.pairs_touching(affected)
    assert {p.pair for p in old_pairs} == {p for p in before if p.left in affected or p.right in affected}
    assert len(old_pairs) == len({p.pair for p in old_pairs})
    unchanged = [p for p in old_pairs if p.pair.left not in changed and p.pair.right not in changed]
    redone_from_kept = cluster_accounts(affected, unchanged + new_pairs, auto_merge=0.9, cannot_link=0.001)
    redone = cluster_accounts(
        affected, [ScoredPair(p, v) for p, v in after.items()], auto_merge=0.9, cannot_link=0.001
    )
    kept = [c for c in old if not c.accounts & affected]
    assert sorted(kept + redone, key=lambda c: c.anchor) == full
    assert sorted(kept + redone_from_kept, key=lambda c: c.anchor) == full


def test_regional_names_read_as_subsidiaries_but_other_words_do_not() -> None:
    group = normalise_name("Northwind Group plc")
    assert is_subsidiary_name(group, normalise_name("Northwind Benelux B.V."))
    assert is_subsidiary_name(group, normalise_name("Northwind Deutschland GmbH"))
    assert is_subsidiary_name(normalise_name("Northwind"), normalise_name("Northwind North America Inc"))
    assert not is_subsidiary_name(group, normalise_name("Northwind Labs"))  # may be another company
    assert not is_subsidiary_name(group, normalise_name("Northwind Group"))
    assert not is_subsidiary_name(normalise_name("Group"), normalise_name("Group Europe"))
