"""What every dashboard page is given, and what the dashboard expects of a page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from entrypoints.dashboard.api import ApiSession

__all__ = ["Closable", "Page", "PageContext", "PageFactory"]


@dataclass(frozen=True, slots=True)
class PageContext:
    """The signed-in session's API, and the ways a page hands control back to the dashboard."""

    api: ApiSession
    # Sign out and show the sign-in page with this line (the API refused the session).
    on_session_ended: Callable[[str], Awaitable[None]]
    # Show the Customer page for this customer id.
    open_customer: Callable[[str], Awaitable[None]]
    # How often pages that follow new scores ask the API whether a scoring run landed.
    refresh_s: float = 20.0


class Page(Protocol):
    """A page of the dashboard: its widgets, and `load` to fetch what it shows (called each time it is
    shown)."""

    view: Any

    async def load(self) -> None: ...


@runtime_checkable
class Closable(Protocol):
    """A page that holds something beyond its widgets (a periodic poll) and lets go of it on sign-out."""

    def close(self) -> None: ...


PageFactory = Callable[[PageContext], Page]
