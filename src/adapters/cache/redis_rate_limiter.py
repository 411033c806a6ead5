"""Rate limiter on Redis: a fixed window per (bucket, subject), counted by one Lua script (EVALSHA).

The count lives in Redis, so every API process shares it: with W processes a client still gets the limit,
not W times the limit. The script increments and sets the expiry in one atomic step, so a crash between
the two cannot leave a counter that never expires, and two processes never both see the first hit.
"""

from __future__ import annotations

from redis.asyncio import Redis
from redis.exceptions import RedisError

from adapters.observability.tracing import client_span
from application.errors import DependencyUnavailableError
from application.ports.rate_limit import RateLimitDecision

__all__ = ["RedisRateLimiter"]

# KEYS[1]: the counter; ARGV[1]: window in ms. Returns {count, ms until the window ends}.
_HIT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if count == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


class RedisRateLimiter:
    def __init__(self, client: Redis, namespace: str = "xsell") -> None:
        # register_script sends EVALSHA and falls back to EVAL once when Redis does not know the script.
        self._hit = client.register_script(_HIT)
        self._prefix = f"{namespace}:ratelimit:"

    def key(self, bucket: str, subject: str) -> str:
        """The one place rate-limit keys are built."""
        return f"{self._prefix}{bucket}:{subject}"

    async def hit(self, bucket: str, subject: str, limit: int, window_seconds: int) -> RateLimitDecision:
        try:
            with client_span("redis EVALSHA", system="redis", operation="EVALSHA"):
                count, ttl_ms = await self._hit(
                    keys=[self.key(bucket, subject)], args=[window_seconds * 1000]
                )
        except (RedisError, OSError) as exc:
            raise DependencyUnavailableError(f"Redis does not answer: {type(exc).__name__}") from exc
        count, ttl_ms = int(count), int(ttl_ms)
        return RateLimitDecision(
            allowed=count <= limit,
            limit=limit,
            remaining=max(0, limit - count),
            reset_seconds=max(1, -(-ttl_ms // 1000)),
        )
