"""ResolveCustomers: score, cluster and file accounts under customers, keeping ids and human decisions."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from application.ports.clock import Clock
from application.resolution.ports import (
    DecisionKind,
    PairScorer,
    ResolutionRecord,
    ResolutionUnitOfWork,
)
from domain.account import AccountKey
from domain.customer import Customer, MatchMethod, Membership
from domain.resolution.clustering import Cluster, PairLink, ScoredPair, assign_customer_ids, cluster_accounts
from domain.resolution.decisions import MatchThresholds
from domain.resolution.hierarchy import CustomerRelation, crm_relations, name_relations
from domain.resolution.model import MatchModel
from domain.resolution.normalisation import normalise_name

__all__ = ["RESOLVER", "ResolutionReport", "ResolveCustomers"]

RESOLVER = "xsell-resolver"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ResolutionReport:
    accounts: int
    changed_accounts: int
    comparisons: int
    kept_pairs: int
    customers: int
    multi_org_customers: int
    review_pairs: int
    customers_changed: int
    full: bool
    relations: int = 0


def _display_name(names: Sequence[str]) -> str:
    """The spelling most member accounts use; ties go to the shorter, then the alphabetically first."""
    usable = [n.strip()[:200] for n in names if n and n.strip()]
    if not usable:
        return ""
    counts = Counter(usable)
    return min(counts, key=lambda n: (-counts[n], len(n), n))


class ResolveCustomers:
    """Resolve all accounts into customers. Incremental by default: only accounts whose compared fields
    changed since the last run (and the pairs they form) are re-scored, and only the components of the
    auto-merge graph they touch are clustered again; the result equals a full run."""

    def __init__(
        self,
        uow: ResolutionUnitOfWork,
        scorer: PairScorer,
        clock: Clock,
        thresholds: MatchThresholds,
        model: MatchModel | None = None,
    ) -> None:
        self._uow = uow
        self._scorer = scorer
        self._clock = clock
        self._thresholds = thresholds
        self._model = model or MatchModel.default()

    async def execute(
        self, *, full: bool = False, retrain: bool = False, progress: Progress | None = None
    ) -> ResolutionReport:
        say = progress or (lambda _: None)
        auto_merge = self._thresholds.auto_merge
        async with self._uow as uow:
            state = await uow.matches.state()
            statistics = state.statistics
            since = state.last_run_at
            # None stands for "every account" below: a full run is an incremental one where all changed.
            changed: set[AccountKey] | None = None
            if full or retrain or statistics is None or since is None:
                records = await uow.records()
                if statistics is None or retrain:
                    statistics = self._scorer.statistics(records)
                focus_records = pool = records
                say(f"read {len(records)} accounts")
            else:
                changed = await uow.changed_accounts()
                focus_records = await uow.records(changed)
            blocks = self._scorer.block_keys(focus_records)
            await uow.matches.replace_block_keys(changed, blocks)
            focus = None if changed is None else {r.key for r in focus_records}
            if focus is not None:
                # Only accounts sharing a block with a changed one can pair with it; blocks are whole here,
                # so the scorer sees the same block sizes as over every account.
                keys = set(itertools.chain.from_iterable(blocks.values()))
                neighbours = await uow.matches.in_blocks(keys) - focus
                pool = sorted([*focus_records, *await uow.records(neighbours)], key=lambda r: r.key)
                say(f"{len(changed or ())} accounts changed; {len(neighbours)} share a block with one")
            scored = (
                self._scorer.score(pool, statistics, self._model, self._thresholds, focus)
                if focus is None or focus
                else []
            )
            comparisons = self._scorer.last_comparisons if focus is None or focus else 0
            say(f"scored {comparisons} candidate pairs, kept {len(scored)}")
            decisions = await uow.matches.decisions()
            affected: set[AccountKey] | None = None
            if changed is not None and since is not None:  # since is always set on this path
                seeds = set(changed)
                seeds.update(
                    k for p in scored if p.probability >= auto_merge for k in (p.pair.left, p.pair.right)
                )
                seeds.update(
                    k for d in decisions if d.decided_at >= since for k in (d.pair.left, d.pair.right)
                )
                seeds |= await uow.customers.changed_by_people(since)
                # Over the pairs stored before this run's replace them: every new pair touches a changed
                # account, so the old components of the seeds hold every component of the new graph
                # that a change can reach.
                affected = await uow.matches.linked(seeds, auto_merge) if seeds else set()
            await uow.matches.replace_pairs(changed, scored)
            customers = await uow.customers.holding(affected)
            if affected is not None:
                # A customer lies inside one component unless a person changed it, and those are seeds;
                # this keeps the run right even when that does not hold.
                spread = {k for c in customers for k in c.members} - affected
                while spread:
                    affected |= await uow.matches.linked(spread, auto_merge)
                    customers = await uow.customers.holding(affected)
                    spread = {k for c in customers for k in c.members} - affected
                in_pool = {r.key for r in pool}
                records = [r for r in pool if r.key in affected]
                records = sorted([*records, *await uow.records(affected - in_pool)], key=lambda r: r.key)
            pairs = scored if changed is None else await uow.matches.pairs(affected)
            live = {r.key for r in records}
            parents = {
                r.key: AccountKey(r.key.org_id, r.parent_external_id)
                for r in records
                if r.parent_external_id and AccountKey(r.key.org_id, r.parent_external_id) in live
            }
            # A CRM parent link says the two accounts are two companies: it stops the model from merging
            # a subsidiary into its parent (a person can still merge them).
            apart = [ScoredPair(PairLink.of(child, parent), 0.0) for child, parent in parents.items()]
            clusters = cluster_accounts(
                [r.key for r in records],
                [*pairs, *apart],
                auto_merge=auto_merge,
                cannot_link=self._thresholds.cannot_link,
                must_link=[d.pair for d in decisions if d.kind is DecisionKind.MUST_LINK],
                never_link=[d.pair for d in decisions if d.kind is DecisionKind.NEVER_LINK],
            )
            human_by: dict[AccountKey, str] = {}
            for d in sorted(decisions, key=lambda d: d.decided_at):
                if d.kind is DecisionKind.MUST_LINK:
                    human_by[d.pair.left] = human_by[d.pair.right] = d.decided_by
            # New ids must differ from every id ever given, not only from the customers loaded here.
            taken = {c.id for c in customers} if affected is None else await uow.customers.ids()
            touched = self._apply(customers, clusters, records, human_by, taken)
            await uow.customers.save(touched)
            redone = None if affected is None else {c.id for c in customers} | {c.id for c in touched}
            relations = await self._relations(uow, redone, live)
            await uow.customers.replace_relations(redone, relations)
            say(f"filed {len(records)} accounts under {len(clusters)} customers ({len(touched)} changed)")
            estimated = None if statistics is state.statistics else statistics
            await uow.matches.save_state(self._clock.now(), estimated)
            await uow.remember(changed)
            totals = await uow.totals(self._thresholds)
            await uow.commit()
        return ResolutionReport(
            accounts=totals.accounts,
            changed_accounts=totals.accounts if changed is None else len(changed),
            comparisons=comparisons,
            kept_pairs=totals.kept_pairs,
            customers=totals.customers,
            multi_org_customers=totals.multi_org_customers,
            review_pairs=totals.review_pairs,
            customers_changed=len(touched),
            full=changed is None,
            relations=totals.relations,
        )

    @staticmethod
    async def _relations(
        uow: ResolutionUnitOfWork, redone: set[str] | None, accounts: set[AccountKey]
    ) -> set[CustomerRelation]:
        """Parent/subsidiary links between the customers as filed now (after saving them), those with an
        end in `redone` (all when None): the CRM's ParentId between `accounts` and any, then names."""
        links = await uow.parent_links(None if redone is None else accounts)
        customer_of = await uow.customers.of_accounts({k for link in links.items() for k in link})
        relations = crm_relations(links, customer_of)
        known = {(r.parent_id, r.child_id) for r in relations}
        # One relation per parent and child: the CRM's own word wins over name evidence.
        named = name_relations((i, normalise_name(name)) for i, name in (await uow.customers.named()).items())
        relations |= {r for r in named if (r.parent_id, r.child_id) not in known}
        if redone is None:
            return relations
        return {r for r in relations if r.parent_id in redone or r.child_id in redone}

    def _apply(
        self,
        customers: list[Customer],
        clusters: list[Cluster],
        records: Sequence[ResolutionRecord],
        human_by: dict[AccountKey, str],
        taken: set[str],
    ) -> list[Customer]:
        """Move memberships so customers match the clusters; return the customers that changed."""
        now = self._clock.now()
        by_id = {c.id: c for c in customers}
        previous = {k: c.id for c in customers for k in c.members}
        assigned = assign_customer_ids(clusters, previous, taken)
        names = {r.key: r.name for r in records}
        target: dict[AccountKey, tuple[str, float, MatchMethod]] = {}
        for customer_id, cluster in assigned:
            for key, (confidence, method) in cluster.members.items():
                target[key] = (customer_id, confidence, method)
        touched: dict[str, Customer] = {}
        for customer in customers:
            for key, membership in list(customer.members.items()):
                wanted = target.get(key)
                if wanted is None or wanted[0] != customer.id or not _same(membership, wanted):
                    customer.remove_account(key, decided_by=RESOLVER, at=now)
                    touched[customer.id] = customer
        for customer_id, cluster in assigned:
            if customer_id not in by_id:
                by_id[customer_id] = touched[customer_id] = Customer(id=customer_id, created_at=now)
            customer = by_id[customer_id]
            if customer.merged_into is not None:  # a retired id came back through a person's undo
                customer.merged_into = None
                touched[customer_id] = customer
            for key, (confidence, method) in cluster.members.items():
                if key not in customer.members:
                    decided_by = human_by.get(key, RESOLVER) if method is MatchMethod.HUMAN else RESOLVER
                    customer.add_account(
                        key, confidence=confidence, method=method, decided_by=decided_by, at=now
                    )
                    touched[customer_id] = customer
            name = _display_name([names.get(k, "") for k in sorted(cluster.members)])
            if name != customer.name:
                customer.name = name
                touched[customer_id] = customer
        for customer in by_id.values():
            if customer.is_active and not customer.members and customer.id in touched:
                # Its accounts went to another customer: leave a tombstone pointing there.
                homes = Counter(target[k][0] for k in previous if previous[k] == customer.id and k in target)
                if homes:
                    customer.merged_into = min(homes, key=lambda i: (-homes[i], i))
        return [touched[i] for i in sorted(touched)]


def _same(membership: Membership, wanted: tuple[str, float, MatchMethod]) -> bool:
    return membership.method is wanted[2] and abs(membership.confidence - wanted[1]) < 1e-9
