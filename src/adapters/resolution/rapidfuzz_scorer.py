"""RapidfuzzPairScorer: blocking on several keys and vectorised Fellegi-Sunter scoring of candidate pairs."""

from __future__ import annotations

import gc
import itertools
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from hashlib import blake2b
from typing import cast

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process
from scipy import sparse

from application.resolution.ports import ResolutionRecord, ScoredMatch, TermStatistics
from domain.account import AccountKey
from domain.resolution.clustering import PairLink
from domain.resolution.decisions import MatchThresholds
from domain.resolution.model import (
    FIELD_LEVELS,
    Field,
    FieldEvidence,
    MatchExplanation,
    MatchModel,
    term_frequency_adjustment,
)
from domain.resolution.normalisation import MatchFeatures

__all__ = ["RapidfuzzPairScorer"]

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

# Positions of the equality codes in _Prepared.codes.
_NAME, _DOMAIN, _STEM, _PHONE, _EXCHANGE, _STREET, _HOUSE, _CITY, _COUNTRY = range(9)
_MISSING = -1  # str.__hash__ never returns -1, so it cannot collide with a present value
_MAX_BLOCK_KEYS = 7  # the most keys _block_keys gives one record


@dataclass(frozen=True, slots=True)
class _Prepared:
    """One record normalised once: strings for similarity, hashes for equality and blocking.

    Equal strings have equal hashes; a collision between different values has odds of 2^-64 per
    comparison, far below any data error, and saves a dictionary of every value ever seen.
    """

    name: str
    domain: str | None
    street: str
    token_count: int
    tokens: tuple[str, ...]
    codes: tuple[int, ...]
    blocks: tuple[int, ...]  # _block_code of each key, always _MAX_BLOCK_KEYS long, padded with _MISSING


def _code(value: str | None) -> int:
    return _MISSING if value is None else hash(value)


def _block_code(key: str) -> int:
    """A block key as a signed 64-bit integer that every process computes alike (str.__hash__ is salted per
    process), so that keys stored by one run find neighbours in the next."""
    code = int.from_bytes(
        blake2b(key.encode("utf-8", "replace"), digest_size=8).digest(), "little", signed=True
    )
    return code if code != _MISSING else _MISSING - 1


def _block_keys(f: MatchFeatures, stem: str | None, exchange: str | None) -> list[str]:
    """Several cheap keys, each able to find a true pair the others miss (typos, missing fields, branches)."""
    keys = []
    tokens = f.name.tokens
    if f.domain:
        keys.append(f"d:{f.domain}")
    if f.phone:
        keys.append(f"p:{f.phone}")
    if tokens:
        keys.append(f"n:{f.name.key}|{f.country or ''}")
        if exchange:
            keys.append(f"np:{tokens[0]}|{exchange}")
        if f.city:
            keys.append(f"nc:{tokens[0][:4]}{tokens[1][:4] if len(tokens) > 1 else ''}|{f.city}")
    if f.street and f.city:
        keys.append(f"s:{f.street}|{f.city}")
    if stem and exchange:
        keys.append(f"sp:{stem}|{exchange}")
    return keys


# The strings of _Prepared before hashing.
_Normalised = tuple[str, str | None, str, int, tuple[str, ...], tuple[str | None, ...], list[str]]


def _normalise(raw: tuple[str | None, ...]) -> _Normalised:
    name_raw, website, phone, street_raw, city, country = raw
    f = MatchFeatures.of(
        name=name_raw, website=website, phone=phone, street=street_raw, city=city, country=country
    )
    name = f.name.key
    street = f.street
    house = street.split()[0] if street and street[0].isdigit() else None
    stem = f.domain_stem
    exchange = f.phone[:6] if f.phone else None
    values = (name or None, f.domain, stem, f.phone, exchange, street, house, f.city, f.country)
    tokens = f.name.tokens
    return (
        name,
        f.domain,
        street or "",
        len(tokens),
        tuple(dict.fromkeys(tokens)),
        values,
        _block_keys(f, stem, exchange),
    )


def _normalise_many(raws: list[tuple[str | None, ...]]) -> list[_Normalised]:
    return [_normalise(raw) for raw in raws]


def _prepared(normalised: _Normalised) -> _Prepared:
    name, domain, street, token_count, tokens, values, blocks = normalised
    return _Prepared(
        name=name,
        domain=domain,
        street=street,
        token_count=token_count,
        tokens=tokens,
        codes=tuple(_MISSING if v is None else hash(v) for v in values),
        blocks=tuple(_block_code(k) for k in blocks) + (_MISSING,) * (_MAX_BLOCK_KEYS - len(blocks)),
    )


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector while building many acyclic objects; it would only rescan them."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _link(a: AccountKey, b: AccountKey) -> PairLink:
    # PairLink.of compares dataclasses; plain tuples give the same order several times faster.
    return PairLink(a, b) if (a.org_id, a.external_id) <= (b.org_id, b.external_id) else PairLink(b, a)


def _involved(size: int, i: Ints, j: Ints) -> Ints:
    """The sorted distinct rows named by any pair (a mask is far cheaper than np.unique here)."""
    mask = np.zeros(size, dtype=bool)
    mask[i] = True
    mask[j] = True
    return np.flatnonzero(mask)


class RapidfuzzPairScorer:
    """Blocks on domain, phone, name+country, name prefix+city/exchange, street+city and brand+exchange.

    Blocks larger than `max_block` are skipped (a hosting domain or a switchboard number says nothing),
    so the number of comparisons grows with the data, not with its square. Each record is normalised
    once per process and kept by its raw values, so a later run normalises only what changed.
    """

    def __init__(self, max_block: int = 60, workers: int = 1) -> None:
        self._max_block = max_block
        self._workers = workers
        self._prepared: dict[tuple[str | None, ...], _Prepared] = {}
        # The latest rows and their block keys as one matrix, so that a later run over mostly the same
        # rows rewrites only the rows that changed instead of gathering every key again.
        self._block_rows: list[_Prepared] = []
        self._block_matrix: Ints = np.empty((0, _MAX_BLOCK_KEYS), dtype=np.int64)
        self.last_comparisons = 0

    def _prepare_all(self, records: Sequence[ResolutionRecord]) -> list[_Prepared]:
        cache = self._prepared
        with _collector_paused():
            raws: list[tuple[str | None, ...]] = [
                (r.name, r.website, r.phone, r.street, r.city, r.country) for r in records
            ]
            found = [cache.get(raw) for raw in raws]
            unknown = [n for n, row in enumerate(found) if row is None]
            missing = list(dict.fromkeys(raws[n] for n in unknown))
            for raw, normalised in zip(missing, _normalise_many(missing), strict=True):
                cache[raw] = _prepared(normalised)
            for n in unknown:
                found[n] = cache[raws[n]]
            rows = cast("list[_Prepared]", found)
            # Memory follows the data, not its history: stale entries go once they are a quarter of the
            # cache (pruning on every run would rebuild the whole cache for a 1 % change).
            if len(cache) > len(raws) + len(raws) // 4 + 1000:
                self._prepared = dict(zip(raws, rows, strict=True))
        return rows

    def _blocks(self, rows: list[_Prepared]) -> Ints:
        """The block keys of `rows`, one row of _MAX_BLOCK_KEYS codes each (padded with _MISSING)."""
        previous = self._block_rows
        if len(previous) == len(rows):
            moved = [n for n, (old, new) in enumerate(zip(previous, rows, strict=True)) if old is not new]
            if len(moved) * 10 < len(rows):
                matrix = self._block_matrix
                if moved:
                    matrix[moved] = np.array([rows[n].blocks for n in moved], dtype=np.int64)
                self._block_rows, self._block_matrix = rows, matrix
                return matrix
        count = len(rows) * _MAX_BLOCK_KEYS
        flat = np.fromiter(itertools.chain.from_iterable(p.blocks for p in rows), dtype=np.int64, count=count)
        matrix = flat.reshape(len(rows), _MAX_BLOCK_KEYS)
        self._block_rows, self._block_matrix = rows, matrix
        return matrix

    def block_keys(self, records: Sequence[ResolutionRecord]) -> dict[AccountKey, tuple[int, ...]]:
        rows = self._prepare_all(records)
        return {
            r.key: tuple(dict.fromkeys(b for b in row.blocks if b != _MISSING))
            for r, row in zip(records, rows, strict=True)
        }

    def statistics(self, records: Sequence[ResolutionRecord]) -> TermStatistics:
        tokens: Counter[str] = Counter()
        names: Counter[str] = Counter()
        domains: Counter[str] = Counter()
        rows = self._prepare_all(records)
        tokens.update(itertools.chain.from_iterable(p.tokens for p in rows))
        names.update(p.name for p in rows if p.name)
        domains.update(p.domain for p in rows if p.domain)
        return TermStatistics(len(records), dict(tokens), dict(names), dict(domains))

    # -- blocking -------------------------------------------------------------------------------------

    def _candidates(self, rows: list[_Prepared], focus: Bools | None) -> tuple[Ints, Ints]:
        matrix = self._blocks(rows)
        code = matrix.ravel()
        present = code != _MISSING
        owner = np.repeat(np.arange(len(rows), dtype=np.int64), _MAX_BLOCK_KEYS)[present]
        code = code[present]
        if focus is not None:
            # Only blocks holding a changed record can yield a pair touching one; the others are skipped
            # before any pair is formed, which is what makes an incremental run cheap.
            # Membership by binary search in the few focus keys: np.isin would sort all keys first.
            wanted = np.unique(code[focus[owner]])
            if not len(wanted):
                return np.empty(0, np.int64), np.empty(0, np.int64)
            at = np.minimum(np.searchsorted(wanted, code), len(wanted) - 1)
            inside = wanted[at] == code
            owner, code = owner[inside], code[inside]
        if not len(owner):
            return np.empty(0, np.int64), np.empty(0, np.int64)
        order = np.argsort(code, kind="stable")
        owner, code = owner[order], code[order]
        starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
        sizes = np.diff(np.r_[starts, len(code)])
        lefts: list[Ints] = []
        rights: list[Ints] = []
        for size in range(2, self._max_block + 1):
            group_starts = starts[sizes == size]
            if not len(group_starts):
                continue
            members = owner[group_starts[:, None] + np.arange(size)]  # one row per block
            a, b = np.triu_indices(size, k=1)
            lefts.append(members[:, a].ravel())
            rights.append(members[:, b].ravel())
        if not lefts:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        left = np.concatenate(lefts)
        right = np.concatenate(rights)
        low, high = np.minimum(left, right), np.maximum(left, right)
        keep = low != high
        if focus is not None:
            keep &= focus[low] | focus[high]
        n = len(rows)
        pairs = np.sort(low[keep] * n + high[keep])
        unique = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if len(pairs) else pairs
        return unique // n, unique % n

    # -- comparison -----------------------------------------------------------------------------------

    def _cosine(self, rows: list[_Prepared], statistics: TermStatistics, i: Ints, j: Ints) -> Floats:
        """IDF-weighted cosine of name words: a common word ("Bank", "Group") weighs little."""
        needed = _involved(len(rows), i, j)
        position = np.full(len(rows), -1, dtype=np.int64)
        position[needed] = np.arange(len(needed))
        vocabulary: dict[str, int] = {}
        lengths = np.fromiter((len(rows[k].tokens) for k in needed), dtype=np.int64, count=len(needed))
        columns = np.fromiter(
            (
                vocabulary.setdefault(t, len(vocabulary))
                for t in itertools.chain.from_iterable(rows[k].tokens for k in needed)
            ),
            dtype=np.int64,
            count=int(lengths.sum()),
        )
        total = max(statistics.records, 1)
        counts = np.fromiter(
            (statistics.tokens.get(t, 0) for t in vocabulary), dtype=np.float64, count=len(vocabulary)
        )
        idf = np.log((total + 1) / (counts + 1)) + 0.1
        values = idf[columns]
        indptr = np.r_[0, np.cumsum(lengths)]
        row_of = np.repeat(np.arange(len(needed)), lengths)
        norms = np.sqrt(np.bincount(row_of, weights=values * values, minlength=len(needed)))
        norms[norms == 0] = 1.0
        values = values / np.repeat(norms, lengths)
        matrix = sparse.csr_matrix((values, columns, indptr), shape=(len(needed), max(len(vocabulary), 1)))
        return np.asarray(matrix[position[i]].multiply(matrix[position[j]]).sum(axis=1)).ravel()

    def _name_levels(
        self, rows: list[_Prepared], codes: Ints, statistics: TermStatistics, i: Ints, j: Ints
    ) -> Ints:
        present = (codes[i, _NAME] != _MISSING) & (codes[j, _NAME] != _MISSING)
        equal = present & (codes[i, _NAME] == codes[j, _NAME])
        cosine = self._cosine(rows, statistics, i, j)
        ratio = np.asarray(
            process.cpdist(
                [rows[k].name for k in i.tolist()],
                [rows[k].name for k in j.tolist()],
                scorer=fuzz.ratio,
                workers=self._workers,
            ),
            dtype=np.float64,
        )
        same_length = np.array([rows[k].token_count for k in i.tolist()], dtype=np.int64) == np.array(
            [rows[k].token_count for k in j.tolist()], dtype=np.int64
        )
        levels = np.ones(len(i), dtype=np.int64)
        levels[(cosine >= 0.4) | (ratio >= 70)] = 2
        levels[(cosine >= 0.7) | (ratio >= 85)] = 3
        # A typo keeps the word count; an extra word ("Acme Labs" vs "Acme") does not.
        levels[(cosine >= 0.9) | ((ratio >= 90) & same_length)] = 4
        levels[equal] = 5
        levels[~present] = 0
        return levels

    def score(
        self,
        records: Sequence[ResolutionRecord],
        statistics: TermStatistics,
        model: MatchModel,
        thresholds: MatchThresholds,
        focus: Collection[AccountKey] | None = None,
    ) -> list[ScoredMatch]:
        self.last_comparisons = 0
        if len(records) < 2:
            return []
        rows = self._prepare_all(records)
        focus_mask = None
        if focus is not None:
            # Compared as plain tuples: they hash in C, an AccountKey through a Python-level __hash__.
            wanted = {(k.org_id, k.external_id) for k in focus}
            focus_mask = np.fromiter(
                ((r.key.org_id, r.key.external_id) in wanted for r in records), dtype=bool, count=len(records)
            )
        i, j = self._candidates(rows, focus_mask)
        self.last_comparisons = len(i)
        if not len(i):
            return []
        probability, levels, adjust = self._compare(rows, statistics, model, i, j)
        keep = (probability >= thresholds.review) | (
            (probability < thresholds.cannot_link) & (levels[Field.NAME] >= 3)
        )
        with _collector_paused():
            return self._explained(records, model, i[keep], j[keep], probability[keep], levels, adjust, keep)

    def score_pairs(
        self,
        records: Sequence[ResolutionRecord],
        pairs: Sequence[tuple[AccountKey, AccountKey]],
        statistics: TermStatistics,
        model: MatchModel,
    ) -> list[ScoredMatch]:
        """Score exactly these pairs, without blocking (labelled pairs of a benchmark, a reviewer's pick)."""
        position = {r.key: n for n, r in enumerate(records)}
        wanted = [(position[a], position[b]) for a, b in pairs if a in position and b in position and a != b]
        if not wanted:
            return []
        rows = self._prepare_all(records)
        i = np.array([a for a, _ in wanted], dtype=np.int64)
        j = np.array([b for _, b in wanted], dtype=np.int64)
        probability, levels, adjust = self._compare(rows, statistics, model, i, j)
        everything = np.ones(len(i), dtype=bool)
        return self._explained(records, model, i, j, probability, levels, adjust, everything)

    def _compare(
        self, rows: list[_Prepared], statistics: TermStatistics, model: MatchModel, i: Ints, j: Ints
    ) -> tuple[Floats, dict[Field, Ints], dict[Field, Floats]]:
        """Comparison levels, term-frequency adjustments and match probability of pairs (i[k], j[k])."""
        involved = _involved(len(rows), i, j)
        codes = np.full((len(rows), 9), _MISSING, dtype=np.int64)
        codes[involved] = np.array([rows[k].codes for k in involved.tolist()], dtype=np.int64)
        levels: dict[Field, Ints] = {Field.NAME: self._name_levels(rows, codes, statistics, i, j)}

        def equal(column: int) -> tuple[Bools, Bools]:
            left, right = codes[i, column], codes[j, column]
            present = (left != _MISSING) & (right != _MISSING)
            return present, present & (left == right)

        def three_way(column: int, partial: Bools) -> Ints:
            present, same = equal(column)
            result = np.where(present, 1, 0)
            result[present & partial] = 2
            result[same] = 3
            return result

        levels[Field.DOMAIN] = three_way(_DOMAIN, equal(_STEM)[1])
        levels[Field.PHONE] = three_way(_PHONE, equal(_EXCHANGE)[1])
        street_ratio = np.asarray(
            process.cpdist(
                [rows[k].street for k in i.tolist()],
                [rows[k].street for k in j.tolist()],
                scorer=fuzz.ratio,
                workers=self._workers,
            ),
            dtype=np.float64,
        )
        levels[Field.STREET] = three_way(_STREET, equal(_HOUSE)[1] & (street_ratio >= 80))
        for field_, column in ((Field.CITY, _CITY), (Field.COUNTRY, _COUNTRY)):
            present, same = equal(column)
            levels[field_] = np.where(same, 2, np.where(present, 1, 0))

        adjust = {
            Field.NAME: self._tf_adjust(
                statistics.names, codes[:, _NAME], lambda k: rows[k].name, i, levels[Field.NAME] == 5
            ),
            Field.DOMAIN: self._tf_adjust(
                statistics.domains,
                codes[:, _DOMAIN],
                lambda k: rows[k].domain or "",
                i,
                levels[Field.DOMAIN] == 3,
            ),
        }
        total = np.full(len(i), model.prior)
        for field_, level in levels.items():
            total += np.asarray(model.weights[field_], dtype=np.float64)[level]
        total += adjust[Field.NAME] + adjust[Field.DOMAIN]
        probability = 1.0 / (1.0 + np.exp2(-np.clip(total, -60, 60)))
        return probability, levels, adjust

    @staticmethod
    def _explained(
        records: Sequence[ResolutionRecord],
        model: MatchModel,
        i: Ints,
        j: Ints,
        probability: Floats,
        levels: dict[Field, Ints],
        adjust: dict[Field, Floats],
        keep: Bools,
    ) -> list[ScoredMatch]:
        """Explanations only for the kept pairs; a field without term-frequency adjustment shares one
        evidence object per level, so building the list costs little more than the pairs themselves."""
        fields = list(FIELD_LEVELS)
        shared = {
            (f, level): FieldEvidence(f, level, round(model.weights[f][level], 3))
            for f in fields
            for level in range(len(FIELD_LEVELS[f]))
        }
        columns: list[list[FieldEvidence]] = []
        for f in fields:
            kept_levels = levels[f][keep].tolist()
            if f in adjust:
                weights = np.round(
                    np.asarray(model.weights[f])[levels[f][keep]] + adjust[f][keep], 3
                ).tolist()
                extra = adjust[f][keep].tolist()
                columns.append(
                    [
                        FieldEvidence(f, level, weight) if shift else shared[f, level]
                        for level, weight, shift in zip(kept_levels, weights, extra, strict=True)
                    ]
                )
            else:
                columns.append([shared[f, level] for level in kept_levels])
        prior = model.prior
        return [
            ScoredMatch(_link(records[a].key, records[b].key), p, MatchExplanation(prior, evidence))
            for a, b, p, evidence in zip(
                i.tolist(), j.tolist(), probability.tolist(), zip(*columns, strict=True), strict=True
            )
        ]

    @staticmethod
    def _tf_adjust(
        counts: dict[str, int], codes: Ints, value_of: Callable[[int], str], i: Ints, exact: Bools
    ) -> Floats:
        """Splink-style term-frequency adjustment of exact matches: rare values count more."""
        adjust = np.zeros(len(i))
        total = sum(counts.values())
        if not total or not exact.any():
            return adjust
        average = sum(c * c for c in counts.values()) / (total * total)
        exact_rows = i[exact]
        # One adjustment per distinct value, not per pair: a popular name appears in many pairs.
        _, first, inverse = np.unique(codes[exact_rows], return_index=True, return_inverse=True)
        per_value = np.array(
            [
                term_frequency_adjustment(counts.get(value_of(int(k)), 1) / total, average)
                for k in exact_rows[first].tolist()
            ]
        )
        adjust[exact] = per_value[inverse]
        return adjust
