"""The mend of Panel's write queue (entrypoints/dashboard/panel_writes.py), on Panel's own dispatch code:
messages left waiting after the write flag was dropped are written by the next dispatch."""

from __future__ import annotations

from typing import Any

import pytest
from panel.io import document

from entrypoints.dashboard.panel_writes import mend_panel_writes


class _Doc:
    """Stands for a Bokeh Document: Panel's queues key on it (weakly)."""


class _Socket:
    def __init__(self) -> None:
        self.written: list[Any] = []


class _Connection:
    def __init__(self) -> None:
        self._socket = _Socket()


def _write(connection: _Connection, msg: Any) -> list[Any]:
    connection._socket.written.append(msg)
    return []  # written at once: no futures to wait for


@pytest.fixture
def connection(monkeypatch: pytest.MonkeyPatch) -> _Connection:
    # Panel looks up a writer by the socket's type. The dispatch as Panel has it (unmended, whatever ran
    # before) is what the test starts from, and what is left after it.
    monkeypatch.setitem(document.extra_socket_handlers, _Socket, _write)
    unmended = getattr(document._dispatch_msgs, "__wrapped__", document._dispatch_msgs)
    monkeypatch.setattr(document, "_dispatch_msgs", unmended)
    return _Connection()


async def test_messages_left_waiting_without_the_flag_are_written_by_the_next_dispatch(
    connection: _Connection,
) -> None:
    doc = _Doc()
    # The state the race leaves: a message waits, and the task that wrote before dropped the flag.
    document._WRITE_MSGS[doc] = {connection: ["the page asked for"]}
    assert doc not in document._WRITE_BLOCK
    await document._dispatch_msgs(doc)
    assert connection._socket.written == [], "this Panel writes waiting messages by itself: drop the mend"

    assert mend_panel_writes()
    await document._dispatch_msgs(doc)
    assert connection._socket.written == ["the page asked for"]
    assert doc not in document._WRITE_MSGS and doc not in document._WRITE_BLOCK
    # Nothing waiting: a dispatch writes nothing and leaves no flag behind.
    await document._dispatch_msgs(doc)
    assert connection._socket.written == ["the page asked for"]
    assert doc not in document._WRITE_BLOCK
    assert mend_panel_writes(), "a second install keeps the first"
    assert not hasattr(document._dispatch_msgs.__wrapped__, "__wrapped__")
