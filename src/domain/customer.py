"""Customer: the cross-org unified company, its member accounts, and its reversible merges and splits."""

from __future__ import annotations

import math
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from domain.account import AccountKey
from domain.errors import InvariantViolationError, IrreversibleChangeError, NotFoundError
from domain.events import (
    AccountJoinedCustomer,
    AccountLeftCustomer,
    CustomerMergeUndone,
    CustomersMerged,
    CustomerSplit,
    CustomerSplitUndone,
    Event,
)
from domain.timestamps import require_utc, utc_now

__all__ = ["ChangeKind", "Customer", "CustomerChange", "MatchMethod", "Membership", "merge"]


class MatchMethod(StrEnum):
    """How an account came to belong to a customer."""

    RULE = "rule"
    MODEL = "model"
    HUMAN = "human"


class ChangeKind(StrEnum):
    MERGE = "merge"
    SPLIT = "split"


def _require_confidence(value: float) -> None:
    # bool is an int subclass; True would silently read as full confidence.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvariantViolationError(f"a match confidence is a finite number, got {value!r}")
    if not 0.0 <= value <= 1.0:
        raise InvariantViolationError(f"a match confidence lies in [0, 1], got {value}")


def _require_actor(decided_by: str) -> None:
    if not isinstance(decided_by, str) or not decided_by.strip():
        raise InvariantViolationError("every customer decision names who made it (a user or a process)")


@dataclass(frozen=True)
class Membership:
    """One account's place in a customer: how sure the match is, how it was made, by whom and when.

    Raises InvariantViolationError for a confidence outside [0, 1], an unknown method, an empty
    `decided_by` or a non-UTC `joined_at`.
    """

    account: AccountKey
    confidence: float
    method: MatchMethod
    decided_by: str
    joined_at: datetime

    def __post_init__(self) -> None:
        _require_confidence(self.confidence)
        try:
            object.__setattr__(self, "method", MatchMethod(self.method))
        except ValueError as exc:
            raise InvariantViolationError(f"unknown match method {self.method!r}") from exc
        _require_actor(self.decided_by)
        require_utc(self.joined_at, "joined_at")


@dataclass(frozen=True)
class CustomerChange:
    """A recorded merge or split, holding what it takes to reverse it.

    `customer_id` is the customer that kept its id; `other_customer_id` is the one absorbed (merge) or
    created (split); `moved` are the memberships that changed hands, as they were at the time.
    """

    id: str
    kind: ChangeKind
    customer_id: str
    other_customer_id: str
    moved: tuple[Membership, ...]
    decided_by: str
    at: datetime
    undone_by: str | None = None
    undone_at: datetime | None = None

    def __post_init__(self) -> None:
        _require_actor(self.decided_by)
        require_utc(self.at, "at")
        require_utc(self.undone_at, "undone_at")
        if (self.undone_by is None) != (self.undone_at is None):
            raise InvariantViolationError("an undone change records both who undid it and when")

    @property
    def is_undone(self) -> bool:
        return self.undone_at is not None

    @property
    def accounts(self) -> tuple[AccountKey, ...]:
        return tuple(m.account for m in self.moved)


@dataclass(eq=False)
class Customer:
    """A company as the whole group knows it: accounts from any org that are the same company.

    The id is stable for life: re-runs add and remove accounts but never renumber; a merge keeps the
    survivor's id and a split keeps the id on the larger part. A customer absorbed by a merge stays as a
    tombstone (`merged_into` set, no members) so the merge can be undone and old ids can be redirected.
    """

    id: str
    name: str = ""
    members: dict[AccountKey, Membership] = field(default_factory=dict)
    merged_into: str | None = None
    history: list[CustomerChange] = field(default_factory=list)
    created_at: datetime = field(default_factory=utc_now)
    events: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise InvariantViolationError("a customer needs a non-empty id")
        require_utc(self.created_at, "created_at")
        for key, membership in self.members.items():
            if membership.account != key:
                raise InvariantViolationError(f"membership of {membership.account} filed under {key}")
        if self.merged_into is not None and self.members:
            raise InvariantViolationError(f"customer {self.id} was merged away and cannot hold accounts")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Customer) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    # -- reading -------------------------------------------------------------------------------------

    @property
    def is_active(self) -> bool:
        """False once the customer was absorbed by a merge (or retired by undoing the split that made it)."""
        return self.merged_into is None

    @property
    def accounts(self) -> frozenset[AccountKey]:
        return frozenset(self.members)

    @property
    def org_ids(self) -> frozenset[str]:
        return frozenset(key.org_id for key in self.members)

    @property
    def match_confidence(self) -> float:
        """The weakest member's confidence: a recommendation is only as sure as the least sure link.

        Raises InvariantViolationError when the customer has no members.
        """
        if not self.members:
            raise InvariantViolationError(f"customer {self.id} has no accounts, so no match confidence")
        return min(m.confidence for m in self.members.values())

    def change(self, change_id: str) -> CustomerChange:
        """The recorded change with this id. Raises NotFoundError when this customer has none."""
        for record in self.history:
            if record.id == change_id:
                return record
        raise NotFoundError(f"customer {self.id} has no change {change_id}")

    # -- membership ----------------------------------------------------------------------------------

    def add_account(
        self,
        account: AccountKey,
        *,
        confidence: float,
        method: MatchMethod,
        decided_by: str,
        at: datetime,
    ) -> Membership:
        """Make `account` a member.

        Raises InvariantViolationError when the customer was merged away, the account is already a
        member, or the membership values are invalid.
        """
        self._require_active()
        if account in self.members:
            raise InvariantViolationError(f"{account} is already a member of customer {self.id}")
        membership = Membership(account, confidence, method, decided_by, at)
        self.members[account] = membership
        self.events.append(
            AccountJoinedCustomer(
                occurred_at=at,
                customer_id=self.id,
                account=account,
                confidence=membership.confidence,
                method=membership.method,
                decided_by=decided_by,
            )
        )
        return membership

    def remove_account(self, account: AccountKey, *, decided_by: str, at: datetime) -> Membership:
        """Drop a member (its CRM record was deleted). Raises NotFoundError when it is not a member."""
        _require_actor(decided_by)
        require_utc(at, "at")
        membership = self.members.pop(account, None)
        if membership is None:
            raise NotFoundError(f"{account} is not a member of customer {self.id}")
        self.events.append(
            AccountLeftCustomer(occurred_at=at, customer_id=self.id, account=account, decided_by=decided_by)
        )
        return membership

    # -- merge, split, undo --------------------------------------------------------------------------

    def absorb(
        self, other: Customer, *, decided_by: str, at: datetime, change_id: str | None = None
    ) -> CustomerChange:
        """Merge `other` into this customer, which keeps its id; `other` becomes a tombstone.

        Raises InvariantViolationError when either customer was merged away, they are the same customer,
        or they share an account.
        """
        _require_actor(decided_by)
        require_utc(at, "at")
        self._require_active()
        other._require_active()
        if other.id == self.id:
            raise InvariantViolationError(f"customer {self.id} cannot be merged with itself")
        shared = self.accounts & other.accounts
        if shared:
            raise InvariantViolationError(
                f"customers {self.id} and {other.id} share accounts {sorted(shared)}"
            )
        moved = tuple(other.members[key] for key in sorted(other.members))
        record = CustomerChange(
            id=change_id or uuid.uuid4().hex,
            kind=ChangeKind.MERGE,
            customer_id=self.id,
            other_customer_id=other.id,
            moved=moved,
            decided_by=decided_by,
            at=at,
        )
        self.members.update({m.account: m for m in moved})
        other.members.clear()
        other.merged_into = self.id
        self.history.append(record)
        other.history.append(record)
        self.events.append(
            CustomersMerged(
                occurred_at=at,
                change_id=record.id,
                survivor_id=self.id,
                absorbed_id=other.id,
                accounts=record.accounts,
                decided_by=decided_by,
            )
        )
        return record

    def split(
        self,
        accounts: Collection[AccountKey],
        *,
        new_id: str,
        decided_by: str,
        at: datetime,
        change_id: str | None = None,
    ) -> Customer:
        """Separate `accounts` from the rest; return the newly created customer (`new_id`).

        The larger part keeps this customer's id, so the new customer holds whichever part is smaller:
        `accounts` or the rest. On a tie the part holding the smallest account key keeps the id, which
        makes the outcome independent of which side the caller named.

        Raises InvariantViolationError when the customer was merged away, `accounts` is empty, holds a
        non-member, or holds every member, or `new_id` is this customer's id.
        """
        _require_actor(decided_by)
        require_utc(at, "at")
        self._require_active()
        chosen = frozenset(accounts)
        if not chosen:
            raise InvariantViolationError("a split names at least one account")
        strangers = chosen - self.accounts
        if strangers:
            raise InvariantViolationError(f"{sorted(strangers)} are not members of customer {self.id}")
        rest = self.accounts - chosen
        if not rest:
            raise InvariantViolationError("a split must leave at least one account on each side")
        if new_id == self.id:
            raise InvariantViolationError("the split-off customer needs an id of its own")
        if len(chosen) != len(rest):
            leaving = chosen if len(chosen) < len(rest) else rest
        else:
            leaving = rest if min(chosen) < min(rest) else chosen
        moved = tuple(self.members[key] for key in sorted(leaving))
        new_customer = Customer(id=new_id, name=self.name, created_at=at)
        record = CustomerChange(
            id=change_id or uuid.uuid4().hex,
            kind=ChangeKind.SPLIT,
            customer_id=self.id,
            other_customer_id=new_id,
            moved=moved,
            decided_by=decided_by,
            at=at,
        )
        for membership in moved:
            del self.members[membership.account]
            new_customer.members[membership.account] = membership
        self.history.append(record)
        new_customer.history.append(record)
        self.events.append(
            CustomerSplit(
                occurred_at=at,
                change_id=record.id,
                customer_id=self.id,
                new_customer_id=new_id,
                moved_accounts=record.accounts,
                decided_by=decided_by,
            )
        )
        return new_customer

    def undo(self, change_id: str, other: Customer, *, decided_by: str, at: datetime) -> CustomerChange:
        """Reverse a merge or split recorded on this customer (the one that kept its id).

        `other` is the customer the change absorbed or created. Undoing a merge restores `other` with its
        original memberships; undoing a split moves the accounts back and retires `other`
        (`merged_into` = this id). Returns the updated record.

        Raises NotFoundError when this customer did not keep its id in that change;
        IrreversibleChangeError when it was already undone, `other` is the wrong customer, or later
        changes moved the accounts involved (undo those first).
        """
        _require_actor(decided_by)
        require_utc(at, "at")
        record = self.change(change_id)
        if record.customer_id != self.id:
            raise NotFoundError(f"change {change_id} is undone from customer {record.customer_id}")
        if record.is_undone:
            raise IrreversibleChangeError(f"change {change_id} was already undone")
        if other.id != record.other_customer_id:
            raise IrreversibleChangeError(
                f"change {change_id} involved {record.other_customer_id}, not {other.id}"
            )
        moved = frozenset(record.accounts)
        if record.kind is ChangeKind.MERGE:
            if other.merged_into != self.id or other.members or not moved <= self.accounts:
                raise IrreversibleChangeError(
                    f"accounts of merge {change_id} have moved since; undo that first"
                )
            for membership in record.moved:
                del self.members[membership.account]
                other.members[membership.account] = membership
            other.merged_into = None
            event: Event = CustomerMergeUndone(
                occurred_at=at,
                change_id=record.id,
                survivor_id=self.id,
                restored_id=other.id,
                accounts=record.accounts,
                decided_by=decided_by,
            )
        else:
            if not self.is_active or not other.is_active or other.accounts != moved:
                raise IrreversibleChangeError(
                    f"accounts of split {change_id} have moved since; undo that first"
                )
            for membership in record.moved:
                del other.members[membership.account]
                self.members[membership.account] = membership
            other.merged_into = self.id
            event = CustomerSplitUndone(
                occurred_at=at,
                change_id=record.id,
                customer_id=self.id,
                retired_id=other.id,
                accounts=record.accounts,
                decided_by=decided_by,
            )
        undone = replace(record, undone_by=decided_by, undone_at=at)
        self.history[self.history.index(record)] = undone
        other.history = [undone if r.id == record.id else r for r in other.history]
        self.events.append(event)
        return undone

    def _require_active(self) -> None:
        if not self.is_active:
            raise InvariantViolationError(f"customer {self.id} was merged into {self.merged_into}")


def merge(first: Customer, second: Customer, *, decided_by: str, at: datetime) -> Customer:
    """Merge two customers and return the survivor, which keeps its id.

    The customer with more accounts survives, so the id that most records already point to stays;
    ties go to the older customer, then to the smaller id, so re-runs choose the same survivor.
    Raises what `Customer.absorb` raises.
    """
    survivor, absorbed = sorted((first, second), key=lambda c: (-len(c.members), c.created_at, c.id))
    survivor.absorb(absorbed, decided_by=decided_by, at=at)
    return survivor
