"""Cache: a byte-value store with expiry, used for online features and hot reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

__all__ = ["Cache", "ChangeNotice", "NoChangeNotice"]


class Cache(Protocol):
    """Keys are built in one place per use (never ad hoc); values are bytes the caller encodes."""

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """Values in the order of `keys`; None where a key is missing or expired."""
        ...

    async def set_many(self, values: Mapping[str, bytes], ttl_seconds: int | None = None) -> None: ...

    async def delete(self, keys: Sequence[str]) -> int:
        """Remove keys; returns how many existed."""
        ...


class ChangeNotice(Protocol):
    """Tells readers that cached views of some data are stale (a scoring run landed, an offer changed)."""

    async def changed(self) -> None:
        """Never raises: a notice that cannot be given leaves caches to expire on their own."""
        ...


class NoChangeNotice:
    async def changed(self) -> None:
        return None
