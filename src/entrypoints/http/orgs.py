"""Routes /api/v1/orgs: orgs and their syncs for readers; connect, test, schedule and remove for admins."""

from __future__ import annotations

from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from application.orgs import AddOrg, ListOrgs, OrgSummary, RemoveOrg, ScheduleOrg, ShowOrg, TestOrg
from application.ports.schedule import CronCalendar
from application.ports.sync import OrgStatus
from domain.access import Principal
from domain.org import Org, OrgKind
from domain.sync import OrgSyncState
from entrypoints.http.org_schemas import (
    NewOrgIn,
    OrgConnectionOut,
    OrgDetailOut,
    OrgOut,
    ScheduleIn,
    ScheduleOut,
)
from entrypoints.http.problems import problem_responses
from entrypoints.http.security import admin_only

__all__ = ["OrgController"]

_CRM_FAILED = problem_responses(502)


class OrgController(Controller):
    """Readers see the orgs they were granted (admins: all); an org outside the grants answers 404, like
    an unknown one. Writes need the admin role (403 otherwise)."""

    path = "/orgs"
    tags = ["orgs"]  # noqa: RUF012  (Litestar declares it as an instance attribute)

    @get(
        "/",
        summary="List orgs",
        description="The orgs the caller may read, with sync state, last run and today's API usage. "
        "The login (flow and user, never a secret) is shown to admins only.",
    )
    @inject
    async def list_orgs(
        self, use_case: FromDishka[ListOrgs], principal: NamedDependency[Principal]
    ) -> list[OrgOut]:
        return [OrgOut.of(summary, admin=principal.is_admin) for summary in await use_case.execute(principal)]

    @get(
        "/{org_id:str}",
        summary="Show an org and its recent syncs",
        description="The org and its last 20 sync runs, newest first: per-object counts, status, errors "
        "and reconciliation mismatches. 404 for an unknown org or one not granted.",
    )
    @inject
    async def show_org(
        self, org_id: FromPath[str], use_case: FromDishka[ShowOrg], principal: NamedDependency[Principal]
    ) -> OrgDetailOut:
        return OrgDetailOut.of(await use_case.execute(org_id, principal), admin=principal.is_admin)

    @post(
        "/",
        summary="Connect a Salesforce org",
        description="Admin only. Stores the org and its login; every secret (`password`, `client_secret`, "
        "`security_token`, `private_key`) is encrypted at rest, write-only, and never returned or logged. "
        "`login.flow` picks the OAuth flow: `password`, `client_credentials` or `jwt`. Check the login with "
        "POST /orgs/{org_id}/test. 400 when the id is taken or the schedule is not cron.",
        status_code=HTTP_201_CREATED,
        guards=[admin_only],
    )
    @inject
    async def add_org(
        self, data: JSONBody[NewOrgIn], use_case: FromDishka[AddOrg], calendar: FromDishka[CronCalendar]
    ) -> OrgOut:
        if data.schedule is not None:
            calendar.check(data.schedule)  # before anything is stored
        org = Org(
            id=data.id,
            name=data.name,
            kind=OrgKind.SALESFORCE,
            business_unit=data.business_unit or data.name,
            currency=data.currency,
            sync_schedule=data.schedule,
        )
        credentials = data.login.credentials()
        await use_case.execute(org, credentials)
        summary = OrgSummary(org, credentials.flow, credentials.username, OrgStatus(OrgSyncState.IDLE), None)
        return OrgOut.of(summary, admin=True)

    @delete(
        "/{org_id:str}",
        summary="Remove an org",
        description="Admin only. Removes the org, its credentials and everything synced from it. 404 when "
        "there is no such org.",
        guards=[admin_only],
    )
    @inject
    async def remove_org(self, org_id: FromPath[str], use_case: FromDishka[RemoveOrg]) -> None:
        await use_case.execute(org_id)

    @post(
        "/{org_id:str}/test",
        summary="Test an org's login",
        description="Admin only. Logs in and reads the org's daily API usage. A success clears the "
        "`attention` state; a refusal sets it and answers 502 with the CRM's reason.",
        guards=[admin_only],
        status_code=200,
        responses=_CRM_FAILED,
    )
    @inject
    async def test_org(self, org_id: FromPath[str], use_case: FromDishka[TestOrg]) -> OrgConnectionOut:
        return OrgConnectionOut.of(org_id, await use_case.execute(org_id))

    @put(
        "/{org_id:str}/schedule",
        summary="Set an org's sync schedule",
        description="Admin only. A five-field cron schedule (UTC), or null for the default schedule "
        "(XSELL_SYNC_SCHEDULE). 400 when it is not cron, 404 when there is no such org.",
        guards=[admin_only],
    )
    @inject
    async def schedule_org(
        self, org_id: FromPath[str], data: JSONBody[ScheduleIn], use_case: FromDishka[ScheduleOrg]
    ) -> ScheduleOut:
        org = await use_case.execute(org_id, data.schedule)
        return ScheduleOut(org_id=org.id, schedule=org.sync_schedule)
