"""ResolveCustomers: score, cluster and file accounts under customers, keeping ids and human decisions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from application.ports.clock import Clock
from application.resolution.ports import (
    DecisionKind,
    PairScorer,
    ResolutionRecord,
    ResolutionState,
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
    changed since the last run (and the pairs they form) are re-scored; the result equals a full run."""

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
        async with self._uow as uow:
            records = await uow.records()
            say(f"read {len(records)} accounts")
            state = await uow.matches.state()
            statistics = state.statistics
            if statistics is None or retrain:
                statistics = self._scorer.statistics(records)
                full = True
            fingerprints = {r.key: r.fingerprint for r in records}
            if full:
                changed: set[AccountKey] | None = None
            else:
                changed = {k for k, f in fingerprints.items() if state.fingerprints.get(k) != f}
                changed |= set(state.fingerprints) - set(fingerprints)
            focus = None if changed is None else changed & set(fingerprints)
            if focus is not None and not focus and not changed:
                say("no account changed since the last run")
            scored = (
                self._scorer.score(records, statistics, self._model, self._thresholds, focus)
                if focus is None or focus
                else []
            )
            comparisons = self._scorer.last_comparisons if focus is None or focus else 0
            say(f"scored {comparisons} candidate pairs, kept {len(scored)}")
            await uow.matches.replace_pairs(changed, scored)
            pairs = scored if changed is None else await uow.matches.pairs()
            decisions = await uow.matches.decisions()
            parents = {
                r.key: AccountKey(r.key.org_id, r.parent_external_id)
                for r in records
                if r.parent_external_id and AccountKey(r.key.org_id, r.parent_external_id) in fingerprints
            }
            # A CRM parent link says the two accounts are two companies: it stops the model from merging
            # a subsidiary into its parent (a person can still merge them).
            apart = [ScoredPair(PairLink.of(child, parent), 0.0) for child, parent in parents.items()]
            clusters = cluster_accounts(
                list(fingerprints),
                [*pairs, *apart],
                auto_merge=self._thresholds.auto_merge,
                cannot_link=self._thresholds.cannot_link,
                must_link=[d.pair for d in decisions if d.kind is DecisionKind.MUST_LINK],
                never_link=[d.pair for d in decisions if d.kind is DecisionKind.NEVER_LINK],
            )
            human_by: dict[AccountKey, str] = {}
            for d in sorted(decisions, key=lambda d: d.decided_at):
                if d.kind is DecisionKind.MUST_LINK:
                    human_by[d.pair.left] = human_by[d.pair.right] = d.decided_by
            customers = await uow.customers.all()
            touched = self._apply(customers, clusters, records, human_by)
            await uow.customers.save(touched)
            relations = self._relations(parents, touched, customers)
            await uow.customers.replace_relations(relations)
            say(f"filed accounts under {len(clusters)} customers ({len(touched)} changed)")
            new_state = ResolutionState(statistics, fingerprints, self._clock.now())
            await uow.matches.save_state(new_state, changed)
            await uow.commit()
        member_of = {k: i for i, c in enumerate(clusters) for k in c.members}
        review = sum(
            1
            for p in pairs
            if self._thresholds.review <= p.probability < self._thresholds.auto_merge
            and member_of.get(p.pair.left) != member_of.get(p.pair.right)
        )
        return ResolutionReport(
            accounts=len(records),
            changed_accounts=len(fingerprints) if changed is None else len(changed),
            comparisons=comparisons,
            kept_pairs=len(pairs),
            customers=len(clusters),
            multi_org_customers=sum(1 for c in clusters if len({k.org_id for k in c.members}) > 1),
            review_pairs=review,
            customers_changed=len(touched),
            full=changed is None,
            relations=len(relations),
        )

    @staticmethod
    def _relations(
        parents: dict[AccountKey, AccountKey],
        touched: list[Customer],
        customers: list[Customer],
    ) -> set[CustomerRelation]:
        """Parent/subsidiary links between the customers as filed now: the CRM's ParentId, then names."""
        current = {c.id: c for c in customers} | {c.id: c for c in touched}
        live = [c for c in current.values() if c.is_active and c.members]
        customer_of = {k: c.id for c in live for k in c.members}
        relations = crm_relations(parents, customer_of)
        known = {(r.parent_id, r.child_id) for r in relations}
        # One relation per parent and child: the CRM's own word wins over name evidence.
        named = name_relations((c.id, normalise_name(c.name)) for c in live)
        return relations | {r for r in named if (r.parent_id, r.child_id) not in known}

    def _apply(
        self,
        customers: list[Customer],
        clusters: list[Cluster],
        records: Sequence[ResolutionRecord],
        human_by: dict[AccountKey, str],
    ) -> list[Customer]:
        """Move memberships so customers match the clusters; return the customers that changed."""
        now = self._clock.now()
        by_id = {c.id: c for c in customers}
        previous = {k: c.id for c in customers for k in c.members}
        assigned = assign_customer_ids(clusters, previous, set(by_id))
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
