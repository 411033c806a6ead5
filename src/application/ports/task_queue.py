"""TaskQueue: hands work (sync, resolve, train, score) to background workers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

__all__ = ["TaskQueue"]


class TaskQueue(Protocol):
    async def enqueue(self, job: str, payload: Mapping[str, str | int | float | bool | None]) -> str:
        """Queue a job by name with a small JSON-able payload (ids, never secrets); returns its job id."""
        ...
