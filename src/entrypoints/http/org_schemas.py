"""Wire types of orgs: a new org with its login (secrets write-only), org summaries, sync runs, tests."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec

from application.orgs import OrgDetail, OrgSummary
from application.ports.crm import OrgCredentials
from application.ports.sync import Reconciliation, SyncRun
from domain.sync import ApiUsage

__all__ = [
    "ClientCredentialsLoginIn",
    "JwtLoginIn",
    "LoginOut",
    "MismatchOut",
    "NewOrgIn",
    "OrgConnectionOut",
    "OrgDetailOut",
    "OrgOut",
    "PasswordLoginIn",
    "ScheduleIn",
    "ScheduleOut",
    "SyncRunOut",
]

_SECRET_MAX = 16_384  # a PEM private key fits


def _write_only(description: str, example: str) -> Any:
    # writeOnly: the value goes in requests and never comes back in a response.
    return msgspec.Meta(
        min_length=1,
        max_length=_SECRET_MAX,
        description=description,
        examples=[example],
        extra_json_schema={"extra": {"write_only": True, "format": "password"}},
    )


LoginUrl = Annotated[
    str,
    msgspec.Meta(
        # Only Salesforce login hosts: the API never makes the server call an address a client chose.
        pattern=r"^https://[a-z0-9][a-z0-9.-]{0,200}\.salesforce\.com/?$",
        description="Login host: https://login.salesforce.com, https://test.salesforce.com (sandbox) or "
        "https://MYDOMAIN.my.salesforce.com.",
        examples=["https://login.salesforce.com"],
    ),
]
ClientId = Annotated[
    str,
    msgspec.Meta(
        min_length=1, max_length=255, description="Connected app consumer key.", examples=["3MVG9xsell.app"]
    ),
]
Username = Annotated[
    str,
    msgspec.Meta(
        min_length=1, max_length=255, description="Integration user.", examples=["integration@acme.example"]
    ),
]
ClientSecret = Annotated[str, _write_only("Connected app consumer secret (write-only).", "s3cr3t-consumer")]


class PasswordLoginIn(msgspec.Struct, frozen=True, kw_only=True, tag="password", tag_field="flow"):
    """OAuth username-password flow."""

    login_url: LoginUrl = "https://login.salesforce.com"
    username: Username
    client_id: ClientId
    client_secret: ClientSecret
    password: Annotated[str, _write_only("The integration user's password (write-only).", "hunter2")]
    security_token: (
        Annotated[str, _write_only("Security token, when the org asks for one (write-only).", "AbC123")]
        | None
    ) = None

    def credentials(self) -> OrgCredentials:
        secrets = {"client_secret": self.client_secret, "password": self.password}
        if self.security_token:
            secrets["security_token"] = self.security_token
        return OrgCredentials("password", self.login_url, self.username, self.client_id, secrets)


class ClientCredentialsLoginIn(
    msgspec.Struct, frozen=True, kw_only=True, tag="client_credentials", tag_field="flow"
):
    """OAuth client-credentials flow (the login URL is the org's My Domain)."""

    login_url: LoginUrl
    client_id: ClientId
    client_secret: ClientSecret

    def credentials(self) -> OrgCredentials:
        secrets = {"client_secret": self.client_secret}
        return OrgCredentials("client_credentials", self.login_url, None, self.client_id, secrets)


class JwtLoginIn(msgspec.Struct, frozen=True, kw_only=True, tag="jwt", tag_field="flow"):
    """OAuth JWT bearer flow with the connected app's certificate key."""

    login_url: LoginUrl = "https://login.salesforce.com"
    username: Username
    client_id: ClientId
    private_key: Annotated[
        str,
        _write_only(
            "PEM private key of the connected app's certificate (write-only).",
            "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n",
        ),
    ]

    def credentials(self) -> OrgCredentials:
        secrets = {"private_key": self.private_key}
        return OrgCredentials("jwt", self.login_url, self.username, self.client_id, secrets)


Schedule = Annotated[
    str,
    msgspec.Meta(
        min_length=1, max_length=120, description="Five-field cron schedule (UTC).", examples=["0 * * * *"]
    ),
]


class NewOrgIn(msgspec.Struct, frozen=True, kw_only=True):
    """A Salesforce org to connect, with how xsell logs in to it."""

    id: Annotated[
        str,
        msgspec.Meta(
            pattern=r"^[a-z0-9][a-z0-9_-]{1,39}$",
            description="A short slug you choose, stable for life.",
            examples=["emea"],
        ),
    ]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200, examples=["Acme EMEA"])]
    login: PasswordLoginIn | ClientCredentialsLoginIn | JwtLoginIn
    business_unit: (
        Annotated[str, msgspec.Meta(min_length=1, max_length=200, description="Default: the name.")] | None
    ) = None
    currency: Annotated[
        str, msgspec.Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217 code.", examples=["EUR"])
    ] = "USD"
    schedule: Schedule | None = None


class LoginOut(msgspec.Struct, frozen=True, kw_only=True):
    """How the org logs in; never a secret. Shown to admins only."""

    flow: str
    username: str | None


class MismatchOut(msgspec.Struct, frozen=True, kw_only=True):
    """After a run, xsell held `xsell_count` live records of `sobject` where the CRM counted `crm_count`."""

    sobject: str
    xsell_count: int
    crm_count: int
    checked_at: datetime

    @classmethod
    def of(cls, check: Reconciliation) -> MismatchOut:
        return cls(
            sobject=check.sobject,
            xsell_count=check.xsell_count,
            crm_count=check.crm_count,
            checked_at=check.checked_at,
        )


class SyncRunOut(msgspec.Struct, frozen=True, kw_only=True):
    """One sync run. `counts` per object: upserted and deleted records; `reconciliation_mismatches`:
    objects whose live record count in xsell differed from the CRM's count after the run."""

    id: uuid.UUID
    trigger: str
    full: bool
    status: str
    status_reason: str | None
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, dict[str, int]]
    errors: list[dict[str, str]]
    api_used: int | None
    api_max: int | None
    reconciliation_mismatches: list[MismatchOut]

    @classmethod
    def of(cls, run: SyncRun, checks: list[Reconciliation]) -> SyncRunOut:
        return cls(
            id=run.id,
            trigger=run.trigger,
            full=run.full,
            status=run.status.value,
            status_reason=run.status_reason,
            started_at=run.started_at,
            finished_at=run.finished_at,
            counts=run.counts,
            errors=run.errors,
            api_used=run.usage.used if run.usage else None,
            api_max=run.usage.max if run.usage else None,
            reconciliation_mismatches=[MismatchOut.of(check) for check in checks if check.mismatched],
        )


class OrgOut(msgspec.Struct, frozen=True, kw_only=True):
    """An org and how its sync stands. `sync_state`: idle, running, paused (API budget share reached),
    parked (Salesforce limit hit) or attention (a human must act; `sync_reason` says why). `api_used` /
    `api_max`: today's API requests as the org last reported them."""

    id: str
    name: str
    kind: str
    business_unit: str
    currency: str
    schedule: str | None
    created_at: datetime
    sync_state: str
    sync_reason: str | None
    api_used: int | None
    api_max: int | None
    last_run_status: str | None
    last_run_started_at: datetime | None
    last_run_finished_at: datetime | None
    login: LoginOut | None

    @classmethod
    def of(cls, summary: OrgSummary, *, admin: bool) -> OrgOut:
        org, status, run = summary.org, summary.status, summary.last_run
        return cls(
            id=org.id,
            name=org.name,
            kind=org.kind.value,
            business_unit=org.business_unit,
            currency=org.currency,
            schedule=org.sync_schedule,
            created_at=org.created_at,
            sync_state=status.state.value,
            sync_reason=status.reason,
            api_used=status.usage.used if status.usage else None,
            api_max=status.usage.max if status.usage else None,
            last_run_status=run.status.value if run else None,
            last_run_started_at=run.started_at if run else None,
            last_run_finished_at=run.finished_at if run else None,
            login=LoginOut(flow=summary.flow, username=summary.username) if admin and summary.flow else None,
        )


class OrgDetailOut(msgspec.Struct, frozen=True, kw_only=True):
    """An org with its last 20 sync runs, newest first."""

    org: OrgOut
    runs: list[SyncRunOut]

    @classmethod
    def of(cls, detail: OrgDetail, *, admin: bool) -> OrgDetailOut:
        return cls(
            org=OrgOut.of(detail.summary, admin=admin),
            runs=[SyncRunOut.of(run, detail.reconciliations.get(run.id, [])) for run in detail.runs],
        )


class OrgConnectionOut(msgspec.Struct, frozen=True, kw_only=True):
    """The org answered: xsell logged in and read its daily API usage."""

    org_id: str
    api_used: int
    api_max: int

    @classmethod
    def of(cls, org_id: str, usage: ApiUsage) -> OrgConnectionOut:
        return cls(org_id=org_id, api_used=usage.used, api_max=usage.max)


class ScheduleIn(msgspec.Struct, frozen=True, kw_only=True):
    """`schedule`: null goes back to the default schedule (XSELL_SYNC_SCHEDULE)."""

    schedule: Schedule | None


class ScheduleOut(msgspec.Struct, frozen=True, kw_only=True):
    org_id: str
    schedule: str | None
