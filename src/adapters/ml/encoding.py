"""Turn candidate rows into a model matrix, with the vocabulary learned from the training rows only."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from application.models.dataset import OWNED_FEATURE, CandidateSet

__all__ = ["Encoder"]

_MAX_CATEGORY_VALUES = 24
_OTHER = "(other)"


@dataclass(frozen=True)
class Encoder:
    """Numbers as they are (NaN kept: the tree models learn what missing means), categories one-hot.

    Column order: customer numbers, family numbers (without the ownership flag, constant for candidates),
    one column per known value of each category, one per family. `sources` names the feature each
    column comes from, so explanations can fold one-hot columns back into one reason.
    """

    numbers: tuple[str, ...]
    pair_numbers: tuple[str, ...]
    categories: tuple[tuple[str, tuple[str, ...]], ...]
    families: tuple[str, ...]

    @classmethod
    def fit(cls, train: CandidateSet) -> Encoder:
        """The most frequent values of each category (the rest share one column) and every family."""
        categories = []
        for name in train.layout.labels:
            counts = Counter(v for v in train.label(name).tolist() if v is not None)
            top = tuple(sorted(v for v, _ in counts.most_common(_MAX_CATEGORY_VALUES)))
            categories.append((name, top))
        return cls(
            numbers=train.layout.numbers,
            pair_numbers=tuple(n for n in train.layout.pair_numbers if n != OWNED_FEATURE),
            categories=tuple(categories),
            families=train.families,
        )

    @property
    def columns(self) -> tuple[str, ...]:
        names = [*self.numbers, *self.pair_numbers]
        for name, values in self.categories:
            names += [f"{name}={v}" for v in (*values, _OTHER)]
        names += [f"family={f}" for f in self.families]
        return tuple(names)

    @property
    def sources(self) -> tuple[str, ...]:
        """The feature behind each column ('family' for the family one-hot)."""
        names = [*self.numbers, *self.pair_numbers]
        for name, values in self.categories:
            names += [name] * (len(values) + 1)
        names += ["family"] * len(self.families)
        return tuple(names)

    def transform(self, candidates: CandidateSet) -> npt.NDArray[np.float32]:
        """The model matrix (rows, columns) as float32; unknown category values go to '(other)'."""
        n = len(candidates)
        blocks: list[npt.NDArray[np.float32]] = [
            np.column_stack([candidates.number(name) for name in self.numbers]).astype(np.float32)
            if self.numbers
            else np.empty((n, 0), np.float32),
            np.column_stack([candidates.number(name) for name in self.pair_numbers]).astype(np.float32)
            if self.pair_numbers
            else np.empty((n, 0), np.float32),
        ]
        for name, values in self.categories:
            index = {v: i for i, v in enumerate(values)}
            other = len(values)
            codes = np.fromiter(
                (index.get(v, other) for v in candidates.label(name).tolist()), dtype=np.int64, count=n
            )
            block = np.zeros((n, len(values) + 1), dtype=np.float32)
            block[np.arange(n), codes] = 1.0
            blocks.append(block)
        family_index = {f: i for i, f in enumerate(self.families)}
        mapped = np.array([family_index.get(f, -1) for f in candidates.families], dtype=np.int64)
        codes = mapped[candidates.family] if n else np.empty(0, np.int64)
        block = np.zeros((n, len(self.families)), dtype=np.float32)
        known = codes >= 0
        block[np.nonzero(known)[0], codes[known]] = 1.0
        blocks.append(block)
        return np.hstack(blocks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "numbers": list(self.numbers),
            "pair_numbers": list(self.pair_numbers),
            "categories": [[name, list(values)] for name, values in self.categories],
            "families": list(self.families),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Encoder:
        """Raises ValueError for a malformed description."""
        try:
            return cls(
                numbers=tuple(str(n) for n in data["numbers"]),
                pair_numbers=tuple(str(n) for n in data["pair_numbers"]),
                categories=tuple((str(n), tuple(str(v) for v in values)) for n, values in data["categories"]),
                families=tuple(str(f) for f in data["families"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"a model's encoder description is malformed: {exc}") from exc
