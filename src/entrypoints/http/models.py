"""/api/v1/models (admins and analysts read, admins change) and /api/v1/features (definitions)."""

from __future__ import annotations

from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from application.features import ListFeatureDefinitions
from application.models.registry import ListModels, PromoteModel, RollBackModel, SetServingPolicy, ShowModel
from domain.access import Principal
from entrypoints.http.model_schemas import (
    ArmOutcomeOut,
    FeatureDefinitionOut,
    FeaturesOut,
    ModelDetailOut,
    ModelListOut,
    ModelOut,
    PromoteIn,
    RollBackIn,
    RollBackOut,
    ServingPolicyIn,
    ServingPolicyOut,
)
from entrypoints.http.security import admin_only, admin_or_analyst

__all__ = ["FeatureController", "ModelController"]


class ModelController(Controller):
    """Reads need the admin or analyst role, changes the admin role (403 otherwise)."""

    path = "/models"
    tags = ["models"]  # noqa: RUF012  (Litestar declares it as an instance attribute)
    guards = [admin_or_analyst]  # noqa: RUF012

    @get(
        "/",
        summary="List model versions",
        description="Every version, newest first, with its validation metrics; the A/B policy; acceptance,"
        " conversion and revenue per version and arm (admins only: they count every org).",
    )
    @inject
    async def list_models(
        self, use_case: FromDishka[ListModels], principal: NamedDependency[Principal]
    ) -> ModelListOut:
        versions, policy, outcomes = await use_case.execute()
        return ModelListOut(
            versions=[ModelOut.of(v) for v in versions],
            serving_policy=ServingPolicyOut.of(policy),
            outcomes=[ArmOutcomeOut.of(o) for o in outcomes] if principal.is_admin else [],
        )

    @get(
        "/{model_id:str}",
        summary="Show a model version",
        description="Metrics, training details, artifact checksums and the full stage history. Unknown: 404.",
    )
    @inject
    async def show_model(self, model_id: FromPath[str], use_case: FromDishka[ShowModel]) -> ModelDetailOut:
        version, details = await use_case.execute(model_id)
        return ModelDetailOut.of(version, details)

    @post(
        "/{model_id:str}/promote",
        summary="Promote a model version",
        description="Champion (the serving one is archived in the same transaction) or, with"
        " `challenger: true`, the A/B challenger. A move the stage rules forbid or a concurrent change"
        " answers 409. Admins only.",
        guards=[admin_only],
        status_code=HTTP_200_OK,
    )
    @inject
    async def promote(
        self,
        model_id: FromPath[str],
        data: JSONBody[PromoteIn],
        use_case: FromDishka[PromoteModel],
        principal: NamedDependency[Principal],
    ) -> ModelOut:
        version = await use_case.execute(
            model_id, by=principal.subject, challenger=data.challenger, reason=data.reason
        )
        return ModelOut.of(version)

    @post(
        "/rollback",
        summary="Roll back the champion",
        description="Archive the champion and restore the version that served before it; 400 when there is"
        " none. Admins only.",
        guards=[admin_only],
        status_code=HTTP_200_OK,
    )
    @inject
    async def roll_back(
        self,
        use_case: FromDishka[RollBackModel],
        principal: NamedDependency[Principal],
        data: JSONBody[RollBackIn | None] = None,
    ) -> RollBackOut:
        archived, restored = await use_case.execute(
            by=principal.subject, reason=None if data is None else data.reason
        )
        return RollBackOut(archived=ModelOut.of(archived), restored=ModelOut.of(restored))

    @put(
        "/ab",
        summary="Set the A/B split",
        description="The challenger's share of customers (0-0.5) and optionally a new salt. Admins only.",
        guards=[admin_only],
    )
    @inject
    async def set_ab(
        self,
        data: JSONBody[ServingPolicyIn],
        use_case: FromDishka[SetServingPolicy],
        principal: NamedDependency[Principal],
    ) -> ServingPolicyOut:
        policy = await use_case.execute(
            challenger_share=data.challenger_share, salt=data.salt, by=principal.subject
        )
        return ServingPolicyOut.of(policy)


class FeatureController(Controller):
    path = "/features"
    tags = ["features"]  # noqa: RUF012  (Litestar declares it as an instance attribute)

    @get(
        "/",
        summary="List feature definitions",
        description="The feature set the models learn from. Any role.",
    )
    @inject
    async def list_features(self, use_case: FromDishka[ListFeatureDefinitions]) -> FeaturesOut:
        version, definitions = use_case.execute()
        return FeaturesOut(
            feature_set_version=version, features=[FeatureDefinitionOut.of(d) for d in definitions]
        )
