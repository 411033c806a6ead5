"""Rate limiter: counts a caller's requests per window in a store every API process shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["RateLimitDecision", "RateLimiter"]


@dataclass(frozen=True, kw_only=True)
class RateLimitDecision:
    """The outcome of one counted request: whether it may go on, and what is left of the window."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the window ends and the count starts again (at least 1)


class RateLimiter(Protocol):
    async def hit(self, bucket: str, subject: str, limit: int, window_seconds: int) -> RateLimitDecision:
        """Count one request of `subject` in `bucket` (e.g. "api" per principal, "login" per client IP).

        Raises DependencyUnavailableError when the shared count cannot be reached.
        """
        ...
