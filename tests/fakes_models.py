"""Working in-memory model registry and recommendation store for unit tests."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from application.errors import InvalidRequestError
from application.models.registry import ArmOutcome
from application.models.scoring import OrgInfo, RecommendationBatch
from domain.model_version import ModelVersion
from domain.serving import ServingPolicy


class FakeModelRegistry:
    def __init__(self) -> None:
        self.versions: dict[str, ModelVersion] = {}
        self.files: dict[str, dict[str, bytes]] = {}
        self.extra: dict[str, dict[str, Any]] = {}
        self.policy = ServingPolicy()

    async def add(
        self, version: ModelVersion, artifacts: Mapping[str, bytes], details: Mapping[str, Any]
    ) -> None:
        for name, content in artifacts.items():
            version.verify_artifact(name, content)
        self.versions[version.id] = copy.deepcopy(version)
        self.files[version.id] = dict(artifacts)
        self.extra[version.id] = dict(details)

    async def get(self, version_id: str) -> ModelVersion | None:
        found = self.versions.get(version_id)
        return None if found is None else copy.deepcopy(found)

    async def details(self, version_id: str) -> dict[str, Any]:
        return dict(self.extra.get(version_id, {}))

    async def all(self) -> list[ModelVersion]:
        return [
            copy.deepcopy(v) for v in sorted(self.versions.values(), key=lambda v: v.created_at, reverse=True)
        ]

    async def save_stages(self, versions: list[ModelVersion]) -> None:
        for version in versions:
            stored = self.versions[version.id]
            new = version.history[len(stored.history) :]
            if not new or new[0].from_stage is not stored.stage:
                raise InvalidRequestError(f"model version {version.id} was changed by someone else meanwhile")
        for version in versions:
            stored = self.versions[version.id]
            stored.history = list(version.history)
            stored.stage = version.stage

    async def artifacts(self, version_id: str) -> dict[str, bytes]:
        return dict(self.files.get(version_id, {}))

    async def serving_policy(self) -> ServingPolicy:
        return self.policy

    async def set_serving_policy(self, policy: ServingPolicy, *, by: str) -> None:
        self.policy = policy

    async def arm_outcomes(self) -> list[ArmOutcome]:
        return []


class FakeRecommendationStore:
    def __init__(self, orgs: Mapping[str, OrgInfo], families: Mapping[str, str]) -> None:
        self._orgs = dict(orgs)
        self._families = dict(families)
        self.batches: list[RecommendationBatch] = []
        self.runs: dict[str, dict[str, Any]] = {}
        self.decided: set[tuple[str, str]] = set()

    async def orgs(self) -> dict[str, OrgInfo]:
        return dict(self._orgs)

    async def family_names(self) -> dict[str, str]:
        return dict(self._families)

    async def decided_pairs(self, since: datetime) -> set[tuple[str, str]]:
        return set(self.decided)

    async def start_run(
        self, run_id: str, as_of: date, champion_id: str, challenger_id: str | None, at: datetime
    ) -> None:
        self.runs[run_id] = {"status": "running", "champion": champion_id, "challenger": challenger_id}

    async def finish_run(
        self,
        run_id: str,
        *,
        at: datetime,
        status: str,
        candidates: int,
        suppressed: int,
        written: int,
        error: str | None,
    ) -> None:
        self.runs[run_id].update(status=status, written=written, error=error)

    async def replace_open(self, batch: RecommendationBatch) -> int:
        self.batches.append(batch)
        return len(batch)
