"""Rules that suggest which group product family an org's product belongs to."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from domain.crosswalk import MappingSource
from domain.resolution.normalisation import fold

__all__ = ["FamilyEvidence", "FamilySuggestion", "family_slug", "suggest_family"]

# Tier words say how much of a product was bought, not what it is.
_TIER_WORDS = frozenset(
    (
        "essentials",
        "essential",
        "professional",
        "pro",
        "enterprise",
        "unlimited",
        "standard",
        "premium",
        "basic",
        "plus",
        "edition",
        "license",
        "licence",
        "subscription",
        "annual",
        "monthly",
    )
)
_CODE_STEM = re.compile(r"^[A-Za-z]+")


def family_slug(name: str) -> str:
    """A catalog id for a family name: `HR & Payroll` -> `hr-and-payroll` (at most 64 characters)."""
    slug = "-".join(fold(name).split())[:64].strip("-")
    return slug or "family"


def _words(text: str | None) -> frozenset[str]:
    return frozenset(w for w in fold(text).split() if w not in _TIER_WORDS and len(w) > 1)


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


@dataclass(frozen=True, slots=True)
class FamilyEvidence:
    """What is known about one family: its names and the already mapped products that belong to it."""

    family_id: str
    name: str
    description: str
    product_names: Sequence[str] = ()
    product_codes: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class FamilySuggestion:
    family_id: str
    source: MappingSource
    confidence: float


def suggest_family(
    *,
    name: str,
    product_code: str | None,
    org_family: str | None,
    description: str | None,
    families: Mapping[str, FamilyEvidence],
) -> FamilySuggestion | None:
    """The most telling evidence wins, in order: the org's Product2.Family, name, code, description."""
    if org_family and fold(org_family):
        wanted = fold(org_family)
        for evidence in families.values():
            if fold(evidence.name) == wanted or evidence.family_id == family_slug(org_family):
                return FamilySuggestion(evidence.family_id, MappingSource.PRODUCT2_FAMILY, 0.95)
    words = _words(name)
    best: tuple[float, str] = (0.0, "")
    for evidence in families.values():
        score = max(
            [_overlap(words, _words(evidence.name))]
            + [_overlap(words, _words(n)) for n in evidence.product_names]
        )
        best = max(best, (score, evidence.family_id))
    if best[0] >= 0.5:
        return FamilySuggestion(best[1], MappingSource.NAME, round(0.5 + 0.4 * best[0], 3))
    stem = _CODE_STEM.match(product_code or "")
    if stem and len(stem.group()) >= 2:
        prefix = stem.group().upper()
        for evidence in families.values():
            if any((_CODE_STEM.match(c) or [""])[0].upper() == prefix for c in evidence.product_codes if c):
                return FamilySuggestion(evidence.family_id, MappingSource.PRODUCT_CODE, 0.6)
    described = _words(description)
    best = (0.0, "")
    for evidence in families.values():
        score = len(described & _words(f"{evidence.name} {evidence.description}")) / max(
            len(_words(evidence.name)), 1
        )
        best = max(best, (min(score, 1.0), evidence.family_id))
    if best[0] >= 0.5:
        return FamilySuggestion(best[1], MappingSource.DESCRIPTION, round(0.3 + 0.3 * best[0], 3))
    return None
