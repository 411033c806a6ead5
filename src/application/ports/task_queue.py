"""TaskQueue: hands the work waiting in the outbox (sync, resolve, train, score) to background workers."""

from __future__ import annotations

from typing import Protocol

__all__ = ["TaskQueue"]


class TaskQueue(Protocol):
    async def send_pending(self, limit: int = 100) -> int:
        """Send up to `limit` messages of the outbox that were not sent yet, oldest first, and mark them
        sent; returns how many were sent. Raises DependencyUnavailableError when the queue (or the database)
        cannot be reached: the messages not sent wait for the next call."""
        ...
