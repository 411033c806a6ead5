"""The baselines every model is compared with: family popularity, popularity per segment, co-purchase."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import ClassVar, Protocol, Self, TypeVar

import numpy as np
import numpy.typing as npt
from scipy import sparse

from application.errors import InvalidRequestError
from application.models.dataset import CandidateSet

__all__ = [
    "BASELINES",
    "Baseline",
    "CoPurchaseBaseline",
    "PopularityBaseline",
    "SegmentPopularityBaseline",
    "fit_baselines",
]

Floats = npt.NDArray[np.float64]

T = TypeVar("T")

# The categories that make a segment, as named in the feature set.
SEGMENT_LABELS = ("industry", "size_band")
# Joins a segment's category values into one key; cannot occur in a category value read from a CRM.
_SEPARATOR = "\x1f"


class Baseline(Protocol):
    """A simple scorer fitted on candidates with outcomes; gives any candidates a probability per row."""

    @property
    def name(self) -> str: ...

    def fit(self, train: CandidateSet) -> Self:
        """A fitted copy. Raises InvalidRequestError when `train` has no outcomes or no rows."""
        ...

    def score(self, candidates: CandidateSet) -> Floats:
        """A probability in [0, 1] per row. Raises InvalidRequestError when not fitted."""
        ...


@dataclass(frozen=True)
class _FamilyRates:
    """Outcome rates per training family, Laplace-smoothed: (buyers + 1) / (candidates + 2).

    `overall` (the training outcome rate) stands in for a family without training candidates (one that
    every training customer owned, or one the training never saw): Laplace alone would give it 1/2.
    """

    families: tuple[str, ...]
    rates: Floats
    overall: float

    @classmethod
    def fit(cls, train: CandidateSet) -> _FamilyRates:
        y = _outcome(train)
        width = len(train.families)
        rows = np.bincount(train.family, minlength=width)
        buyers = np.bincount(train.family, weights=y, minlength=width)
        overall = float(y.mean())
        rates = np.where(rows > 0, (buyers + 1) / (rows + 2), overall)
        return cls(families=train.families, rates=rates, overall=overall)

    def index(self, families: Sequence[str]) -> npt.NDArray[np.intp]:
        """Position of each of `families` among the training families, -1 where the training never saw it."""
        position = {family: i for i, family in enumerate(self.families)}
        return np.array([position.get(f, -1) for f in families], dtype=np.intp)

    def of(self, families: Sequence[str]) -> Floats:
        """The rate of each of `families`."""
        index = self.index(families)
        return np.where(index >= 0, self.rates[index], self.overall)


@dataclass(frozen=True, eq=False)
class PopularityBaseline:
    """The family's outcome rate in training, Laplace-smoothed; the same for every customer."""

    name: ClassVar[str] = "popularity"
    fitted: _FamilyRates | None = None

    def fit(self, train: CandidateSet) -> Self:
        """A fitted copy. Raises InvalidRequestError when `train` has no outcomes or no rows."""
        return replace(self, fitted=_FamilyRates.fit(train))

    def score(self, candidates: CandidateSet) -> Floats:
        """The rate of each row's family. Raises InvalidRequestError when not fitted."""
        rates = _require(self.fitted, self.name)
        return rates.of(candidates.families)[candidates.family]


@dataclass(frozen=True)
class _Groups:
    """The rows of `candidates` gathered by ranking group (a customer at a cutoff).

    Customer-level values (ownership, categories) are the same on every row of a group, so they are read
    once per group. first: one row of each group; of_row: each row's group.
    """

    candidates: CandidateSet
    first: npt.NDArray[np.intp]
    of_row: npt.NDArray[np.intp]

    @classmethod
    def of(cls, candidates: CandidateSet) -> _Groups:
        _, first, of_row = np.unique(candidates.groups(), return_index=True, return_inverse=True)
        return cls(candidates=candidates, first=first, of_row=of_row.reshape(-1))

    def __len__(self) -> int:
        return len(self.first)

    def owned(self) -> npt.NDArray[np.bool_]:
        """(groups, families): which families each group's customer owned."""
        return self.candidates.owned_matrix()[self.first]

    def segments(self) -> npt.NDArray[np.str_]:
        """Each group's segment key: its industry and size band joined; missing is a category of its own.

        Raises InvariantViolationError when the feature set lacks industry or size_band.
        """
        labels = (self.candidates.label(name)[self.first] for name in SEGMENT_LABELS)
        industry, size_band = (_category_text(values) for values in labels)
        return np.char.add(np.char.add(industry, _SEPARATOR), size_band)

    def per_family(self, weights: Floats | None = None) -> Floats:
        """(groups, families): the number of rows, or the sum of `weights`, of each group and family."""
        width = len(self.candidates.families)
        cell = self.of_row * width + self.candidates.family
        counts = np.bincount(cell, weights=weights, minlength=len(self) * width)
        return counts.astype(np.float64, copy=False).reshape(len(self), width)


@dataclass(frozen=True)
class _SegmentRates:
    """Outcome rates per (segment, training family), shrunk towards the family rate.

    segments: sorted segment keys seen in training; rates: (segments, families).
    """

    segments: npt.NDArray[np.str_]
    rates: Floats


@dataclass(frozen=True, eq=False)
class SegmentPopularityBaseline:
    """The family's outcome rate within the customer's industry and size band.

    Shrunk towards the family rate with `pseudo_rows` pseudo-candidates:
    (buyers + m * family rate) / (candidates + m). A missing category is a category of its own; a segment
    the training never saw scores the family rate.
    """

    name: ClassVar[str] = "segment_popularity"
    pseudo_rows: float = 20.0
    fitted: tuple[_FamilyRates, _SegmentRates] | None = None

    def fit(self, train: CandidateSet) -> Self:
        """A fitted copy.

        Raises InvalidRequestError when `train` has no outcomes or no rows, and InvariantViolationError when
        its feature set lacks industry or size_band.
        """
        family = _FamilyRates.fit(train)
        groups = _Groups.of(train)
        segments, segment_of_group = np.unique(groups.segments(), return_inverse=True)
        # Sum the (group, family) tables over the groups of each segment: (segments, families).
        membership = sparse.csr_matrix(
            (np.ones(len(groups)), (segment_of_group.reshape(-1), np.arange(len(groups)))),
            shape=(len(segments), len(groups)),
        )
        rows = membership @ groups.per_family()
        buyers = membership @ groups.per_family(_outcome(train))
        rates = (buyers + self.pseudo_rows * family.rates) / (rows + self.pseudo_rows)
        return replace(self, fitted=(family, _SegmentRates(segments=segments, rates=rates)))

    def score(self, candidates: CandidateSet) -> Floats:
        """The segment rate of each row's family.

        Raises InvalidRequestError when not fitted, and InvariantViolationError when the feature set lacks
        industry or size_band.
        """
        family, known = _require(self.fitted, self.name)
        groups = _Groups.of(candidates)
        keys = groups.segments()
        found = np.minimum(np.searchsorted(known.segments, keys), len(known.segments) - 1)
        row_segment = np.where(known.segments[found] == keys, found, -1)[groups.of_row]
        row_family = family.index(candidates.families)[candidates.family]
        scores = family.of(candidates.families)[candidates.family]
        seen = (row_segment >= 0) & (row_family >= 0)
        scores[seen] = known.rates[row_segment[seen], row_family[seen]]
        return scores


@dataclass(frozen=True, eq=False)
class CoPurchaseBaseline:
    """Item to item: how often customers who owned family g bought family f, best over the owned g.

    From training rows, rate[g, f] = (buyers of f among candidates for f owning g + m * rate of f) /
    (candidates for f owning g + m), with m = `pseudo_rows`. A row scores the maximum rate[g, f] over the
    families g its customer owns, or the family rate of f when it owns none (or only unseen families).
    """

    name: ClassVar[str] = "co_purchase"
    pseudo_rows: float = 20.0
    fitted: tuple[_FamilyRates, Floats] | None = None

    def fit(self, train: CandidateSet) -> Self:
        """A fitted copy. Raises InvalidRequestError when `train` has no outcomes or no rows."""
        family = _FamilyRates.fit(train)
        groups = _Groups.of(train)
        owned = groups.owned().astype(np.float64)
        # (owned g, candidate family f): candidates for f whose customer owned g, and those that bought f.
        rows = owned.T @ groups.per_family()
        buyers = owned.T @ groups.per_family(_outcome(train))
        rates = (buyers + self.pseudo_rows * family.rates) / (rows + self.pseudo_rows)
        return replace(self, fitted=(family, rates))

    def score(self, candidates: CandidateSet) -> Floats:
        """The best co-purchase rate of each row's family. Raises InvalidRequestError when not fitted."""
        family, rates = _require(self.fitted, self.name)
        scores = family.of(candidates.families)[candidates.family]
        if not len(candidates):
            return scores
        groups = _Groups.of(candidates)
        owned = groups.owned()
        training_family = family.index(candidates.families)
        # best[group, f]: the highest rate[g, f] over the training families g the group owns, -1 for none.
        best = np.full((len(groups), rates.shape[1]), -1.0)
        for column, g in enumerate(training_family.tolist()):
            if g >= 0:
                best = np.where(owned[:, column, None], np.maximum(best, rates[g]), best)
        row_family = training_family[candidates.family]
        seen = row_family >= 0
        best_of_row = np.full(len(candidates), -1.0)
        best_of_row[seen] = best[groups.of_row[seen], row_family[seen]]
        return np.where(best_of_row >= 0, best_of_row, scores)


def _category_text(values: npt.NDArray[np.object_]) -> npt.NDArray[np.str_]:
    # Missing (None) is its own category, spelled as the separator so it cannot clash with a real value.
    missing = np.equal(values, np.array(None, dtype=object))
    return np.where(missing, _SEPARATOR, values).astype(str)


def _outcome(train: CandidateSet) -> Floats:
    if train.outcome is None:
        raise InvalidRequestError("a baseline is fitted on candidates with outcomes")
    if not len(train):
        raise InvalidRequestError("a baseline needs at least one training candidate")
    return train.outcome.astype(np.float64)


def _require(fitted: T | None, name: str) -> T:
    if fitted is None:
        raise InvalidRequestError(f"baseline {name} must be fitted before it scores")
    return fitted


BASELINES: tuple[Callable[[], Baseline], ...] = (
    PopularityBaseline,
    SegmentPopularityBaseline,
    CoPurchaseBaseline,
)


def fit_baselines(train: CandidateSet) -> list[Baseline]:
    """Every baseline in BASELINES with its default settings, fitted on `train`.

    Raises InvalidRequestError when `train` has no outcomes or no rows, or InvariantViolationError when its
    feature set lacks industry or size_band.
    """
    return [make().fit(train) for make in BASELINES]
