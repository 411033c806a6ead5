"""Rate limiter on Redis: a fixed window per (bucket, subject), counted by one Lua script (EVALSHA).

The count lives in Redis, so every API process shares it: with W processes a client still gets the limit,
not W times the limit. The script increments and sets the expiry in one atomic step, so a crash between
the two cannot leave a counter that never expires, and two processes never both see the first hit.
`RedisAdmissionGate` runs the same count for an authenticated request and reads the auth version in the
same script: one round trip where a request would otherwise make two.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from redis.asyncio import Redis
from redis.exceptions import RedisError

from adapters.cache.redis_cache import VERSION_OF, LuaScript, bounded
from adapters.observability.tracing import client_span
from application.auth.ports import GateAnswer
from application.errors import DependencyUnavailableError
from application.ports.rate_limit import RateLimitDecision

__all__ = ["API_BUCKET", "RedisAdmissionGate", "RedisRateLimiter"]

API_BUCKET = "api"  # authenticated requests, per token subject

# KEYS[1]: the counter; ARGV[1]: window in ms. Returns {count, ms until the window ends}.
_COUNT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if count == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
"""
_HIT = _COUNT + "return {count, ttl}"
# KEYS[2]: the auth version, KEYS[3...]: watched versions (read as `RedisGeneration` reads them).
# Returns {count, ms left, auth version, watched versions...}.
_ENTER = (
    VERSION_OF
    + _COUNT
    + """
local answer = {count, ttl}
for i = 2, #KEYS do
  answer[#answer + 1] = version_of(KEYS[i])
end
return answer
"""
)
_log = logging.getLogger("xsell.cache")


def _decision(count: object, ttl_ms: object, limit: int) -> RateLimitDecision:
    counted, left_ms = int(str(count)), int(str(ttl_ms))
    return RateLimitDecision(
        allowed=counted <= limit,
        limit=limit,
        remaining=max(0, limit - counted),
        reset_seconds=max(1, -(-left_ms // 1000)),
    )


def rate_limit_key(namespace: str, bucket: str, subject: str) -> str:
    """The one place rate-limit keys are built (the limiter's and the admission gate's are the same)."""
    return f"{namespace}:ratelimit:{bucket}:{subject}"


class RedisRateLimiter:
    def __init__(self, client: Redis, namespace: str = "xsell") -> None:
        self._hit = LuaScript(client, _HIT)
        self._namespace = namespace

    async def hit(self, bucket: str, subject: str, limit: int, window_seconds: int) -> RateLimitDecision:
        try:
            with client_span("redis EVALSHA", system="redis", operation="EVALSHA"):
                async with bounded():
                    count, ttl_ms = await self._hit(
                        [rate_limit_key(self._namespace, bucket, subject)], [window_seconds * 1000]
                    )
        except (RedisError, OSError) as exc:
            raise DependencyUnavailableError(f"Redis does not answer: {type(exc).__name__}") from exc
        return _decision(count, ttl_ms, limit)


class RedisAdmissionGate:
    """`AdmissionGate` on Redis: the authenticated request's count (bucket `api`, keyed like
    `RedisRateLimiter`'s), the auth version `version_key` and the `watch`ed versions (name: key), in one
    script."""

    def __init__(
        self,
        client: Redis,
        version_key: str,
        watch: Mapping[str, str] | None = None,
        namespace: str = "xsell",
    ) -> None:
        self._enter = LuaScript(client, _ENTER)
        self._namespace = namespace
        self._version_key = version_key
        self._watch = dict(watch or {})

    async def enter(self, subject: str, limit: int, window_seconds: int) -> GateAnswer:
        keys = [
            rate_limit_key(self._namespace, API_BUCKET, subject),
            self._version_key,
            *self._watch.values(),
        ]
        try:
            with client_span("redis EVALSHA", system="redis", operation="EVALSHA"):
                async with bounded():
                    count, ttl_ms, version, *watched = await self._enter(keys, [window_seconds * 1000])
        except (RedisError, OSError) as exc:
            _log.debug("request not counted, versions not read: %s", type(exc).__name__)
            return GateAnswer(decision=None, version=None)
        return GateAnswer(
            decision=_decision(count, ttl_ms, limit),
            version=bytes(version).decode(),
            watched={name: bytes(value).decode() for name, value in zip(self._watch, watched, strict=True)},
        )
