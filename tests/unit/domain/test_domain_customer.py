"""Customer: memberships, merges and splits that keep ids stable, and undo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.account import AccountKey
from domain.customer import ChangeKind, Customer, CustomerChange, MatchMethod, Membership, merge
from domain.errors import InvariantViolationError, IrreversibleChangeError, NotFoundError
from domain.events import (
    AccountJoinedCustomer,
    AccountLeftCustomer,
    CustomerMergeUndone,
    CustomersMerged,
    CustomerSplit,
    CustomerSplitUndone,
)

T0 = datetime(2025, 3, 1, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
T2 = T0 + timedelta(hours=2)


def key(org: str, n: int) -> AccountKey:
    return AccountKey(org, f"001A{n:011d}")


def customer(customer_id: str, *keys: AccountKey, created_at: datetime = T0) -> Customer:
    result = Customer(id=customer_id, name=customer_id.title(), created_at=created_at)
    for k in keys:
        result.add_account(k, confidence=0.9, method=MatchMethod.MODEL, decided_by="resolver", at=created_at)
    result.events.clear()
    return result


A1, A2, A3 = key("a", 1), key("a", 2), key("a", 3)
B1, B2 = key("b", 1), key("b", 2)
C1 = key("c", 1)


# -- membership -------------------------------------------------------------------------------------


def test_adding_an_account_records_confidence_method_and_who() -> None:
    acme = Customer(id="cus-1", created_at=T0)
    membership = acme.add_account(A1, confidence=0.97, method=MatchMethod.RULE, decided_by="resolver", at=T1)

    assert acme.members == {A1: Membership(A1, 0.97, MatchMethod.RULE, "resolver", T1)}
    assert membership.method is MatchMethod.RULE
    assert acme.events == [
        AccountJoinedCustomer(
            occurred_at=T1,
            customer_id="cus-1",
            account=A1,
            confidence=0.97,
            method="rule",
            decided_by="resolver",
        )
    ]


def test_an_account_joins_a_customer_once() -> None:
    acme = customer("acme", A1)
    with pytest.raises(InvariantViolationError, match="already a member"):
        acme.add_account(A1, confidence=1.0, method=MatchMethod.HUMAN, decided_by="ann", at=T1)


@pytest.mark.parametrize("confidence", [-0.01, 1.01, float("nan"), float("inf"), True])
def test_confidence_lies_in_zero_one(confidence: float) -> None:
    with pytest.raises(InvariantViolationError):
        Membership(A1, confidence, MatchMethod.MODEL, "resolver", T0)


@pytest.mark.parametrize("confidence", [0.0, 0.5, 1.0, 1])
def test_confidence_bounds_are_inclusive(confidence: float) -> None:
    assert Membership(A1, confidence, MatchMethod.MODEL, "resolver", T0).confidence == confidence


def test_membership_rejects_unknown_methods_anonymous_decisions_and_naive_times() -> None:
    with pytest.raises(InvariantViolationError, match="method"):
        Membership(A1, 0.5, "guess", "resolver", T0)  # type: ignore[arg-type]
    with pytest.raises(InvariantViolationError, match="who"):
        Membership(A1, 0.5, MatchMethod.MODEL, " ", T0)
    with pytest.raises(InvariantViolationError):
        Membership(A1, 0.5, MatchMethod.MODEL, "resolver", datetime(2025, 1, 1))


def test_method_values_are_rule_model_human() -> None:
    assert [m.value for m in MatchMethod] == ["rule", "model", "human"]
    assert Membership(A1, 0.5, "human", "ann", T0).method is MatchMethod.HUMAN  # type: ignore[arg-type]


def test_removing_an_account() -> None:
    acme = customer("acme", A1, B1)
    acme.remove_account(A1, decided_by="sync", at=T1)
    assert acme.accounts == {B1}
    assert acme.events == [
        AccountLeftCustomer(occurred_at=T1, customer_id="acme", account=A1, decided_by="sync")
    ]
    with pytest.raises(NotFoundError):
        acme.remove_account(A1, decided_by="sync", at=T1)


def test_orgs_and_match_confidence_come_from_members() -> None:
    acme = customer("acme", A1)
    acme.add_account(B1, confidence=0.6, method=MatchMethod.MODEL, decided_by="resolver", at=T1)
    assert acme.org_ids == {"a", "b"}
    assert acme.match_confidence == 0.6
    with pytest.raises(InvariantViolationError):
        _ = Customer(id="empty", created_at=T0).match_confidence


def test_a_customer_needs_an_id_and_consistent_members() -> None:
    with pytest.raises(InvariantViolationError):
        Customer(id=" ", created_at=T0)
    with pytest.raises(InvariantViolationError):
        Customer(id="x", members={A1: Membership(B1, 1.0, MatchMethod.RULE, "r", T0)}, created_at=T0)
    with pytest.raises(InvariantViolationError):
        Customer(
            id="x",
            members={A1: Membership(A1, 1.0, MatchMethod.RULE, "r", T0)},
            merged_into="y",
            created_at=T0,
        )


def test_customers_are_equal_by_id() -> None:
    assert customer("acme", A1) == customer("acme", B1)
    assert customer("acme") != customer("other")


# -- merge --------------------------------------------------------------------------------------------


def test_absorbing_keeps_the_survivor_id_and_tombstones_the_other() -> None:
    acme, acme_b = customer("acme", A1, A2), customer("acme-b", B1)

    record = acme.absorb(acme_b, decided_by="ann", at=T1, change_id="m1")

    assert acme.id == "acme"
    assert acme.accounts == {A1, A2, B1}
    assert acme.members[B1].confidence == 0.9  # memberships move as they were
    assert acme_b.accounts == frozenset()
    assert acme_b.merged_into == "acme"
    assert not acme_b.is_active
    assert record == CustomerChange("m1", ChangeKind.MERGE, "acme", "acme-b", (acme.members[B1],), "ann", T1)
    assert acme.history == [record]
    assert acme_b.history == [record]
    assert acme.events == [
        CustomersMerged(
            occurred_at=T1,
            change_id="m1",
            survivor_id="acme",
            absorbed_id="acme-b",
            accounts=(B1,),
            decided_by="ann",
        )
    ]


def test_merge_keeps_the_id_of_the_larger_customer_whatever_the_order() -> None:
    small, large = customer("zeta", B1), customer("alpha-big", A1, A2)
    assert merge(small, large, decided_by="resolver", at=T1).id == "alpha-big"

    small, large = customer("zeta", B1), customer("alpha-big", A1, A2)
    assert merge(large, small, decided_by="resolver", at=T1).id == "alpha-big"


def test_merge_ties_go_to_the_older_then_the_smaller_id() -> None:
    older, newer = customer("z-old", A1, created_at=T0), customer("a-new", B1, created_at=T1)
    assert merge(newer, older, decided_by="resolver", at=T2).id == "z-old"

    first, second = customer("cus-2", A1), customer("cus-1", B1)
    assert merge(first, second, decided_by="resolver", at=T2).id == "cus-1"


def test_merge_refuses_self_shared_accounts_and_tombstones() -> None:
    acme = customer("acme", A1)
    with pytest.raises(InvariantViolationError):
        acme.absorb(acme, decided_by="ann", at=T1)

    overlap = Customer(id="overlap", created_at=T0)
    overlap.members[A1] = acme.members[A1]  # a broken repository could hand us this
    with pytest.raises(InvariantViolationError, match="share"):
        acme.absorb(overlap, decided_by="ann", at=T1)

    gone, other = customer("gone", B1), customer("other", C1)
    other.absorb(gone, decided_by="ann", at=T1)
    with pytest.raises(InvariantViolationError, match="merged into"):
        acme.absorb(gone, decided_by="ann", at=T1)
    with pytest.raises(InvariantViolationError, match="merged into"):
        gone.absorb(acme, decided_by="ann", at=T1)
    with pytest.raises(InvariantViolationError, match="merged into"):
        gone.add_account(A3, confidence=1.0, method=MatchMethod.HUMAN, decided_by="ann", at=T1)


def test_decisions_name_who_made_them() -> None:
    with pytest.raises(InvariantViolationError):
        customer("acme", A1).absorb(customer("b", B1), decided_by="", at=T1)
    with pytest.raises(InvariantViolationError):
        customer("acme", A1, A2).split([A1], new_id="n", decided_by=" ", at=T1)


def test_undoing_a_merge_restores_both_customers() -> None:
    acme, acme_b = customer("acme", A1, A2), customer("acme-b", B1, B2)
    before = dict(acme_b.members)
    acme.absorb(acme_b, decided_by="ann", at=T1, change_id="m1")
    acme.events.clear()

    undone = acme.undo("m1", acme_b, decided_by="bob", at=T2)

    assert acme.id == "acme"
    assert acme.accounts == {A1, A2}
    assert acme_b.id == "acme-b"
    assert acme_b.members == before
    assert acme_b.is_active
    assert undone.is_undone
    assert (undone.undone_by, undone.undone_at) == ("bob", T2)
    assert acme.history == [undone]
    assert acme_b.history == [undone]
    assert acme.events == [
        CustomerMergeUndone(
            occurred_at=T2,
            change_id="m1",
            survivor_id="acme",
            restored_id="acme-b",
            accounts=(B1, B2),
            decided_by="bob",
        )
    ]


def test_a_change_is_undone_once() -> None:
    acme, acme_b = customer("acme", A1), customer("acme-b", B1)
    acme.absorb(acme_b, decided_by="ann", at=T1, change_id="m1")
    acme.undo("m1", acme_b, decided_by="bob", at=T2)
    with pytest.raises(IrreversibleChangeError, match="already undone"):
        acme.undo("m1", acme_b, decided_by="bob", at=T2)


def test_undo_needs_the_right_counterpart_and_the_keeping_side() -> None:
    acme, acme_b, stranger = customer("acme", A1), customer("acme-b", B1), customer("stranger", C1)
    acme.absorb(acme_b, decided_by="ann", at=T1, change_id="m1")
    with pytest.raises(IrreversibleChangeError, match="involved acme-b"):
        acme.undo("m1", stranger, decided_by="bob", at=T2)
    with pytest.raises(NotFoundError):
        acme_b.undo("m1", acme, decided_by="bob", at=T2)
    with pytest.raises(NotFoundError):
        acme.undo("nope", acme_b, decided_by="bob", at=T2)


def test_a_merge_cannot_be_undone_after_its_accounts_moved_on() -> None:
    acme, acme_b, group = customer("acme", A1), customer("acme-b", B1), customer("group", C1, A3)
    acme.absorb(acme_b, decided_by="ann", at=T1, change_id="m1")
    group.absorb(acme, decided_by="ann", at=T2, change_id="m2")

    with pytest.raises(IrreversibleChangeError, match="undo that first"):
        acme.undo("m1", acme_b, decided_by="bob", at=T2)

    group.undo("m2", acme, decided_by="bob", at=T2)
    acme.undo("m1", acme_b, decided_by="bob", at=T2)  # in reverse order it works
    assert acme.accounts == {A1}
    assert acme_b.accounts == {B1}
    assert group.accounts == {C1, A3}


# -- split --------------------------------------------------------------------------------------------


def test_splitting_off_the_smaller_part_keeps_the_id_on_the_rest() -> None:
    acme = customer("acme", A1, A2, B1)

    new = acme.split([B1], new_id="cus-new", decided_by="ann", at=T1, change_id="s1")

    assert acme.id == "acme"
    assert acme.accounts == {A1, A2}
    assert new.id == "cus-new"
    assert new.accounts == {B1}
    assert new.created_at == T1
    assert new.is_active
    assert acme.history == new.history
    assert acme.history[0].kind is ChangeKind.SPLIT
    assert acme.events == [
        CustomerSplit(
            occurred_at=T1,
            change_id="s1",
            customer_id="acme",
            new_customer_id="cus-new",
            moved_accounts=(B1,),
            decided_by="ann",
        )
    ]


def test_naming_the_larger_part_still_keeps_the_id_on_the_larger_part() -> None:
    acme = customer("acme", A1, A2, B1)

    new = acme.split([A1, A2], new_id="cus-new", decided_by="ann", at=T1)

    assert acme.accounts == {A1, A2}
    assert new.accounts == {B1}


@pytest.mark.parametrize("named", [[A1, A2], [B1, B2]])
def test_an_even_split_keeps_the_id_with_the_smallest_account_whichever_side_is_named(
    named: list[AccountKey],
) -> None:
    acme = customer("acme", A1, A2, B1, B2)
    new = acme.split(named, new_id="cus-new", decided_by="ann", at=T1)
    assert acme.accounts == {A1, A2}
    assert new.accounts == {B1, B2}


def test_split_refuses_empty_foreign_whole_and_same_id() -> None:
    acme = customer("acme", A1, A2)
    with pytest.raises(InvariantViolationError, match="at least one account"):
        acme.split([], new_id="n", decided_by="ann", at=T1)
    with pytest.raises(InvariantViolationError, match="not members"):
        acme.split([C1], new_id="n", decided_by="ann", at=T1)
    with pytest.raises(InvariantViolationError, match="each side"):
        acme.split([A1, A2], new_id="n", decided_by="ann", at=T1)
    with pytest.raises(InvariantViolationError, match="id of its own"):
        acme.split([A1], new_id="acme", decided_by="ann", at=T1)
    assert acme.accounts == {A1, A2}


def test_undoing_a_split_brings_the_accounts_home_and_retires_the_new_customer() -> None:
    acme = customer("acme", A1, A2, B1)
    original = dict(acme.members)
    new = acme.split([B1], new_id="cus-new", decided_by="ann", at=T1, change_id="s1")
    acme.events.clear()

    acme.undo("s1", new, decided_by="bob", at=T2)

    assert acme.id == "acme"
    assert acme.members == original
    assert new.accounts == frozenset()
    assert new.merged_into == "acme"
    assert new.history[0].is_undone
    assert acme.events == [
        CustomerSplitUndone(
            occurred_at=T2,
            change_id="s1",
            customer_id="acme",
            retired_id="cus-new",
            accounts=(B1,),
            decided_by="bob",
        )
    ]


def test_a_split_cannot_be_undone_after_the_new_customer_changed() -> None:
    acme = customer("acme", A1, A2, B1)
    new = acme.split([B1], new_id="cus-new", decided_by="ann", at=T1, change_id="s1")
    new.add_account(C1, confidence=0.99, method=MatchMethod.RULE, decided_by="resolver", at=T2)
    with pytest.raises(IrreversibleChangeError):
        acme.undo("s1", new, decided_by="bob", at=T2)
    assert new.accounts == {B1, C1}
    assert acme.accounts == {A1, A2}


def test_change_records_need_both_undo_fields_or_neither() -> None:
    with pytest.raises(InvariantViolationError):
        CustomerChange("c", ChangeKind.MERGE, "a", "b", (), "ann", T0, undone_by="bob")


keys = st.builds(AccountKey, st.sampled_from(["a", "b", "c"]), st.from_regex(r"001[A-Z]{12}", fullmatch=True))


@given(st.sets(keys, min_size=2, max_size=12), st.data())
def test_split_then_undo_is_identity_and_the_id_stays_on_the_larger_part(
    members: set[AccountKey], data: st.DataObject
) -> None:
    ordered = sorted(members)
    named = data.draw(st.sets(st.sampled_from(ordered), min_size=1, max_size=len(ordered) - 1))
    original = customer("keep", *ordered)
    before = dict(original.members)

    new = original.split(named, new_id="new", decided_by="ann", at=T1, change_id="s")

    assert original.accounts | new.accounts == members
    assert not original.accounts & new.accounts
    assert len(original.accounts) >= len(new.accounts)
    original.undo("s", new, decided_by="bob", at=T2)
    assert original.members == before
    assert original.id == "keep"


@given(st.sets(keys, min_size=2, max_size=12), st.data())
def test_merge_then_undo_is_identity(members: set[AccountKey], data: st.DataObject) -> None:
    ordered = sorted(members)
    cut = data.draw(st.integers(min_value=1, max_value=len(ordered) - 1))
    first, second = customer("first", *ordered[:cut]), customer("second", *ordered[cut:])
    first_before, second_before = dict(first.members), dict(second.members)

    survivor = merge(first, second, decided_by="ann", at=T1)
    absorbed = second if survivor is first else first
    survivor.undo(survivor.history[-1].id, absorbed, decided_by="bob", at=T2)

    assert first.members == first_before
    assert second.members == second_before
    assert first.is_active
    assert second.is_active
