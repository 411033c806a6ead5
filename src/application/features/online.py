"""GetOnlineFeatures: the served feature values of some customers, with names, for real-time scoring."""

from __future__ import annotations

from collections.abc import Sequence

from application.errors import InvalidRequestError
from application.features.model import CustomerFeatures
from application.features.ports import FeatureRegistry, OnlineFeatureStore

__all__ = ["GetOnlineFeatures"]


class GetOnlineFeatures:
    def __init__(
        self, registry: FeatureRegistry, online: OnlineFeatureStore, max_customers: int = 1000
    ) -> None:
        self._registry = registry
        self._online = online
        self._max = max_customers

    async def execute(self, customer_ids: Sequence[str]) -> dict[str, CustomerFeatures]:
        """Features of the current feature set by customer id; customers without served values are absent.

        Raises InvalidRequestError for more than `max_customers` ids at once.
        """
        if len(customer_ids) > self._max:
            raise InvalidRequestError(f"at most {self._max} customers per request, got {len(customer_ids)}")
        layout = self._registry.layout()
        vectors = await self._online.read(layout.feature_set_version, list(customer_ids))
        return {
            vector.customer_id: CustomerFeatures.named(layout, vector)
            for vector in vectors
            if vector is not None
        }
