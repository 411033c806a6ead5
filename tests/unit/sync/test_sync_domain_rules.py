"""The sync's domain rules: the cursor only moves forward, the budget share, backoff with jitter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvariantViolationError
from domain.sync import ApiUsage, BackoffPolicy, SyncCursor

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_cursors_order_by_stamp_then_id_and_never_move_back() -> None:
    early, late = SyncCursor(T0, "001B"), SyncCursor(T0, "001C")
    assert early < late
    assert late.later(early) is late and early.later(late) is late
    assert late.query_from(timedelta(seconds=30)) == T0 - timedelta(seconds=30)


def test_a_naive_stamp_is_refused() -> None:
    with pytest.raises(InvariantViolationError):
        SyncCursor(datetime(2026, 1, 1), "001")


def test_budget_share() -> None:
    assert not ApiUsage(79, 100).reached(0.8)
    assert ApiUsage(80, 100).reached(0.8)
    with pytest.raises(InvariantViolationError):
        ApiUsage(1, 100).reached(1.5)


@given(st.integers(1, 30), st.floats(0, 0.999))
def test_backoff_is_capped_and_jittered(retry: int, jitter: float) -> None:
    policy = BackoffPolicy(base_s=0.5, cap_s=30)
    delay = policy.delay(retry, jitter)
    assert 0 <= delay <= 30
    assert delay == pytest.approx(min(30, 0.5 * 2 ** (retry - 1)) * jitter)
