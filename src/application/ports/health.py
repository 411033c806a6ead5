"""DependencyProbe: one check of a service xsell needs in order to serve (database, Redis)."""

from __future__ import annotations

from typing import Protocol

__all__ = ["DependencyProbe"]


class DependencyProbe(Protocol):
    name: str

    async def check(self) -> None:
        """Return when the dependency answers; raise DependencyUnavailableError with the reason otherwise."""
        ...
