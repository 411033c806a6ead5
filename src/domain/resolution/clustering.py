"""Clustering scored pairs into companies, with guards against chaining, and keeping customer ids stable."""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from domain.account import AccountKey
from domain.customer import MatchMethod

__all__ = [
    "Cluster",
    "LinkComponents",
    "PairLink",
    "PairScore",
    "ScoredPair",
    "affected_accounts",
    "assign_customer_ids",
    "cluster_accounts",
    "cluster_and_link",
    "new_customer_id",
]

_ID_NAMESPACE = uuid.UUID("6f1c7e4e-5a1b-4f43-9a59-0b8f3c2d1e77")


@dataclass(frozen=True, slots=True, order=True)
class PairLink:
    """Two accounts, always held in key order so a pair has one spelling."""

    left: AccountKey
    right: AccountKey

    @classmethod
    def of(cls, a: AccountKey, b: AccountKey) -> PairLink:
        return cls(a, b) if a <= b else cls(b, a)


class PairScore(Protocol):
    """Anything that names a pair and its match probability (a ScoredPair, or a richer scored match)."""

    @property
    def pair(self) -> PairLink: ...

    @property
    def probability(self) -> float: ...


@dataclass(frozen=True, slots=True)
class ScoredPair:
    pair: PairLink
    probability: float


@dataclass(frozen=True, slots=True)
class Cluster:
    """One company as resolved: its accounts and, per account, how sure and how it joined."""

    members: dict[AccountKey, tuple[float, MatchMethod]]

    @property
    def accounts(self) -> frozenset[AccountKey]:
        return frozenset(self.members)

    @property
    def anchor(self) -> AccountKey:
        return min(self.members)


class _Forest:
    """Union-find over account positions whose roots remember which positions they must never join.

    Positions (ints) rather than account keys: hashing a key costs more than the whole union step.
    """

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))
        self.size = [1] * size
        self.human_forbidden: dict[int, set[int]] = {}
        self.model_forbidden: dict[int, set[int]] = {}

    def root(self, key: int) -> int:
        parent = self.parent
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    def forbids(self, a: int, b: int, tables: tuple[dict[int, set[int]], ...]) -> bool:
        empty: set[int] = set()
        for table in tables:
            left, right = table.get(a, empty), table.get(b, empty)
            small, other_root = (left, b) if len(left) <= len(right) else (right, a)
            if any(self.root(k) == other_root for k in small):
                return True
        return False

    def union(self, a: int, b: int) -> None:
        if self.size[a] < self.size[b]:
            a, b = b, a
        self.parent[b] = a
        self.size[a] += self.size[b]
        for table in (self.human_forbidden, self.model_forbidden):
            moved = table.pop(b, None)
            if moved:
                table.setdefault(a, set()).update(moved)


def cluster_accounts(
    accounts: Collection[AccountKey],
    scored: Iterable[PairScore],
    *,
    auto_merge: float,
    cannot_link: float,
    must_link: Iterable[PairLink] = (),
    never_link: Iterable[PairLink] = (),
) -> list[Cluster]:
    """Group accounts into companies.

    Human `must_link` pairs join first (unless a human `never_link` forbids it); then model pairs at or
    above `auto_merge`, strongest first. Two groups never join when any pair between them is a human
    never-link or scored below `cannot_link`: A~B and B~C do not force A=C against strong evidence.
    Pairs naming unknown accounts are ignored. The result is deterministic and sorted by anchor.
    """
    clusters, _ = _cluster(accounts, scored, auto_merge, cannot_link, must_link, never_link, link=False)
    return clusters


def cluster_and_link(
    accounts: Collection[AccountKey],
    scored: Iterable[PairScore],
    *,
    auto_merge: float,
    cannot_link: float,
    must_link: Iterable[PairLink] = (),
    never_link: Iterable[PairLink] = (),
) -> tuple[list[Cluster], LinkComponents]:
    """`cluster_accounts`, and the components of its auto-merge graph for a resolver to keep until its
    next run (computed on the positions clustering already holds, so they cost little more)."""
    clusters, components = _cluster(
        accounts, scored, auto_merge, cannot_link, must_link, never_link, link=True
    )
    return clusters, components or LinkComponents({}, [], [])


def _cluster(
    accounts: Collection[AccountKey],
    scored: Iterable[PairScore],
    auto_merge: float,
    cannot_link: float,
    must_link: Iterable[PairLink],
    never_link: Iterable[PairLink],
    *,
    link: bool,
) -> tuple[list[Cluster], LinkComponents | None]:
    """The clusters (see `cluster_accounts`) and, with `link`, the auto-merge graph's components."""
    # Positions follow key order, so comparing positions orders pairs exactly as comparing keys would.
    # dict.fromkeys keeps the caller's order, usually nearly sorted already, which sorts several times
    # faster than the scrambled order of a set.
    keys = sorted(dict.fromkeys(accounts), key=_order)
    # Looked up by plain tuples: a tuple hashes in C, an AccountKey through a Python-level __hash__.
    position = {(k.org_id, k.external_id): n for n, k in enumerate(keys)}
    forest = _Forest(len(keys))
    positive: list[tuple[float, int, int]] = []
    linked: list[tuple[int, int, PairScore]] = []
    for item in scored:
        left, right = item.pair.left, item.pair.right
        a = position.get((left.org_id, left.external_id))
        b = position.get((right.org_id, right.external_id))
        if a is None or b is None or a == b:
            continue
        if link:
            linked.append((a, b, item))
        if item.probability < cannot_link:
            forest.model_forbidden.setdefault(a, set()).add(b)
            forest.model_forbidden.setdefault(b, set()).add(a)
        elif item.probability >= auto_merge:
            positive.append((-item.probability, a, b))
    for pair in never_link:
        a, b = position.get(_order(pair.left)), position.get(_order(pair.right))
        if a is not None and b is not None:
            forest.human_forbidden.setdefault(a, set()).add(b)
            forest.human_forbidden.setdefault(b, set()).add(a)

    best: dict[int, tuple[float, MatchMethod]] = {}

    def note(key: int, confidence: float, method: MatchMethod) -> None:
        current = best.get(key)
        if current is None or (method is MatchMethod.HUMAN, confidence) > (
            current[1] is MatchMethod.HUMAN,
            current[0],
        ):
            best[key] = (confidence, method)

    humans = (forest.human_forbidden,)
    both = (forest.human_forbidden, forest.model_forbidden)
    human_links: list[tuple[int, int]] = []
    for pair in sorted(set(must_link)):
        a, b = position.get(_order(pair.left)), position.get(_order(pair.right))
        if a is None or b is None or a == b:
            continue
        human_links.append((a, b))
        ra, rb = forest.root(a), forest.root(b)
        if ra != rb and not forest.forbids(ra, rb, humans):
            forest.union(ra, rb)
        if forest.root(a) == forest.root(b):
            note(a, 1.0, MatchMethod.HUMAN)
            note(b, 1.0, MatchMethod.HUMAN)
    positive.sort()
    for negated, a, b in positive:
        ra, rb = forest.root(a), forest.root(b)
        if ra == rb:
            joined = True
        elif forest.forbids(ra, rb, both):
            joined = False
        else:
            forest.union(ra, rb)
            joined = True
        if joined:
            note(a, -negated, MatchMethod.MODEL)
            note(b, -negated, MatchMethod.MODEL)

    groups: dict[int, list[int]] = {}
    parent = forest.parent
    for n in range(len(keys)):
        # Most positions are their own root (singletons) or one step below it; skip the call then.
        top = parent[n]
        if parent[top] != top:
            top = forest.root(n)
        group = groups.get(top)
        if group is None:
            groups[top] = [n]
        else:
            group.append(n)
    clusters = []
    alone = (1.0, MatchMethod.RULE)
    unnoted = (1.0, MatchMethod.MODEL)
    # Members are ascending positions, hence sorted keys; groups were created in the order of their first
    # (smallest) member, so they are already sorted by anchor.
    for members in groups.values():
        if len(members) == 1:
            clusters.append(Cluster({keys[members[0]]: alone}))
        else:
            clusters.append(Cluster({keys[n]: best.get(n, unnoted) for n in members}))
    if not link:
        return clusters, None
    edges = [(a, b) for _, a, b in positive]
    return clusters, _components(keys, edges + human_links, linked)


def _components(
    keys: list[AccountKey], edges: list[tuple[int, int]], linked: list[tuple[int, int, PairScore]]
) -> LinkComponents:
    """Components of the `edges` graph over every account named by a pair or an edge, with each pair filed
    under the component of either end."""
    parent = list(range(len(keys)))

    def root(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for a, b in edges:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[rb] = ra
    named = sorted({n for a, b, _ in linked for n in (a, b)} | {n for edge in edges for n in edge})
    label_of: dict[int, int] = {}
    by_root: dict[int, int] = {}
    members: list[list[AccountKey]] = []
    component_of: dict[AccountKey, int] = {}
    for n in named:
        top = root(n)
        label = by_root.get(top)
        if label is None:
            label = by_root[top] = len(members)
            members.append([])
        members[label].append(keys[n])
        component_of[keys[n]] = label_of[n] = label
    pairs: list[list[PairScore]] = [[] for _ in members]
    for a, b, item in linked:
        left, right = label_of[a], label_of[b]
        pairs[left].append(item)
        if right != left:
            pairs[right].append(item)
    return LinkComponents(component_of, members, pairs)


def _order(key: AccountKey) -> tuple[str, str]:
    # The same order as AccountKey's own, compared as a plain tuple (much faster than the dataclass).
    return key.org_id, key.external_id


def affected_accounts(
    changed: Collection[AccountKey],
    pairs: Iterable[PairScore],
    *,
    auto_merge: float,
    must_link: Iterable[PairLink] = (),
) -> set[AccountKey]:
    """The accounts whose cluster may change when `changed` accounts changed: all accounts linked to one of
    them through pairs at or above `auto_merge` (or human must-links).

    Clusters never span two such components, and clustering inside a component reads only its own pairs, so
    re-clustering the affected accounts and keeping every other cluster gives exactly the full result. Pass
    the pairs from before and after the change (both), so that a link that just disappeared counts too.
    """
    neighbours: dict[AccountKey, list[AccountKey]] = {}
    strong = (p.pair for p in pairs if p.probability >= auto_merge)
    for link in itertools.chain(strong, must_link):
        neighbours.setdefault(link.left, []).append(link.right)
        neighbours.setdefault(link.right, []).append(link.left)
    seen = set(changed)
    frontier = list(seen)
    while frontier:
        key = frontier.pop()
        for other in neighbours.get(key, ()):
            if other not in seen:
                seen.add(other)
                frontier.append(other)
    return seen


@dataclass(frozen=True)
class LinkComponents:
    """The connected components of the auto-merge graph (pairs at or above `auto_merge`, and must-links)
    over every account a pair names, and the pairs touching each component. Built by `cluster_and_link`.

    Kept by a resolver between runs, it answers `affected_accounts` without going over every pair again:
    when only pairs touching changed accounts are replaced, a component of the new graph is made of old
    components joined by new pairs, all of which touch a changed account.
    """

    component_of: dict[AccountKey, int]
    members: list[list[AccountKey]]
    pairs: list[list[PairScore]]

    def affected(
        self,
        changed: Collection[AccountKey],
        new_pairs: Iterable[PairScore],
        *,
        auto_merge: float,
        must_link: Iterable[PairLink] = (),
    ) -> set[AccountKey]:
        """The accounts whose cluster may change, reading only the new pairs: `changed`, the old
        components holding them, and those of every account a new pair links to. When the new pairs are
        those touching `changed` (as an incremental run scores them), this equals
        `affected_accounts(changed, old and new pairs)`; otherwise it may hold more, never less.
        """
        touched = set(changed)
        strong = (p.pair for p in new_pairs if p.probability >= auto_merge)
        for link in itertools.chain(strong, must_link):
            touched.add(link.left)
            touched.add(link.right)
        components = {self.component_of[k] for k in touched if k in self.component_of}
        touched.update(itertools.chain.from_iterable(self.members[c] for c in components))
        return touched

    def pairs_touching(self, accounts: Collection[AccountKey]) -> list[PairScore]:
        """The kept pairs with an end in `accounts`, each once, when `accounts` is made of whole
        components (as `affected` returns them)."""
        labels = {self.component_of[k] for k in accounts if k in self.component_of}
        unique = {id(p): p for label in sorted(labels) for p in self.pairs[label]}
        return list(unique.values())


def new_customer_id(anchor: AccountKey, taken: Collection[str]) -> str:
    """A deterministic id for a new customer, derived from its smallest account and unused so far.

    Deterministic so that an incremental run and a full run over the same data name new customers alike.
    """
    attempt = 0
    while True:
        candidate = uuid.uuid5(_ID_NAMESPACE, f"{anchor.org_id}/{anchor.external_id}/{attempt}").hex
        if candidate not in taken:
            return candidate
        attempt += 1


def assign_customer_ids(
    clusters: Iterable[Cluster], previous: Mapping[AccountKey, str], taken: Collection[str]
) -> list[tuple[str, Cluster]]:
    """Give each cluster a customer id, keeping old ids where the accounts stayed together.

    Each previous customer's id goes to the cluster holding most of its accounts (so a split keeps the id
    on the larger part, and a merge keeps the id of the customer that brought most accounts); each cluster
    takes at most one old id. Ties go to the cluster with the smaller anchor, then the smaller id.
    Clusters left without an old id get a new deterministic one.
    """
    ordered = sorted(clusters, key=lambda c: c.anchor)
    candidates: list[tuple[int, AccountKey, str, int]] = []
    for index, cluster in enumerate(ordered):
        counts = Counter(previous[k] for k in cluster.members if k in previous)
        candidates.extend(
            (-count, cluster.anchor, customer_id, index) for customer_id, count in counts.items()
        )
    candidates.sort()
    chosen: dict[int, str] = {}
    used: set[str] = set()
    for _, _, customer_id, index in candidates:
        if index not in chosen and customer_id not in used:
            chosen[index] = customer_id
            used.add(customer_id)
    all_taken = set(taken) | set(previous.values())
    result = []
    for index, cluster in enumerate(ordered):
        kept = chosen.get(index)
        if kept is None:
            kept = new_customer_id(cluster.anchor, all_taken)
            all_taken.add(kept)
        result.append((kept, cluster))
    return result
