"""Domain events are immutable, past-tense facts stamped in UTC."""

from __future__ import annotations

import dataclasses
import inspect
import re
from datetime import UTC, datetime

import pytest

import domain.events as events_module
from domain.account import AccountKey
from domain.errors import InvariantViolationError
from domain.events import CustomersMerged, Event

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def test_events_are_frozen() -> None:
    event = CustomersMerged(
        occurred_at=T0,
        change_id="m1",
        survivor_id="a",
        absorbed_id="b",
        accounts=(AccountKey("x", "1"),),
        decided_by="ann",
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.survivor_id = "c"  # type: ignore[misc]


def test_events_are_stamped_in_utc() -> None:
    with pytest.raises(InvariantViolationError):
        CustomersMerged(
            occurred_at=datetime(2025, 1, 1),
            change_id="m1",
            survivor_id="a",
            absorbed_id="b",
            accounts=(),
            decided_by="ann",
        )


def test_every_event_is_named_in_the_past_tense() -> None:
    classes = [
        cls
        for _, cls in inspect.getmembers(events_module, inspect.isclass)
        if issubclass(cls, Event) and cls is not Event
    ]
    assert len(classes) == 12
    assert sorted(cls.__name__ for cls in classes) == sorted(set(events_module.__all__) - {"Event"})
    for cls in classes:
        words = re.findall(r"[A-Z][a-z]*", cls.__name__)
        assert any(w.endswith("ed") or w in {"Split", "Lost", "Left", "Undone"} for w in words), cls.__name__
