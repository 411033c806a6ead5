"""Liveness (/health) and readiness (/ready) endpoints for load balancers and orchestrators."""

from __future__ import annotations

from dishka.integrations.litestar import FromDishka, inject
from litestar import Response, get

from application.readiness import CheckReadiness
from entrypoints.http.schemas import HealthOut, ReadinessOut

__all__ = ["health", "ready"]


@get("/health", summary="Liveness", description="200 while the process runs.", tags=["operations"])
async def health() -> HealthOut:
    return HealthOut(status="ok")


@get(
    "/ready",
    summary="Readiness",
    description="200 when PostgreSQL and Redis answer; 503 with the reason for each failing dependency.",
    tags=["operations"],
)
@inject
async def ready(use_case: FromDishka[CheckReadiness]) -> Response[ReadinessOut]:
    result = await use_case.execute()
    return Response(
        ReadinessOut(ready=result.ready, checks=result.checks), status_code=200 if result.ready else 503
    )
