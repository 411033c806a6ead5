"""People's decisions on customers: the review queue, merge, split, reject a pair, undo a change."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Collection

from application.errors import InvalidRequestError
from application.ports.clock import Clock
from application.resolution.ports import DecisionKind, PairDecision, ResolutionUnitOfWork, ReviewItem
from domain.account import AccountKey
from domain.customer import Customer, CustomerChange, merge
from domain.errors import NotFoundError
from domain.resolution.clustering import PairLink
from domain.resolution.decisions import MatchThresholds

__all__ = ["DecideMatch", "ListReviewQueue", "MergeCustomers", "SplitCustomer", "UndoCustomerChange"]


async def _customer(uow: ResolutionUnitOfWork, customer_id: str) -> Customer:
    customer = await uow.customers.get(customer_id)
    if customer is None:
        raise NotFoundError(f"no customer {customer_id}")
    return customer


class ListReviewQueue:
    """Pairs in the review band whose accounts sit in different customers, most likely first."""

    def __init__(self, uow: ResolutionUnitOfWork, thresholds: MatchThresholds) -> None:
        self._uow = uow
        self._thresholds = thresholds

    async def execute(self, limit: int = 20) -> list[ReviewItem]:
        async with self._uow as uow:
            decided = {d.pair for d in await uow.matches.decisions()}
            band = sorted(
                (
                    p
                    for p in await uow.matches.pairs()
                    if self._thresholds.review <= p.probability < self._thresholds.auto_merge
                    and p.pair not in decided
                ),
                key=lambda p: (-p.probability, p.pair),
            )
            owners = await uow.customers.of_accounts({k for p in band for k in (p.pair.left, p.pair.right)})
        items = [
            ReviewItem(
                p.pair, p.probability, p.explanation, owners.get(p.pair.left), owners.get(p.pair.right)
            )
            for p in band
            if owners.get(p.pair.left) != owners.get(p.pair.right)
        ]
        return items[:limit]


class MergeCustomers:
    """A person says two customers are one company. The one with more accounts keeps its id."""

    def __init__(self, uow: ResolutionUnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(
        self, first_id: str, second_id: str, *, decided_by: str, pair: PairLink | None = None
    ) -> CustomerChange:
        """Raises NotFoundError for an unknown customer, InvariantViolationError for an invalid merge."""
        async with self._uow as uow:
            first = await _customer(uow, first_id)
            second = await _customer(uow, second_id)
            if not first.members or not second.members:
                raise InvalidRequestError("only customers with accounts can be merged")
            link = pair or PairLink.of(min(first.members), min(second.members))
            now = self._clock.now()
            survivor = merge(first, second, decided_by=decided_by, at=now)
            change = survivor.history[-1]
            await uow.matches.add_decisions(
                [PairDecision(link, DecisionKind.MUST_LINK, decided_by, now, change.id)]
            )
            await uow.customers.save([first, second])
            await uow.commit()
        return change


class SplitCustomer:
    """A person says some accounts of a customer are another company; the larger part keeps the id."""

    def __init__(self, uow: ResolutionUnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(
        self, customer_id: str, accounts: Collection[AccountKey], *, decided_by: str
    ) -> CustomerChange:
        """Raises NotFoundError for an unknown customer, InvariantViolationError for an invalid split."""
        async with self._uow as uow:
            customer = await _customer(uow, customer_id)
            now = self._clock.now()
            created = customer.split(accounts, new_id=uuid.uuid4().hex, decided_by=decided_by, at=now)
            change = customer.history[-1]
            left, right = sorted(customer.members), sorted(created.members)
            # The split holds on every later run: the parts never join, and each part stays together.
            decisions = [
                PairDecision(PairLink.of(a, b), DecisionKind.NEVER_LINK, decided_by, now, change.id)
                for a, b in itertools.product(left, right)
            ]
            for part in (left, right):
                decisions += [
                    PairDecision(PairLink.of(a, b), DecisionKind.MUST_LINK, decided_by, now, change.id)
                    for a, b in itertools.pairwise(part)
                ]
            await uow.matches.add_decisions(decisions)
            await uow.customers.save([customer, created])
            await uow.commit()
        return change


class UndoCustomerChange:
    """Reverse a recorded merge or split, and forget the pair decisions it made."""

    def __init__(self, uow: ResolutionUnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, change_id: str, *, decided_by: str) -> CustomerChange:
        """Raises NotFoundError for an unknown change, IrreversibleChangeError when it cannot be undone."""
        async with self._uow as uow:
            change = await uow.customers.change(change_id)
            if change is None:
                raise NotFoundError(f"no recorded merge or split {change_id}")
            keeper = await _customer(uow, change.customer_id)
            other = await _customer(uow, change.other_customer_id)
            undone = keeper.undo(change_id, other, decided_by=decided_by, at=self._clock.now())
            await uow.matches.remove_decisions(change_id)
            await uow.customers.save([keeper, other])
            await uow.commit()
        return undone


class DecideMatch:
    """A reviewer accepts a pair (its customers merge) or rejects it (they never join)."""

    def __init__(self, uow: ResolutionUnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(
        self, left: AccountKey, right: AccountKey, *, accept: bool, decided_by: str
    ) -> CustomerChange | None:
        """The merge when accepting joined two customers, else None. NotFoundError for unknown accounts."""
        if left == right:
            raise InvalidRequestError("a pair needs two different accounts")
        pair = PairLink.of(left, right)
        async with self._uow as uow:
            owners = await uow.customers.of_accounts([left, right])
            missing = [str(k) for k in (left, right) if k not in owners]
            if missing:
                raise NotFoundError(f"accounts not resolved yet (run `xsell resolve`): {', '.join(missing)}")
            if not accept or owners[left] == owners[right]:
                kind = DecisionKind.MUST_LINK if accept else DecisionKind.NEVER_LINK
                await uow.matches.add_decisions([PairDecision(pair, kind, decided_by, self._clock.now())])
                await uow.commit()
                return None
        return await MergeCustomers(self._uow, self._clock).execute(
            owners[left], owners[right], decided_by=decided_by, pair=pair
        )
