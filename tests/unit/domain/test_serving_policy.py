"""A/B assignment: stable per customer, the share it promises, reshuffled only by a new salt."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvariantViolationError
from domain.recommendation import Arm
from domain.serving import ServingPolicy

CUSTOMERS = [f"customer-{i}" for i in range(20_000)]


@given(st.text(min_size=1), st.floats(0, 0.5), st.text(min_size=1).filter(str.strip))
def test_a_customer_always_lands_in_the_same_arm(customer: str, share: float, salt: str) -> None:
    policy = ServingPolicy(share, salt)
    assert policy.arm_for(customer, has_challenger=True) is ServingPolicy(share, salt).arm_for(
        customer, has_challenger=True
    )
    assert policy.arm_for(customer, has_challenger=False) is Arm.CHAMPION


@pytest.mark.parametrize("share", [0.0, 0.1, 0.25, 0.5])
def test_the_challenger_gets_its_share(share: float) -> None:
    policy = ServingPolicy(share, "exp")
    got = sum(policy.arm_for(c, has_challenger=True) is Arm.CHALLENGER for c in CUSTOMERS) / len(CUSTOMERS)
    assert abs(got - share) < 0.015


def test_a_larger_share_keeps_every_earlier_challenger_customer() -> None:
    small, large = ServingPolicy(0.1, "exp"), ServingPolicy(0.3, "exp")
    for customer in CUSTOMERS[:2000]:
        if small.arm_for(customer, has_challenger=True) is Arm.CHALLENGER:
            assert large.arm_for(customer, has_challenger=True) is Arm.CHALLENGER


def test_a_new_salt_reshuffles_the_arms() -> None:
    a, b = ServingPolicy(0.5, "one"), ServingPolicy(0.5, "two")
    differ = sum(
        a.arm_for(c, has_challenger=True) != b.arm_for(c, has_challenger=True) for c in CUSTOMERS[:2000]
    )
    assert 800 < differ < 1200


@pytest.mark.parametrize(
    ("share", "salt"), [(-0.1, "s"), (0.51, "s"), (float("nan"), "s"), (0.1, " "), (True, "s")]
)
def test_a_bad_policy_is_refused(share: float, salt: str) -> None:
    with pytest.raises(InvariantViolationError):
        ServingPolicy(share, salt)
