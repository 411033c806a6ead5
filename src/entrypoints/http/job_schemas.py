"""Wire types of jobs (asynchronous work and how it went), of requests for work, and of reconciliations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from application.sync.runs import ObjectCount
from domain.job import Job

__all__ = ["JobOut", "JobPage", "NewJobIn", "ObjectCountOut", "ReconciliationOut", "SyncIn"]

_JOB_ID = "3f2b8c1e-6a4d-4f0e-9b7a-2c5d8e1f0a93"
Scalar = str | int | float | bool | None


class JobOut(msgspec.Struct, frozen=True, kw_only=True):
    """A job: work someone asked for and how it stands. queued (its message waits in the outbox or in the
    queue) -> running -> succeeded or failed. A transient failure that will be retried shows as queued
    again, with the reason in `error`."""

    id: Annotated[uuid.UUID, msgspec.Meta(description="Job id.", examples=[_JOB_ID])]
    kind: Annotated[
        Literal["sync", "sync_all", "resolve", "train", "score"],
        msgspec.Meta(description="What the job does.", examples=["sync"]),
    ]
    status: Annotated[
        Literal["queued", "running", "succeeded", "failed"],
        msgspec.Meta(description="Where the job stands.", examples=["succeeded"]),
    ]
    org_id: Annotated[
        str | None, msgspec.Meta(description="The org a sync covers; null for other jobs.", examples=["emea"])
    ]
    parameters: Annotated[
        dict[str, Scalar],
        msgspec.Meta(
            description="The options it was asked with (ids and flags only).", examples=[{"full": False}]
        ),
    ]
    requested_by: Annotated[
        str, msgspec.Meta(description="Id of the user or service client that asked.", examples=["8d1f0c2a"])
    ]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: Annotated[int, msgspec.Meta(description="Attempts started so far.", examples=[1])]
    error: Annotated[
        str | None,
        msgspec.Meta(description="Why the job failed (or why its last attempt did).", examples=[None]),
    ]
    result: Annotated[
        dict[str, Scalar],
        msgspec.Meta(
            description="A small summary once it succeeded: counts, and the sync run or scoring run id.",
            examples=[{"run_id": "a1b2c3d4-0000-4000-8000-000000000001", "upserted": 1204, "deleted": 3}],
        ),
    ]

    @classmethod
    def of(cls, job: Job) -> JobOut:
        return cls(
            id=job.id,
            kind=job.kind.value,
            status=job.status.value,
            org_id=job.org_id,
            parameters=job.parameters,
            requested_by=job.requested_by,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            attempts=job.attempts,
            error=job.error,
            result=job.result,
        )


class JobPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of jobs, newest first; pass `next_cursor` as `cursor` for the next (null: the last page)."""

    items: list[JobOut]
    next_cursor: str | None


class NewJobIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Work to start. `full` applies to `resolve` (compare every account again); `profile` to `train`.
    A sync of one org is started with POST /api/v1/orgs/{org_id}/sync."""

    kind: Annotated[
        Literal["resolve", "train", "score", "sync_all"],
        msgspec.Meta(
            description="resolve: customers across orgs; train: a new model version; score: every customer "
            "with the serving model; sync_all: a sync of every org not waiting for a human (admins only).",
            examples=["resolve"],
        ),
    ]
    full: Annotated[bool, msgspec.Meta(description="Resolve only: every account again.")] = False
    profile: Annotated[
        Literal["quick", "standard", "thorough"] | None,
        msgspec.Meta(description="Train only: how long to search (default standard).", examples=["quick"]),
    ] = None


class SyncIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How to sync: `full` reads every record again instead of the changes since the last run."""

    full: Annotated[bool, msgspec.Meta(description="Read every record again.", examples=[False])] = False


class ObjectCountOut(msgspec.Struct, frozen=True, kw_only=True):
    """Live records of one object: held by xsell, and counted by the CRM (`SELECT COUNT()`) just now."""

    sobject: Annotated[str, msgspec.Meta(examples=["Account"])]
    xsell_count: Annotated[int, msgspec.Meta(examples=[1204])]
    crm_count: Annotated[int, msgspec.Meta(examples=[1206])]
    difference: Annotated[
        int, msgspec.Meta(description="xsell_count - crm_count; 0 when in step.", examples=[-2])
    ]
    checked_at: datetime

    @classmethod
    def of(cls, count: ObjectCount) -> ObjectCountOut:
        return cls(
            sobject=count.sobject,
            xsell_count=count.xsell_count,
            crm_count=count.crm_count,
            difference=count.difference,
            checked_at=count.checked_at,
        )


class ReconciliationOut(msgspec.Struct, frozen=True, kw_only=True):
    """xsell's counts against the org's, object by object. Records changed in the CRM since the last sync
    show as differences until the next sync brings them."""

    org_id: Annotated[str, msgspec.Meta(examples=["emea"])]
    in_step: Annotated[bool, msgspec.Meta(description="Every object's counts are equal.", examples=[False])]
    objects: list[ObjectCountOut]

    @classmethod
    def of(cls, org_id: str, counts: list[ObjectCount]) -> ReconciliationOut:
        return cls(
            org_id=org_id,
            in_step=all(count.difference == 0 for count in counts),
            objects=[ObjectCountOut.of(count) for count in counts],
        )
