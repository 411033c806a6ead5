"""The match model: comparison levels per field, their Fellegi-Sunter weights, and a pair's explanation."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import InvariantViolationError

__all__ = [
    "FIELD_LEVELS",
    "Field",
    "FieldEvidence",
    "MatchExplanation",
    "MatchModel",
    "probability_from_weight",
    "term_frequency_adjustment",
]


class Field(StrEnum):
    NAME = "name"
    DOMAIN = "domain"
    PHONE = "phone"
    STREET = "street"
    CITY = "city"
    COUNTRY = "country"


# Level 0 is always "one side has no value": it weighs nothing either way.
FIELD_LEVELS: dict[Field, tuple[str, ...]] = {
    Field.NAME: ("missing", "different", "weak", "similar", "close", "exact"),
    Field.DOMAIN: ("missing", "different", "same brand, other suffix", "exact"),
    Field.PHONE: ("missing", "different", "same exchange", "exact"),
    Field.STREET: ("missing", "different", "similar", "exact"),
    Field.CITY: ("missing", "different", "exact"),
    Field.COUNTRY: ("missing", "different", "same"),
}

# (m, u) per level above "missing": m = P(level | same company), u = P(level | different companies among
# candidate pairs). Weights are log2(m/u). m comes from how CRM records of one company drift apart in
# practice (branch addresses, switchboard vs direct lines, regional websites); u is what random
# companies share. Exact name and domain matches are further adjusted by how common the value is.
_M_U: dict[Field, tuple[tuple[float, float], ...]] = {
    Field.NAME: ((0.03, 0.9), (0.05, 0.08), (0.12, 0.015), (0.25, 0.003), (0.55, 0.002)),
    Field.DOMAIN: ((0.15, 0.95), (0.1, 0.01), (0.75, 0.001)),
    Field.PHONE: ((0.015, 0.99), (0.25, 0.0002), (0.7, 0.0001)),
    Field.STREET: ((0.35, 0.99), (0.1, 0.005), (0.55, 0.0005)),
    Field.CITY: ((0.25, 0.8), (0.75, 0.2)),
    Field.COUNTRY: ((0.02, 0.5), (0.98, 0.5)),
}

# The share of matches among candidate pairs, as log2 odds; blocking keeps it far from all-pairs odds.
_PRIOR_LOG2_ODDS = -12.0

# A value shared by many records (a chain's name, a hosting domain) is weak evidence; a rare one strong.
_TF_FLOOR, _TF_CEILING = -6.0, 3.0


def probability_from_weight(total_log2_odds: float) -> float:
    """Posterior match probability from log2 odds, safe for any finite or huge value."""
    if total_log2_odds >= 60:
        return 1.0
    if total_log2_odds <= -60:
        return 0.0
    return float(1.0 / (1.0 + 2.0 ** (-total_log2_odds)))


def term_frequency_adjustment(value_frequency: float, average_frequency: float) -> float:
    """log2(average / value) frequency, clipped: how much more (or less) telling this exact value is.

    Frequencies are shares of records. Zero or negative frequencies mean "unknown" and adjust nothing.
    """
    if value_frequency <= 0 or average_frequency <= 0:
        return 0.0
    return max(_TF_FLOOR, min(_TF_CEILING, math.log2(average_frequency / value_frequency)))


@dataclass(frozen=True, slots=True)
class FieldEvidence:
    """What one field said about a pair: its comparison level and how much it moved the odds (log2)."""

    field: Field
    level: int
    weight: float

    @property
    def label(self) -> str:
        return FIELD_LEVELS[self.field][self.level]


@dataclass(frozen=True, slots=True)
class MatchExplanation:
    """Why a pair scored what it did: the prior and each field's contribution, summing to the odds."""

    prior: float
    evidence: tuple[FieldEvidence, ...]

    @property
    def log2_odds(self) -> float:
        return self.prior + sum(e.weight for e in self.evidence)

    @property
    def probability(self) -> float:
        return probability_from_weight(self.log2_odds)

    def describe(self) -> str:
        """One line a reviewer reads: "name exact +8.1, phone different -4.3, ..."."""
        parts = [f"{e.field} {e.label} {e.weight:+.1f}" for e in self.evidence if e.level]
        return ", ".join(parts) or "no comparable fields"


@dataclass(frozen=True)
class MatchModel:
    """Fellegi-Sunter weights per field level and the prior. Raises InvariantViolationError for bad values."""

    weights: dict[Field, tuple[float, ...]]
    prior: float = _PRIOR_LOG2_ODDS

    def __post_init__(self) -> None:
        for field_, levels in FIELD_LEVELS.items():
            row = self.weights.get(field_)
            if row is None or len(row) != len(levels) or row[0] != 0.0:
                raise InvariantViolationError(f"{field_} needs {len(levels)} weights starting with 0.0")
            if not all(math.isfinite(w) for w in row):
                raise InvariantViolationError(f"{field_} weights must be finite")
        if not math.isfinite(self.prior):
            raise InvariantViolationError("the prior must be finite")

    @classmethod
    def default(cls) -> MatchModel:
        weights = {field_: (0.0, *(math.log2(m / u) for m, u in pairs)) for field_, pairs in _M_U.items()}
        return cls(weights)

    def weight(self, field_: Field, level: int) -> float:
        return self.weights[field_][level]

    def explain(
        self, levels: dict[Field, int], adjustments: dict[Field, float] | None = None
    ) -> MatchExplanation:
        """The explanation of one pair from its comparison levels (and term-frequency adjustments)."""
        extra = adjustments or {}
        evidence = tuple(
            FieldEvidence(
                f,
                levels.get(f, 0),
                self.weight(f, levels.get(f, 0)) + (extra.get(f, 0.0) if levels.get(f, 0) else 0.0),
            )
            for f in FIELD_LEVELS
        )
        return MatchExplanation(self.prior, evidence)
