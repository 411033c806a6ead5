"""Wire types of the model registry (versions, stage history, A/B policy, per-arm outcomes) and features."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from application.models.registry import ArmOutcome
from domain.feature_definition import FeatureDefinition
from domain.model_version import ModelStage, ModelVersion, StageChange
from domain.serving import ServingPolicy

__all__ = [
    "ArmOutcomeOut",
    "FeatureDefinitionOut",
    "FeaturesOut",
    "ModelDetailOut",
    "ModelListOut",
    "ModelOut",
    "PromoteIn",
    "RollBackIn",
    "RollBackOut",
    "ServingPolicyIn",
    "ServingPolicyOut",
    "StageChangeOut",
]

_VERSION_ID = msgspec.Meta(description="Model version id.", examples=["m-20260301-1200"])
_REASON = msgspec.Meta(
    max_length=1000, description="Why (kept in the history).", examples=["Better MAP@5 on 2026-Q1"]
)
Share = Annotated[
    float,
    msgspec.Meta(
        ge=0, le=0.5, description="Share of customers the challenger scores (0-0.5).", examples=[0.2]
    ),
]


class StageChangeOut(msgspec.Struct, frozen=True, kw_only=True):
    """One move of a version between candidate, challenger, champion and archived."""

    from_stage: Annotated[ModelStage | None, msgspec.Meta(examples=["candidate"])]
    to_stage: Annotated[ModelStage, msgspec.Meta(examples=["champion"])]
    by: Annotated[str, msgspec.Meta(examples=["ana@example.com"])]
    at: datetime
    reason: Annotated[str, _REASON] | None = None

    @classmethod
    def of(cls, change: StageChange) -> StageChangeOut:
        return cls(
            from_stage=change.from_stage,
            to_stage=change.to_stage,
            by=change.by,
            at=change.at,
            reason=change.reason,
        )


class ModelOut(msgspec.Struct, frozen=True, kw_only=True):
    """A registered model version and its validation metrics."""

    id: Annotated[str, _VERSION_ID]
    stage: Annotated[
        ModelStage,
        msgspec.Meta(description="candidate, challenger, champion or archived.", examples=["champion"]),
    ]
    algorithms: Annotated[list[str], msgspec.Meta(examples=[["lightgbm", "mlp", "random_forest", "xgboost"]])]
    feature_set_version: Annotated[str, msgspec.Meta(examples=["fs-3a91c0"])]
    window_start: datetime
    window_end: datetime
    metrics: Annotated[
        dict[str, float | None],
        msgspec.Meta(
            description="Validation metrics (null where undefined).",
            examples=[{"auc": 0.889, "map_at_5": 0.748}],
        ),
    ]
    created_by: Annotated[str, msgspec.Meta(examples=["ana@example.com"])]
    created_at: datetime

    @classmethod
    def of(cls, version: ModelVersion) -> ModelOut:
        return cls(
            id=version.id,
            stage=version.stage,
            algorithms=sorted(version.algorithms),
            feature_set_version=version.feature_set_version,
            window_start=version.training_window.start,
            window_end=version.training_window.end,
            metrics=dict(version.metrics),
            created_by=version.created_by,
            created_at=version.created_at,
        )


class ModelDetailOut(msgspec.Struct, frozen=True, kw_only=True):
    """A version with its training details, artifact checksums and full stage history."""

    model: ModelOut
    details: Annotated[
        dict[str, Any],
        msgspec.Meta(
            description="Cutoffs, horizon, training report, baselines, calibration.",
            examples=[{"horizon_days": 180}],
        ),
    ]
    artifacts: Annotated[
        dict[str, str], msgspec.Meta(description="File name -> SHA-256.", examples=[{"xgboost.ubj": "9f2c…"}])
    ]
    history: list[StageChangeOut]

    @classmethod
    def of(cls, version: ModelVersion, details: dict[str, Any]) -> ModelDetailOut:
        return cls(
            model=ModelOut.of(version),
            details=details,
            artifacts=dict(version.artifacts),
            history=[StageChangeOut.of(c) for c in version.history],
        )


class ServingPolicyOut(msgspec.Struct, frozen=True, kw_only=True):
    """The A/B policy in force: the challenger scores `challenger_share` of customers, by a stable hash."""

    challenger_share: Share
    salt: Annotated[str, msgspec.Meta(description="Changing it reshuffles the arms.", examples=["ab-1"])]

    @classmethod
    def of(cls, policy: ServingPolicy) -> ServingPolicyOut:
        return cls(challenger_share=policy.challenger_share, salt=policy.salt)


class ArmOutcomeOut(msgspec.Struct, frozen=True, kw_only=True):
    """What sales did with one version's offers in one arm, over every org (admins only)."""

    model_version_id: Annotated[str, _VERSION_ID]
    arm: Annotated[str, msgspec.Meta(examples=["champion"])]
    recommendations: Annotated[int, msgspec.Meta(examples=[1200])]
    accepted: int
    dismissed: int
    converted: int
    revenue: Annotated[
        float, msgspec.Meta(description="Converted amounts, summed as recorded.", examples=[250000.0])
    ]
    acceptance_rate: Annotated[float | None, msgspec.Meta(examples=[0.42])]
    conversion_rate: Annotated[float | None, msgspec.Meta(examples=[0.05])]

    @classmethod
    def of(cls, item: ArmOutcome) -> ArmOutcomeOut:
        return cls(
            model_version_id=item.model_version_id,
            arm=item.arm,
            recommendations=item.recommendations,
            accepted=item.accepted,
            dismissed=item.dismissed,
            converted=item.converted,
            revenue=item.revenue,
            acceptance_rate=item.acceptance_rate,
            conversion_rate=item.conversion_rate,
        )


class ModelListOut(msgspec.Struct, frozen=True, kw_only=True):
    """Every version (newest first), the A/B policy, and per-arm outcomes (empty for analysts: the counts
    span every org)."""

    versions: list[ModelOut]
    serving_policy: ServingPolicyOut
    outcomes: list[ArmOutcomeOut]


class PromoteIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Make the version the champion (the serving one is archived), or the A/B challenger."""

    challenger: Annotated[
        bool, msgspec.Meta(description="True: challenger instead of champion.", examples=[False])
    ] = False
    reason: Annotated[str, _REASON] | None = None


class RollBackIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Archive the champion and restore the version that served before it."""

    reason: Annotated[str, _REASON] | None = None


class RollBackOut(msgspec.Struct, frozen=True, kw_only=True):
    archived: ModelOut
    restored: ModelOut


class ServingPolicyIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The A/B split; omit `salt` to keep the current one (customers keep their arms)."""

    challenger_share: Share
    salt: Annotated[str, msgspec.Meta(min_length=1, max_length=100, examples=["ab-2"])] | None = None


class FeatureDefinitionOut(msgspec.Struct, frozen=True, kw_only=True):
    """One versioned feature the models learn from."""

    name: Annotated[str, msgspec.Meta(examples=["family_owned"])]
    version: Annotated[int, msgspec.Meta(examples=[1])]
    entity: Annotated[str, msgspec.Meta(description="customer or customer_family.", examples=["customer"])]
    dtype: Annotated[str, msgspec.Meta(examples=["int"])]
    description: Annotated[
        str, msgspec.Meta(examples=["Product families owned at t (closed-won line items), across all orgs."])
    ]
    owner: Annotated[str, msgspec.Meta(examples=["data-science"])]

    @classmethod
    def of(cls, item: FeatureDefinition) -> FeatureDefinitionOut:
        return cls(
            name=item.name,
            version=item.version,
            entity=item.entity.value,
            dtype=item.dtype.value,
            description=item.description,
            owner=item.owner,
        )


class FeaturesOut(msgspec.Struct, frozen=True, kw_only=True):
    feature_set_version: Annotated[str, msgspec.Meta(examples=["fs-3a91c0"])]
    features: list[FeatureDefinitionOut]
