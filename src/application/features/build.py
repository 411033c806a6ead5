"""BuildFeatures: compute every feature once as of a cutoff and fill the offline and online stores."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from application.errors import InvalidRequestError
from application.features.ports import (
    FeatureRegistry,
    FeatureSource,
    OfflineFeatureStore,
    OnlineFeatureStore,
)
from application.ports.clock import Clock

__all__ = ["BuildFeatures", "BuildReport"]


@dataclass(frozen=True)
class BuildReport:
    as_of: date
    feature_set_version: str
    customers: int
    families: int
    features: int
    served_online: bool
    seconds: float


class BuildFeatures:
    """One computation, two stores: training and serving can never see different values for a cutoff."""

    def __init__(
        self,
        source: FeatureSource,
        registry: FeatureRegistry,
        offline: OfflineFeatureStore,
        online: OnlineFeatureStore,
        clock: Clock,
    ) -> None:
        self._source = source
        self._registry = registry
        self._offline = offline
        self._online = online
        self._clock = clock

    async def execute(
        self, as_of: date, *, publish: bool = True, on_step: Callable[[str], None] | None = None
    ) -> BuildReport:
        """Build features as of the end of `as_of`.

        With `publish` the batch also goes online, unless a later cutoff is already served (backfills for
        training must not replace what serving uses). Raises InvalidRequestError for a future cutoff.
        """
        if as_of > self._clock.now().date():
            raise InvalidRequestError(f"as-of {as_of} is in the future; features exist only for the past")
        step = on_step or (lambda _: None)
        started = time.monotonic()
        step("reading records known at the cutoff")
        inputs = await self._source.load(as_of)
        step("computing features")
        # pandas/numpy release the GIL for most of this; a thread keeps the event loop responsive.
        batch = await asyncio.to_thread(self._registry.compute, inputs)
        step("writing the offline store")
        await self._offline.write(batch, self._registry.definitions())
        served = False
        if publish:
            step("publishing to the online store")
            served = await self._online.publish(batch)
        return BuildReport(
            as_of=as_of,
            feature_set_version=batch.layout.feature_set_version,
            customers=len(batch.customer_ids),
            families=len(batch.families),
            features=len(self._registry.definitions()),
            served_online=served,
            seconds=time.monotonic() - started,
        )
