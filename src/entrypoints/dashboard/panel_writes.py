"""A mend for a race in Panel's websocket writes that can leave a browser without its last update.

Panel (1.9) sends changes made outside Bokeh's document lock (every coroutine callback here) through its
own queue: while a write is under way, further changes wait as messages in `_WRITE_MSGS`, and a task,
`_dispatch_msgs`, writes them. That task returns at once when the document's `_WRITE_BLOCK` flag is
gone. The flag is dropped by the task that was already writing, once its own messages are out; when it
resumes before the task scheduled for the newer messages runs, those messages are left waiting. Nothing
sends them until some other change comes along. On the Opportunities page that was the page the user
asked for: Previous showed a spinner for good, with the rows already fetched (seen on a loaded machine
in a browser test: 2 runs in about 20 with a CPU hog beside them).

The mend: messages that are waiting are a reason to write, whatever the flag says. `mend_panel_writes`
wraps `_dispatch_msgs` so that it raises the flag first whenever messages wait; Panel's own code then
writes them and drops the flag as it always does.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from panel.io import document

__all__ = ["mend_panel_writes"]

_log = logging.getLogger("xsell.dashboard")


def mend_panel_writes() -> bool:
    """Install the mend once per process; False (and a warning) where this Panel has no such queue."""
    dispatch: Callable[[Any], Awaitable[None]] | None = getattr(document, "_dispatch_msgs", None)
    waiting = getattr(document, "_WRITE_MSGS", None)
    block = getattr(document, "_WRITE_BLOCK", None)
    if dispatch is None or waiting is None or block is None:
        _log.warning("this Panel version writes differently; the websocket write mend is not installed")
        return False
    if getattr(dispatch, "mended", False):
        return True

    @functools.wraps(dispatch)
    async def dispatch_waiting(doc: Any) -> None:
        if waiting.get(doc):
            block[doc] = True
        await dispatch(doc)

    dispatch_waiting.mended = True  # type: ignore[attr-defined]
    document._dispatch_msgs = dispatch_waiting
    return True
