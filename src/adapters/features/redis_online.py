"""RedisOnlineFeatureStore: one value per customer, a generation pointer, MGET reads, pipelined writes.

Keys (built only by `FeatureKeys`):
- `xsell:features:{feature set}:served` -> {"generation", "as_of", "families"} of the served build;
- `xsell:features:{feature set}:{generation}:{customer}` -> msgpack [numbers, labels, pair_numbers], the
  numbers packed by `vector_codec` exactly as the offline store keeps them.
A build writes a new generation, then moves the pointer, so readers never see half of one build mixed
with another; the previous generation expires shortly after.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

import msgspec
from redis.asyncio import Redis

from adapters.features.vector_codec import pack, unpack
from application.features.model import FeatureBatch, FeatureVector

__all__ = ["FeatureKeys", "RedisOnlineFeatureStore"]


class _Served(msgspec.Struct, frozen=True):
    generation: str
    as_of: date
    families: tuple[str, ...]


_Value = tuple[bytes, list[str | None], bytes]


class FeatureKeys:
    """The one place that names feature keys in Redis."""

    def __init__(self, namespace: str = "xsell") -> None:
        self._prefix = f"{namespace}:features"

    def served(self, feature_set_version: str) -> str:
        return f"{self._prefix}:{feature_set_version}:served"

    def vector(self, feature_set_version: str, generation: str, customer_id: str) -> str:
        return f"{self._prefix}:{feature_set_version}:{generation}:{customer_id}"

    def generation_pattern(self, feature_set_version: str, generation: str) -> str:
        return f"{self._prefix}:{feature_set_version}:{generation}:*"


class RedisOnlineFeatureStore:
    def __init__(
        self, client: Redis, keys: FeatureKeys | None = None, chunk: int = 2_000, retire_seconds: int = 300
    ) -> None:
        self._client = client
        self._keys = keys or FeatureKeys()
        self._chunk = chunk
        self._retire_seconds = retire_seconds
        self._encoder = msgspec.msgpack.Encoder()

    async def _served(self, feature_set_version: str) -> _Served | None:
        raw = await self._client.get(self._keys.served(feature_set_version))
        return None if raw is None else msgspec.json.decode(raw, type=_Served)

    async def served_as_of(self, feature_set_version: str) -> date | None:
        served = await self._served(feature_set_version)
        return None if served is None else served.as_of

    async def publish(self, batch: FeatureBatch) -> bool:
        version = batch.layout.feature_set_version
        previous = await self._served(version)
        if previous is not None and previous.as_of > batch.as_of:
            return False
        generation = f"{batch.as_of.isoformat()}.{uuid.uuid4().hex[:8]}"
        n = len(batch.customer_ids)
        for start in range(0, n, self._chunk):
            async with self._client.pipeline(transaction=False) as pipe:
                for row in range(start, min(start + self._chunk, n)):
                    value = (
                        pack(batch.numbers[row]),
                        batch.labels[row].tolist(),
                        pack(batch.pair_numbers[row]),
                    )
                    pipe.set(
                        self._keys.vector(version, generation, batch.customer_ids[row]),
                        self._encoder.encode(value),
                    )
                await pipe.execute()
        # Two builds racing for the pointer: the later write wins. Builds run one at a time (one worker
        # queue, or an operator), so a compare-and-set script is not worth its complexity here.
        served = _Served(generation, batch.as_of, batch.families)
        await self._client.set(self._keys.served(version), msgspec.json.encode(served))
        if previous is not None:
            await self._retire(version, previous.generation)
        return True

    async def _retire(self, feature_set_version: str, generation: str) -> None:
        # Readers that fetched the old pointer a moment ago still find their values for a while.
        pattern = self._keys.generation_pattern(feature_set_version, generation)
        batch: list[bytes] = []
        async for key in self._client.scan_iter(match=pattern, count=self._chunk):
            batch.append(key)
            if len(batch) >= self._chunk:
                await self._expire(batch)
                batch = []
        await self._expire(batch)

    async def _expire(self, keys: list[bytes]) -> None:
        if not keys:
            return
        async with self._client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.expire(key, self._retire_seconds)
            await pipe.execute()

    async def read(self, feature_set_version: str, customer_ids: Sequence[str]) -> list[FeatureVector | None]:
        served = await self._served(feature_set_version)
        if served is None or not customer_ids:
            return [None] * len(customer_ids)
        keys = [self._keys.vector(feature_set_version, served.generation, c) for c in customer_ids]
        result: list[FeatureVector | None] = []
        for start in range(0, len(keys), self._chunk):
            raws = await self._client.mget(keys[start : start + self._chunk])
            for customer_id, raw in zip(customer_ids[start : start + self._chunk], raws, strict=True):
                if raw is None:
                    result.append(None)
                    continue
                numbers, labels, pairs = msgspec.msgpack.decode(raw, type=_Value)
                result.append(
                    FeatureVector(
                        customer_id=customer_id,
                        as_of=served.as_of,
                        families=served.families,
                        numbers=unpack(numbers),
                        labels=tuple(labels),
                        pair_numbers=unpack(pairs),
                    )
                )
        return result
