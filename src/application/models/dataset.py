"""The learning task's rows: one per (customer, product family) the customer does not own at a cutoff."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from application.features.model import FeatureBatch, FeatureLayout
from domain.errors import InvariantViolationError

__all__ = ["OWNED_FEATURE", "CandidateSet"]

# The per-family feature that says the customer owns the family at the cutoff; owned pairs are no candidates.
OWNED_FEATURE = "family_owned"


@dataclass(frozen=True)
class CandidateSet:
    """Candidates of one or more cutoffs with their feature values, and their outcome when known.

    Row i is customer `customer_ids[customer[i]]` and family `families[family[i]]` as of `cutoffs[cutoff[i]]`.
    numbers: customer-level values (layout.numbers); labels: customer categories (layout.labels);
    pair_numbers: the row's family values (layout.pair_numbers); outcome: 1 when the customer bought the
    family within the horizon after the cutoff, 0 when not, None when the future is unknown (scoring).
    """

    layout: FeatureLayout
    cutoffs: tuple[date, ...]
    customer_ids: tuple[str, ...]
    families: tuple[str, ...]
    cutoff: npt.NDArray[np.int32]
    customer: npt.NDArray[np.int32]
    family: npt.NDArray[np.int32]
    numbers: npt.NDArray[np.float64]
    labels: npt.NDArray[np.object_]
    pair_numbers: npt.NDArray[np.float64]
    outcome: npt.NDArray[np.int8] | None = None

    def __len__(self) -> int:
        return len(self.customer)

    @classmethod
    def from_batch(
        cls, batch: FeatureBatch, purchases: Collection[tuple[str, str]] | None = None
    ) -> CandidateSet:
        """Every pair of `batch` whose family the customer does not own at the batch's cutoff.

        `purchases` holds (customer id, family id) bought in the horizon after the cutoff; None leaves the
        outcome unknown. Raises InvariantViolationError when the layout has no ownership feature.
        """
        layout = batch.layout
        if OWNED_FEATURE not in layout.pair_numbers:
            raise InvariantViolationError(f"feature set {layout.feature_set_version} has no {OWNED_FEATURE}")
        owned = batch.pair_numbers[:, :, layout.pair_numbers.index(OWNED_FEATURE)]
        # NaN (unknown) ownership counts as not owned: the pair stays a candidate.
        rows, columns = np.nonzero(~(owned > 0.5))
        customer: npt.NDArray[np.int32] = rows.astype(np.int32)
        family: npt.NDArray[np.int32] = columns.astype(np.int32)
        outcome: npt.NDArray[np.int8] | None = None
        if purchases is not None:
            bought = {(c, f) for c, f in purchases}
            ids, families = batch.customer_ids, batch.families
            outcome = np.fromiter(
                (
                    (ids[c], families[f]) in bought
                    for c, f in zip(customer.tolist(), family.tolist(), strict=True)
                ),
                dtype=np.int8,
                count=len(customer),
            )
        return cls(
            layout=layout,
            cutoffs=(batch.as_of,),
            customer_ids=batch.customer_ids,
            families=batch.families,
            cutoff=np.zeros(len(customer), dtype=np.int32),
            customer=customer,
            family=family,
            numbers=batch.numbers[customer],
            labels=batch.labels[customer],
            pair_numbers=batch.pair_numbers[customer, family],
            outcome=outcome,
        )

    @classmethod
    def concat(cls, parts: Sequence[CandidateSet]) -> CandidateSet:
        """Rows of several sets (usually several cutoffs) as one; ids and families are merged.

        Raises InvariantViolationError for no parts, different feature sets, or mixed known/unknown outcomes.
        """
        if not parts:
            raise InvariantViolationError("nothing to concatenate: no candidate sets")
        layout = parts[0].layout
        if any(p.layout != layout for p in parts):
            raise InvariantViolationError("candidate sets of different feature sets cannot be combined")
        known = {p.outcome is not None for p in parts}
        if len(known) > 1:
            raise InvariantViolationError("candidate sets with and without outcomes cannot be combined")
        cutoffs = tuple(sorted({c for p in parts for c in p.cutoffs}))
        customer_ids = tuple(sorted({c for p in parts for c in p.customer_ids}))
        families = tuple(sorted({f for p in parts for f in p.families}))
        customer_index = {c: i for i, c in enumerate(customer_ids)}
        family_index = {f: i for i, f in enumerate(families)}
        cutoff_index = {c: i for i, c in enumerate(cutoffs)}

        def remap(
            values: npt.NDArray[np.int32], old: Sequence[object], index: dict[object, int]
        ) -> npt.NDArray[np.int32]:
            table = np.array([index[v] for v in old], dtype=np.int32)
            return table[values] if len(values) else values

        return cls(
            layout=layout,
            cutoffs=cutoffs,
            customer_ids=customer_ids,
            families=families,
            cutoff=np.concatenate([remap(p.cutoff, p.cutoffs, cutoff_index) for p in parts]),  # type: ignore[arg-type]
            customer=np.concatenate([remap(p.customer, p.customer_ids, customer_index) for p in parts]),  # type: ignore[arg-type]
            family=np.concatenate([remap(p.family, p.families, family_index) for p in parts]),  # type: ignore[arg-type]
            numbers=np.concatenate([p.numbers for p in parts]),
            labels=np.concatenate([p.labels for p in parts]),
            pair_numbers=np.concatenate([p.pair_numbers for p in parts]),
            outcome=None
            if parts[0].outcome is None
            else np.concatenate([p.outcome for p in parts if p.outcome is not None]),
        )

    def take(self, rows: npt.NDArray[np.intp]) -> CandidateSet:
        """The given rows, in that order."""
        return CandidateSet(
            layout=self.layout,
            cutoffs=self.cutoffs,
            customer_ids=self.customer_ids,
            families=self.families,
            cutoff=self.cutoff[rows],
            customer=self.customer[rows],
            family=self.family[rows],
            numbers=self.numbers[rows],
            labels=self.labels[rows],
            pair_numbers=self.pair_numbers[rows],
            outcome=None if self.outcome is None else self.outcome[rows],
        )

    def number(self, name: str) -> npt.NDArray[np.float64]:
        """One numeric feature per row, customer-level or per-family."""
        if name in self.layout.numbers:
            return self.numbers[:, self.layout.numbers.index(name)]
        if name in self.layout.pair_numbers:
            return self.pair_numbers[:, self.layout.pair_numbers.index(name)]
        raise InvariantViolationError(f"no numeric feature {name!r} in {self.layout.feature_set_version}")

    def label(self, name: str) -> npt.NDArray[np.object_]:
        """One category feature per row."""
        if name not in self.layout.labels:
            raise InvariantViolationError(
                f"no category feature {name!r} in {self.layout.feature_set_version}"
            )
        return self.labels[:, self.layout.labels.index(name)]

    def groups(self) -> npt.NDArray[np.int64]:
        """A ranking group per row: the same customer at the same cutoff (families are ranked within it)."""
        return self.cutoff.astype(np.int64) * len(self.customer_ids) + self.customer

    def owned_matrix(self) -> npt.NDArray[np.bool_]:
        """(rows, families): which families the row's customer owned at the cutoff (non-candidates)."""
        groups = self.groups()
        unique, inverse = np.unique(groups, return_inverse=True)
        candidate = np.zeros((len(unique), len(self.families)), dtype=bool)
        candidate[inverse, self.family] = True
        # A family that is no candidate of the customer at that cutoff is owned.
        return ~candidate[inverse]
