"""WriteBackRecommendation and ListWriteBacks: an accepted offer into the CRM exactly once, and its record.

The protocol, so that neither a retry, a crash nor two requests at once make a second CRM record:
1. a pending row is stored and committed, under a unique idempotency key and a unique (offer, kind);
2. the record is created in the CRM with the row's marker in its Description;
3. the CRM id is stored and committed.
An attempt holds the row for a lease. A later attempt on a row that is not done first looks for the
marker in the CRM (the create may have landed before a crash or a lost answer) and creates only when it
finds nothing. Two attempts never run at once on one row: the second waits for the first.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from application.customers import CustomerAccount, CustomerDirectory
from application.errors import (
    AlreadyWrittenBackError,
    IdempotencyKeyReusedError,
    InvalidRequestError,
    WriteBackInProgressError,
)
from application.models.feedback import RecommendationRepository
from application.ports.clock import Clock
from application.ports.crm import CrmError, CrmGateway, CrmGatewayFactory, CrmTransientError, OrgCredentials
from application.ports.secret_box import SecretBox
from application.ports.sync import SyncUnitOfWork
from application.sync.credentials import open_credentials
from application.write_back.crm_records import RecordContext, crm_record
from application.write_back.ports import FamilyNames, WriteBackRepository
from domain.access import Principal
from domain.errors import ConflictError, InvariantViolationError, NotFoundError
from domain.org import Org
from domain.recommendation import Recommendation, RecommendationStatus
from domain.write_back import WriteBack, WriteBackKind, check_idempotency_key

__all__ = ["ListWriteBacks", "WriteBackRecommendation", "WriteBackResult"]

# Longer than one create can take (every call has a timeout, and a create is retried only when the CRM
# turned it away), so an attempt still running is never taken over.
DEFAULT_LEASE = timedelta(minutes=10)
# The CRM's clock and ours differ: the marker search starts this much before the row was stored.
_CLOCK_SKEW = timedelta(hours=1)


@dataclass(frozen=True)
class WriteBackResult:
    """`created` is True when this request made (or completed) the CRM record, False for a replay."""

    write_back: WriteBack
    created: bool


def _best_account(accounts: list[CustomerAccount]) -> CustomerAccount:
    # Accounts still synced first (a membership can outlive its account), then the surest match.
    return min(accounts, key=lambda a: (a.name is None, -a.confidence, a.external_id))


class WriteBackRecommendation:
    def __init__(
        self,
        recommendations: RecommendationRepository,
        directory: CustomerDirectory,
        write_backs: WriteBackRepository,
        families: FamilyNames,
        orgs: SyncUnitOfWork,
        gateways: CrmGatewayFactory,
        secret_box: SecretBox,
        clock: Clock,
        *,
        lease: timedelta = DEFAULT_LEASE,
        wait_s: float = 15.0,
        poll_s: float = 0.1,
    ) -> None:
        self._recommendations = recommendations
        self._directory = directory
        self._write_backs = write_backs
        self._families = families
        self._orgs = orgs
        self._gateways = gateways
        self._box = secret_box
        self._clock = clock
        self._lease = lease
        self._wait_s = wait_s
        self._poll_s = poll_s

    async def execute(
        self,
        recommendation_id: str,
        kind: WriteBackKind,
        idempotency_key: str,
        principal: Principal,
        *,
        org_id: str | None = None,
    ) -> WriteBackResult:
        """Write the accepted offer into an org of its customer that the caller was granted.

        The org is `org_id`, or else the offer's target org when the customer has an account there, or
        else the only org where it has one. Raises InvalidRequestError for a malformed key or when the org
        must be named; NotFoundError for an offer or org outside the caller's grants (as for unknown
        ones); ConflictError when the offer is not accepted; IdempotencyKeyReusedError for a key used for
        another request; AlreadyWrittenBackError when another key wrote this offer as `kind` already;
        WriteBackInProgressError when a concurrent attempt outlasts the wait; the CrmError the CRM
        answered with (the write-back stays pending, or failed for a refusal, and a retry resumes it).
        """
        try:
            check_idempotency_key(idempotency_key)
        except InvariantViolationError as error:
            raise InvalidRequestError(str(error)) from None
        kind = WriteBackKind(kind)
        recommendation = await self._recommendations.get(recommendation_id, principal.read_scope)
        if recommendation is None:
            raise NotFoundError(f"no recommendation {recommendation_id!r}")
        for _ in range(3):  # a lost race to store the row sends us round again, to the winner's row
            keyed = await self._write_backs.with_key(idempotency_key)
            if keyed is not None:
                if (keyed.recommendation_id, keyed.kind) != (recommendation.id, kind) or (
                    org_id is not None and org_id != keyed.org_id
                ):
                    raise IdempotencyKeyReusedError(
                        "this Idempotency-Key was used for another write-back;"
                        " use a new key for a new request"
                    )
                return await self._finish(keyed, recommendation, same_key=True)
            earlier = [
                w for w in await self._write_backs.of_recommendation(recommendation.id) if w.kind is kind
            ]
            if earlier:
                return await self._finish(earlier[0], recommendation, same_key=False)
            if recommendation.status is not RecommendationStatus.ACCEPTED:
                raise ConflictError(
                    f"recommendation {recommendation.id} is {recommendation.status}: only an accepted offer"
                    " is written back to the CRM"
                )
            account = await self._target(recommendation, principal, org_id)
            now = self._clock.now()
            write_back = WriteBack(
                recommendation_id=recommendation.id,
                kind=kind,
                idempotency_key=idempotency_key,
                org_id=account.org_id,
                account_id=account.external_id,
                requested_by=principal.subject,
                created_at=now,
                attempted_at=now,
            )
            if await self._write_backs.add(write_back):
                return await self._attempt(write_back, recommendation, fresh=True)
        raise WriteBackInProgressError("another request is writing this offer back; retry in a few seconds")

    async def _target(
        self, recommendation: Recommendation, principal: Principal, org_id: str | None
    ) -> CustomerAccount:
        profile = await self._directory.profile(recommendation.customer_id, principal.read_scope)
        by_org: dict[str, list[CustomerAccount]] = {}
        for account in profile.accounts if profile else []:
            if principal.can_read_org(account.org_id):
                by_org.setdefault(account.org_id, []).append(account)
        if org_id is not None:
            if not principal.can_read_org(org_id):
                raise NotFoundError(f"no org {org_id!r}")
            if org_id not in by_org:
                raise InvalidRequestError(
                    f"the customer has no account in org {org_id!r}; it has accounts in"
                    f" {', '.join(sorted(by_org)) or 'none of your orgs'}"
                )
            chosen = org_id
        elif recommendation.target_org_id in by_org:
            chosen = recommendation.target_org_id
        elif len(by_org) == 1:
            chosen = next(iter(by_org))
        elif not by_org:
            raise InvalidRequestError("the customer has no account in any org you may write to")
        else:
            raise InvalidRequestError(
                f"the customer has accounts in several of your orgs ({', '.join(sorted(by_org))}):"
                " say which one with org_id"
            )
        return _best_account(by_org[chosen])

    async def _finish(
        self, write_back: WriteBack, recommendation: Recommendation, *, same_key: bool
    ) -> WriteBackResult:
        """Return a done write-back, or take over an unfinished one, waiting while another attempt
        holds it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait_s
        current: WriteBack | None = write_back
        while True:
            if current is None:
                raise NotFoundError(f"no write-back {write_back.id}")  # removed with its org meanwhile
            if current.is_done:
                if not same_key:
                    raise AlreadyWrittenBackError(
                        f"recommendation {recommendation.id} was written back as a {current.kind} already"
                        f" ({current.salesforce_id})",
                        write_back_id=str(current.id),
                        salesforce_id=current.salesforce_id,
                    )
                return WriteBackResult(current, created=False)
            now = self._clock.now()
            claimed = await self._write_backs.claim(current.id, at=now, stale_before=now - self._lease)
            if claimed is not None:
                return await self._attempt(claimed, recommendation, fresh=False)
            if loop.time() >= deadline:
                raise WriteBackInProgressError(
                    "another request is writing this offer back right now; retry in a few seconds"
                )
            await asyncio.sleep(self._poll_s)
            current = await self._write_backs.with_key(current.idempotency_key)

    async def _attempt(
        self, write_back: WriteBack, recommendation: Recommendation, *, fresh: bool
    ) -> WriteBackResult:
        """Steps 2 and 3 of the protocol, for a row this request holds."""
        org, gateway = await self._open(write_back.org_id)
        try:
            spec = crm_record(
                recommendation, write_back, await self._context(recommendation, write_back, org, gateway)
            )
            found = None
            if not fresh:
                found = await gateway.find_marked(
                    spec.sobject,
                    write_back.marker,
                    parent_field=spec.parent_field,
                    parent_id=write_back.account_id,
                    since=write_back.created_at - _CLOCK_SKEW,
                )
            if found is None:
                found = await gateway.create(spec.sobject, spec.values)
        except CrmError as error:
            write_back.give_up(str(error), permanent=not isinstance(error, CrmTransientError))
            await self._write_backs.save(write_back)
            raise
        finally:
            await gateway.close()
        write_back.succeed(found, self._clock.now())
        await self._write_backs.save(write_back)
        return WriteBackResult(write_back, created=True)

    async def _context(
        self, recommendation: Recommendation, write_back: WriteBack, org: Org, gateway: CrmGateway
    ) -> RecordContext:
        names = await self._families.family_names()
        profile = await self._directory.profile(recommendation.customer_id, frozenset({write_back.org_id}))
        account = next(
            (a for a in (profile.accounts if profile else []) if a.external_id == write_back.account_id), None
        )
        currency_field = False
        if write_back.kind is WriteBackKind.OPPORTUNITY:
            currency_field = (await gateway.describe("Opportunity")).has_currency
        return RecordContext(
            family_name=names.get(recommendation.family_id, recommendation.family_id),
            customer_name=profile.name if profile else recommendation.customer_id,
            account_name=account.name if account else None,
            today=self._clock.now().date(),
            currency_field=currency_field,
            org_currency=org.currency,
        )

    async def _open(self, org_id: str) -> tuple[Org, CrmGateway]:
        async with self._orgs as uow:
            org = await uow.orgs.get(org_id)
            if org is None:
                raise NotFoundError(f"no org {org_id!r}")
            sealed = await uow.credentials.get(org_id)
        credentials = open_credentials(self._box, sealed) if sealed else OrgCredentials(org.kind.value)
        return org, self._gateways.open(org.kind.value, org.instance_url, credentials)


class ListWriteBacks:
    def __init__(self, recommendations: RecommendationRepository, write_backs: WriteBackRepository) -> None:
        self._recommendations = recommendations
        self._write_backs = write_backs

    async def execute(self, recommendation_id: str, principal: Principal) -> list[WriteBack]:
        """The offer's write-backs into orgs the caller may read, oldest first. Raises NotFoundError for
        an unknown offer and for one outside the caller's grants."""
        recommendation = await self._recommendations.get(recommendation_id, principal.read_scope)
        if recommendation is None:
            raise NotFoundError(f"no recommendation {recommendation_id!r}")
        return [
            w
            for w in await self._write_backs.of_recommendation(recommendation.id)
            if principal.can_read_org(w.org_id)
        ]
