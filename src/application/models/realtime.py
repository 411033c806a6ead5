"""ScoreCustomerNow: one customer's offers on demand, from the online feature store, with reasons.

Nothing is written: this answers "what would we offer this customer right now", for the API and the
dashboard. The serving models are loaded once per process (`ServingModels`), checksums verified.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import numpy as np

from application.errors import InvalidRequestError
from application.features.model import FeatureBatch
from application.features.ports import FeatureRegistry, OnlineFeatureStore
from application.models.dataset import CandidateSet
from application.models.ports import ModelTrainer, TrainedModel
from application.models.reasons import feature_reasons
from application.models.registry import ModelRegistry
from domain.errors import NotFoundError
from domain.model_version import ModelStage, ModelVersion
from domain.recommendation import Arm, Reason

__all__ = ["LiveOffer", "ScoreCustomerNow", "ServingModels"]

# Per-family features that rule a family out on the spot: owned, or a deal of it open or lost at the
# served cutoff. (Batch scoring looks at the lost deal's date; the online vector only counts lost deals,
# so real time is the stricter of the two.)
_RULED_OUT = ("family_owned", "family_open_opportunities", "family_lost_opportunities")


@dataclass(frozen=True)
class LiveOffer:
    family_id: str
    probability: float
    expected_value: float  # in the deal size's record currency, like the expected_deal_size feature
    model_version_id: str
    arm: Arm
    reasons: tuple[Reason, ...]


class ServingModels:
    """The loaded champion and challenger of this process, reloaded when the registry's stages change."""

    def __init__(self, registry: ModelRegistry, trainer: ModelTrainer) -> None:
        self._registry = registry
        self._trainer = trainer
        self._loaded: dict[str, TrainedModel] = {}
        self._lock = asyncio.Lock()

    async def current(self) -> dict[Arm, tuple[ModelVersion, TrainedModel]]:
        """Raises InvalidRequestError when nothing serves; ChecksumMismatchError for altered artifacts."""
        versions = await self._registry.all()
        serving = {
            Arm.CHAMPION: next((v for v in versions if v.stage is ModelStage.CHAMPION), None),
            Arm.CHALLENGER: next((v for v in versions if v.stage is ModelStage.CHALLENGER), None),
        }
        if serving[Arm.CHAMPION] is None:
            raise InvalidRequestError("no model serves yet: train one with `xsell train` first")
        out: dict[Arm, tuple[ModelVersion, TrainedModel]] = {}
        async with self._lock:
            for arm, version in serving.items():
                if version is None:
                    continue
                if version.id not in self._loaded:
                    files = await self._registry.artifacts(version.id)
                    for name in version.artifacts:
                        if name not in files:
                            raise InvalidRequestError(f"model {version.id} lacks artifact {name}; retrain it")
                        version.verify_artifact(name, files[name])
                    self._loaded[version.id] = await asyncio.to_thread(self._trainer.load, files)
                out[arm] = (version, self._loaded[version.id])
            # Keep only what serves now, so a retired model's memory is released.
            for stale in set(self._loaded) - {v.id for v, _ in out.values()}:
                del self._loaded[stale]
        return out


class ScoreCustomerNow:
    def __init__(
        self,
        features: FeatureRegistry,
        online: OnlineFeatureStore,
        registry: ModelRegistry,
        models: ServingModels,
        family_names: dict[str, str] | None = None,
    ) -> None:
        self._features = features
        self._online = online
        self._registry = registry
        self._models = models
        self._family_names = family_names or {}

    async def execute(self, customer_id: str, *, limit: int = 5) -> list[LiveOffer]:
        """The customer's best offers by expected value, at most `limit`.

        Raises NotFoundError when the customer has no served features (unknown, or features not built
        since it appeared); InvalidRequestError when no model serves or `limit` is outside 1..12.
        """
        if not 1 <= limit <= 12:
            raise InvalidRequestError(f"offers per customer are 1 to 12, got {limit}")
        layout = self._features.layout()
        (vector,) = await self._online.read(layout.feature_set_version, [customer_id])
        if vector is None:
            raise NotFoundError(f"no served features for customer {customer_id!r}; build features first")
        serving = await self._models.current()
        policy = await self._registry.serving_policy()
        arm = policy.arm_for(customer_id, has_challenger=Arm.CHALLENGER in serving)
        version, model = serving[arm]

        def number(value: float | None) -> float:
            return np.nan if value is None else value

        families = vector.families
        width = len(layout.pair_numbers)
        pairs = np.array([number(v) for v in vector.pair_numbers], dtype=np.float64).reshape(
            len(families), width
        )
        batch = FeatureBatch(
            as_of=vector.as_of,
            layout=layout,
            customer_ids=(customer_id,),
            families=families,
            numbers=np.array([[number(v) for v in vector.numbers]], dtype=np.float64),
            labels=np.array([list(vector.labels)], dtype=object),
            pair_numbers=pairs[np.newaxis],
        )
        candidates = CandidateSet.from_batch(batch)
        blocked = np.zeros(len(candidates), dtype=bool)
        for name in _RULED_OUT:
            if name in layout.pair_numbers:
                blocked |= np.nan_to_num(candidates.number(name)) > 0
        candidates = candidates.take(np.flatnonzero(~blocked))
        if not len(candidates):
            return []
        probability = await asyncio.to_thread(model.predict, candidates)
        deal = np.nan_to_num(candidates.number("expected_deal_size")).clip(min=0.0)
        confidence = np.nan_to_num(candidates.number("match_confidence"), nan=1.0).clip(0.0, 1.0)
        value = probability * deal * confidence
        order = np.lexsort((-probability, -value))[:limit]
        chosen = candidates.take(order)
        explanation = await asyncio.to_thread(model.explain, chosen)
        reasons = feature_reasons(explanation, chosen, family_names=self._family_names, top=3)
        return [
            LiveOffer(
                family_id=families[int(chosen.family[i])],
                probability=float(probability[order[i]]),
                expected_value=round(float(value[order[i]]), 2),
                model_version_id=version.id,
                arm=arm,
                reasons=reasons[i],
            )
            for i in range(len(order))
        ]
