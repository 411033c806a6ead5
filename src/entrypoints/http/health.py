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
    description=(
        "200 when the API can serve: `status` is `ok`, or `degraded` when a Redis is down: `redis` (the "
        "cache's: answers are then uncached and rate limits not counted) or `queue` (REDIS_URL's, listed "
        "when the cache has a Redis of its own: new jobs wait in the outbox). 503 when PostgreSQL is down. "
        "`checks` gives the reason for each failing dependency."
    ),
    tags=["operations"],
)
@inject
async def ready(use_case: FromDishka[CheckReadiness]) -> Response[ReadinessOut]:
    result = await use_case.execute()
    return Response(
        ReadinessOut(ready=result.ready, status=result.status, checks=result.checks),
        status_code=200 if result.ready else 503,
    )
