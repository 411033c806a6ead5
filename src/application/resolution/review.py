"""People's decisions on customers: the review queue, merge, split, reject a pair, undo a change."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Collection, Iterable

from application.errors import InvalidCursorError, InvalidRequestError
from application.pagination import Page, decode_cursor, encode_cursor
from application.ports.clock import Clock
from application.resolution.ports import DecisionKind, PairDecision, ResolutionUnitOfWork, ReviewItem
from domain.account import AccountKey
from domain.customer import Customer, CustomerChange, merge
from domain.errors import NotFoundError
from domain.resolution.clustering import PairLink
from domain.resolution.decisions import MatchThresholds

__all__ = [
    "DecideMatch",
    "ListReviewQueue",
    "MergeCustomers",
    "PageReviewQueue",
    "ReopenMatch",
    "SplitCustomer",
    "UndoCustomerChange",
]

_CURSOR_KIND = "matches"

# `scope` below: the orgs the caller may act on (None: every org). A decision touching an org outside it
# fails exactly as if the customer, change or account did not exist, so ids in other orgs stay secret.


def _within(scope: frozenset[str] | None, accounts: Iterable[AccountKey]) -> bool:
    return scope is None or all(key.org_id in scope for key in accounts)


async def _customer(
    uow: ResolutionUnitOfWork, customer_id: str, scope: frozenset[str] | None = None
) -> Customer:
    customer = await uow.customers.get(customer_id)
    # A scoped caller cannot see a retired customer (no accounts) at all, as GET /customers/{id} shows.
    if customer is None or (
        scope is not None and (not customer.members or not _within(scope, customer.members))
    ):
        raise NotFoundError(f"no customer {customer_id}")
    return customer


class ListReviewQueue:
    """Pairs in the review band whose accounts sit in different customers, most likely first."""

    def __init__(self, uow: ResolutionUnitOfWork, thresholds: MatchThresholds) -> None:
        self._uow = uow
        self._thresholds = thresholds

    async def execute(
        self,
        limit: int = 20,
        *,
        readable: frozenset[str] | None = None,
        after: tuple[float, PairLink] | None = None,
    ) -> list[ReviewItem]:
        """The first `limit` pairs whose two accounts both lie in `readable` orgs (None: every org), after
        the (probability, pair) `after` in queue order when given."""
        async with self._uow as uow:
            decided = {d.pair for d in await uow.matches.decisions()}
            band = sorted(
                (
                    p
                    for p in await uow.matches.pairs()
                    if self._thresholds.review <= p.probability < self._thresholds.auto_merge
                    and p.pair not in decided
                    and _within(readable, (p.pair.left, p.pair.right))
                    and (after is None or (-p.probability, p.pair) > (-after[0], after[1]))
                ),
                key=lambda p: (-p.probability, p.pair),
            )
            owners = await uow.customers.of_accounts({k for p in band for k in (p.pair.left, p.pair.right)})
            waiting = [p for p in band if owners.get(p.pair.left) != owners.get(p.pair.right)][:limit]
            keys = {k for p in waiting for k in (p.pair.left, p.pair.right)}
            names = {r.key: r.name for r in await uow.records(keys)} if keys else {}
        return [
            ReviewItem(
                p.pair,
                p.probability,
                p.explanation,
                owners.get(p.pair.left),
                owners.get(p.pair.right),
                names.get(p.pair.left),
                names.get(p.pair.right),
            )
            for p in waiting
        ]


class PageReviewQueue:
    """The review queue a page at a time, for a reader: pass a page's `next_cursor` for the next one."""

    def __init__(self, queue: ListReviewQueue, max_page_size: int = 200) -> None:
        self._queue = queue
        self._max_page_size = max_page_size

    async def execute(
        self, readable: frozenset[str] | None, *, limit: int = 20, cursor: str | None = None
    ) -> Page[ReviewItem]:
        """Raises InvalidRequestError for a bad limit, InvalidCursorError for a cursor xsell did not issue."""
        if not 1 <= limit <= self._max_page_size:
            raise InvalidRequestError(f"limit must be between 1 and {self._max_page_size}, got {limit}")
        after = None
        if cursor is not None:
            probability, left_org, left_id, right_org, right_id = decode_cursor(_CURSOR_KIND, cursor, 5)
            try:
                after = (
                    float(probability),
                    PairLink(AccountKey(left_org, left_id), AccountKey(right_org, right_id)),
                )
            except ValueError:
                raise InvalidCursorError(
                    "the cursor is not one xsell issued; pass a page's next_cursor"
                ) from None
        items = await self._queue.execute(limit + 1, readable=readable, after=after)
        page = items[:limit]
        next_cursor = None
        if len(items) > limit:
            last = page[-1].pair
            key = (
                repr(page[-1].probability),
                last.left.org_id,
                last.left.external_id,
                last.right.org_id,
                last.right.external_id,
            )
            next_cursor = encode_cursor(_CURSOR_KIND, key)
        return Page(items=page, next_cursor=next_cursor)


class MergeCustomers:
    """A person says two customers are one company. The one with more accounts keeps its id."""

    def __init__(self, uow: ResolutionUnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(
        self,
        first_id: str,
        second_id: str,
        *,
        decided_by: str,
        pair: PairLink | None = None,
        scope: frozenset[str] | None = None,
    ) -> CustomerChange:
        """Raises NotFoundError for an unknown customer (or one with an account outside `scope`),
        InvariantViolationError for an invalid merge."""
        async with self._uow as uow:
            first = await _customer(uow, first_id, scope)
            second = await _customer(uow, second_id, scope)
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
        self,
        customer_id: str,
        accounts: Collection[AccountKey],
        *,
        decided_by: str,
        scope: frozenset[str] | None = None,
    ) -> CustomerChange:
        """Raises NotFoundError for an unknown customer (or one with an account outside `scope`),
        InvariantViolationError for an invalid split."""
        async with self._uow as uow:
            customer = await _customer(uow, customer_id, scope)
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

    async def execute(
        self, change_id: str, *, decided_by: str, scope: frozenset[str] | None = None
    ) -> CustomerChange:
        """Raises NotFoundError for an unknown change (or one touching an org outside `scope`),
        IrreversibleChangeError when it cannot be undone."""
        async with self._uow as uow:
            change = await uow.customers.change(change_id)
            keeper = other = None
            if change is not None:
                keeper = await uow.customers.get(change.customer_id)
                other = await uow.customers.get(change.other_customer_id)
            if (
                change is None
                or keeper is None
                or other is None
                or not _within(scope, [*change.accounts, *keeper.members, *other.members])
            ):
                raise NotFoundError(f"no recorded merge or split {change_id}")
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
        self,
        left: AccountKey,
        right: AccountKey,
        *,
        accept: bool,
        decided_by: str,
        scope: frozenset[str] | None = None,
    ) -> CustomerChange | None:
        """The merge when accepting joined two customers, else None. NotFoundError for unknown accounts
        (and accounts outside `scope`); accepting merges whole customers, so all their accounts must lie
        in `scope`."""
        if left == right:
            raise InvalidRequestError("a pair needs two different accounts")
        pair = PairLink.of(left, right)
        async with self._uow as uow:
            owners = await uow.customers.of_accounts([left, right])
            missing = [str(k) for k in (left, right) if k not in owners or not _within(scope, [k])]
            if missing:
                raise NotFoundError(f"accounts not resolved yet (run `xsell resolve`): {', '.join(missing)}")
            if not accept or owners[left] == owners[right]:
                kind = DecisionKind.MUST_LINK if accept else DecisionKind.NEVER_LINK
                await uow.matches.add_decisions([PairDecision(pair, kind, decided_by, self._clock.now())])
                await uow.commit()
                return None
        return await MergeCustomers(self._uow, self._clock).execute(
            owners[left], owners[right], decided_by=decided_by, pair=pair, scope=scope
        )


class ReopenMatch:
    """Take back a "keep apart": the pair returns to the review queue (and to the model on the next run).

    Decisions that came with a merge or split are taken back by undoing that change instead.
    """

    def __init__(self, uow: ResolutionUnitOfWork) -> None:
        self._uow = uow

    async def execute(
        self, left: AccountKey, right: AccountKey, *, scope: frozenset[str] | None = None
    ) -> None:
        """Raises NotFoundError when the pair (within `scope`) has no keep-apart decision of its own."""
        pair = PairLink.of(left, right)
        async with self._uow as uow:
            decision = next((d for d in await uow.matches.decisions() if d.pair == pair), None)
            if (
                decision is None
                or decision.kind is not DecisionKind.NEVER_LINK
                or decision.change_id is not None
                or not _within(scope, (left, right))
            ):
                raise NotFoundError(f"no keep-apart decision on {left} and {right}")
            await uow.matches.forget_decision(pair)
            await uow.commit()
