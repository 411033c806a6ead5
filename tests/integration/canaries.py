"""Canary secrets and the scan that looks for them in logs, HTTP responses and Redis (queues, dead letters).

The integration tests sign users in with `CANARY_PASSWORD` and connect orgs with `CANARY_CRM_SECRET`
(through tests/integration/api_support.py), so a secret that leaks anywhere the scan looks is found by
its distinctive text. conftest.py feeds the scan: every test's captured output and log records, every
response the api_support clients receive, and every Redis key after each test that used Redis.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import quote, quote_plus

import redis

__all__ = ["CANARIES", "CANARY_CRM_SECRET", "CANARY_PASSWORD", "CanaryScan", "Leak"]

CANARY_PASSWORD = "canary-pw-Q7zK2vXr9Lm4-never-shown"
CANARY_CRM_SECRET = "canary-sf-secret-W3nT8pYc5Hd1-never-shown"


@dataclasses.dataclass(frozen=True)
class Leak:
    canary: str  # which one (its name, not its text)
    where: str  # "log", "response", "redis" and a place: the test, the URL, the key


class CanaryScan:
    """Collects every place a canary was seen; `leaks` stays empty when no secret got out."""

    def __init__(self, canaries: dict[str, str] | None = None) -> None:
        named = canaries or {"CANARY_PASSWORD": CANARY_PASSWORD, "CANARY_CRM_SECRET": CANARY_CRM_SECRET}
        # The raw text and its URL-encoded forms (a secret in a query string or a form body).
        self._needles = {
            name: {form.encode() for form in (text, quote(text), quote_plus(text))}
            for name, text in named.items()
        }
        self.leaks: list[Leak] = []
        self.scanned = 0  # how many texts were searched

    def scan(self, where: str, data: str | bytes) -> list[Leak]:
        """Records and returns the canaries `data` holds, found at `where`."""
        self.scanned += 1
        raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
        found = [
            Leak(name, where) for name, forms in self._needles.items() if any(form in raw for form in forms)
        ]
        self.leaks += found
        return found

    def scan_response(self, where: str, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        head = b"\n".join(name + b": " + value for name, value in headers)
        self.scan(f"response {status} {where}", head + b"\n\n" + body)

    def scan_redis(self, redis_url: str, where: str) -> None:
        """Every key of the Redis: dramatiq's queues, delayed queues and dead letters, caches, counters."""
        client = redis.Redis.from_url(redis_url)
        try:
            for key in client.scan_iter(count=500):
                for value in _values(client, key):
                    self.scan(f"redis {key.decode(errors='replace')} ({where})", value)
        finally:
            client.close()


def _values(client: redis.Redis, key: bytes) -> list[bytes]:
    kind = client.type(key)
    values: list[bytes]
    if kind == b"string":
        values = [client.get(key) or b""]
    elif kind == b"list":
        values = list(client.lrange(key, 0, -1))
    elif kind == b"hash":
        values = [part for pair in client.hgetall(key).items() for part in pair]
    elif kind == b"set":
        values = list(client.smembers(key))
    elif kind == b"zset":
        values = list(client.zrange(key, 0, -1))
    else:  # a stream or a key that expired between SCAN and TYPE
        values = []
    return [key, *values]


CANARIES = CanaryScan()
