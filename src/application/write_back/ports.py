"""What write-backs need from storage: their own records (each change committed at once) and names."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.write_back import WriteBack

__all__ = ["FamilyNames", "WriteBackRepository"]


class WriteBackRepository(Protocol):
    """Every method is its own transaction: the protocol relies on the pending row being committed
    before the CRM is called, and on the CRM id being committed right after."""

    async def add(self, write_back: WriteBack) -> bool:
        """Store a new write-back. Returns False, storing nothing, when its idempotency key or its
        (recommendation, kind) is taken already (by a concurrent request, say)."""
        ...

    async def with_key(self, idempotency_key: str) -> WriteBack | None: ...

    async def of_recommendation(self, recommendation_id: str) -> list[WriteBack]:
        """Oldest first."""
        ...

    async def claim(self, write_back_id: UUID, *, at: datetime, stale_before: datetime) -> WriteBack | None:
        """Start an attempt: set `attempted_at` to `at` when the write-back is not done and no attempt
        started after `stale_before` is under way. Returns the write-back as stored then, or None when it
        is done or another attempt holds it."""
        ...

    async def save(self, write_back: WriteBack) -> None:
        """Store its status, CRM id, error and attempt times."""
        ...


class FamilyNames(Protocol):
    async def family_names(self) -> dict[str, str]:
        """Product family id -> display name."""
        ...
