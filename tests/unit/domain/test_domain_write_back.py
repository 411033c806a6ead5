"""WriteBack: what a write-back record accepts, and how its status moves."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.errors import InvalidIdError, InvariantViolationError
from domain.ids import SalesforceId
from domain.write_back import WriteBack, WriteBackKind, WriteBackStatus, check_idempotency_key

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)
ACCOUNT = SalesforceId.parse("001000000000001").value


def _write_back(**changes: object) -> WriteBack:
    values: dict[str, object] = {
        "recommendation_id": "r1",
        "kind": "task",
        "idempotency_key": "k-1",
        "org_id": "emea",
        "account_id": ACCOUNT[:15],
        "requested_by": "ana@example.com",
        "created_at": AT,
    }
    return WriteBack(**(values | changes))  # type: ignore[arg-type]


def test_a_new_write_back_is_pending_with_an_18_character_account_and_a_marker_of_its_own() -> None:
    write_back = _write_back()
    assert write_back.kind is WriteBackKind.TASK and write_back.status is WriteBackStatus.PENDING
    assert write_back.account_id == ACCOUNT
    assert write_back.marker == f"[xsell write-back {write_back.id}]" != _write_back().marker


@pytest.mark.parametrize("key", ["", "x" * 201, "new\nline", "café"])
def test_an_idempotency_key_is_1_to_200_printable_ascii_characters(key: str) -> None:
    with pytest.raises(InvariantViolationError):
        check_idempotency_key(key)
    assert check_idempotency_key("x" * 200) == "x" * 200


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"recommendation_id": " "}, InvariantViolationError),
        ({"kind": "email"}, ValueError),
        ({"account_id": "not-an-id"}, InvalidIdError),
        ({"created_at": datetime(2026, 3, 1)}, InvariantViolationError),  # naive: no zone
    ],
)
def test_malformed_write_backs_are_refused(changes: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        _write_back(**changes)


def test_success_stores_the_id_and_ends_the_attempt_and_a_failure_keeps_it_retryable() -> None:
    write_back = _write_back(attempted_at=AT)
    write_back.give_up("503 SERVER_UNAVAILABLE", permanent=False)
    assert (write_back.status, write_back.attempted_at) == (WriteBackStatus.PENDING, None)
    write_back.give_up("rejected (400 REQUIRED_FIELD_MISSING)", permanent=True)
    assert write_back.status is WriteBackStatus.FAILED and write_back.error is not None
    write_back.succeed("00T000000000001", AT)
    assert write_back.is_done and write_back.error is None and write_back.done_at == AT
    assert write_back.salesforce_id == SalesforceId.parse("00T000000000001").value
    with pytest.raises(InvariantViolationError):
        write_back.give_up("late", permanent=False)
    with pytest.raises(InvalidIdError):
        _write_back().succeed("nope", AT)
