"""WriteBackRecommendation on working fakes: one CRM record per offer and kind, whatever retries, crashes,
CRM failures and concurrent requests happen; the org and account it lands in; who may do it."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from tests.fakes import FakeClock, FakeCrmGateway, FakeCrmGatewayFactory, FakeSecretBox, FakeSyncUnitOfWork
from tests.fakes_write_back import (
    FakeCustomerDirectory,
    FakeFamilyNames,
    FakeRecommendations,
    FakeWriteBackRepository,
)

from adapters.crm.csv_export import CsvCrmGateway
from application.customers import CustomerAccount
from application.errors import (
    AlreadyWrittenBackError,
    IdempotencyKeyReusedError,
    InvalidRequestError,
    WriteBackInProgressError,
)
from application.ports.crm import CrmReadOnlyError, CrmRequestError, CrmTransientError, CrmValue
from application.write_back import ListWriteBacks, WriteBackRecommendation
from domain.access import Principal, PrincipalKind, Role
from domain.errors import ConflictError, NotFoundError
from domain.ids import SalesforceId
from domain.money import Money
from domain.org import Org, OrgKind
from domain.recommendation import Arm, Reason, ReasonKind, Recommendation
from domain.write_back import WriteBackKind, WriteBackStatus

START = datetime(2026, 1, 5, 9, tzinfo=UTC)
EMEA_ACCOUNT = SalesforceId.parse("001000000000001").value
EMEA_OTHER = SalesforceId.parse("001000000000002").value
APAC_ACCOUNT = SalesforceId.parse("001000000000003").value


def _principal(role: Role = Role.SALES, orgs: tuple[str, ...] = ("emea",)) -> Principal:
    return Principal(subject="ana@example.com", kind=PrincipalKind.USER, role=role, org_ids=frozenset(orgs))


def _offer(offer_id: str = "r1", *, accepted: bool = True, target: str = "emea") -> Recommendation:
    offer = Recommendation(
        id=offer_id,
        customer_id="c1",
        family_id="analytics",
        target_org_id=target,
        probability=0.31,
        expected_value=Money(Decimal("12450.00"), "EUR"),
        model_version_id="m-1",
        arm=Arm.CHAMPION,
        reasons=(
            Reason(ReasonKind.ACTIVITY, "Activity in the last 30 days is 3.1 times its usual", 0.4),
            Reason(ReasonKind.PEER, "7 similar accounts in APAC bought it", 0.2, org_id="apac"),
        ),
        created_at=START,
    )
    if accepted:
        offer.accept(by="ana@example.com", at=START)
    return offer


class CrashAfterCreate(FakeCrmGateway):
    """Creates the record, then fails as a process that dies (or loses the answer) would."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error: Exception | None = error

    async def create(self, sobject: str, values: Mapping[str, CrmValue]) -> str:
        record_id = await super().create(sobject, values)
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        return record_id


class FailingCreate(FakeCrmGateway):
    """Refuses the next creates with the queued errors (nothing is created), then works."""

    def __init__(self, *errors: Exception) -> None:
        super().__init__()
        self.errors = list(errors)

    async def create(self, sobject: str, values: Mapping[str, CrmValue]) -> str:
        if self.errors:
            raise self.errors.pop(0)
        return await super().create(sobject, values)


class SlowCreate(FakeCrmGateway):
    async def create(self, sobject: str, values: Mapping[str, CrmValue]) -> str:
        await asyncio.sleep(0.05)  # long enough for a concurrent request to arrive meanwhile
        return await super().create(sobject, values)


class World:
    def __init__(
        self,
        gateway: FakeCrmGateway | None = None,
        offers: list[Recommendation] | None = None,
        accounts: list[CustomerAccount] | None = None,
        **options: Any,
    ) -> None:
        self.gateway = gateway or FakeCrmGateway()
        self.clock = FakeClock(START)
        self.store = FakeWriteBackRepository()
        self.offers = FakeRecommendations(offers if offers is not None else [_offer()])
        members = accounts or [
            CustomerAccount("emea", EMEA_ACCOUNT, "Acme GmbH", "Retail", 0.95, "model"),
            CustomerAccount("emea", EMEA_OTHER, "Acme Sales GmbH", "Retail", 0.7, "model"),
            CustomerAccount("apac", APAC_ACCOUNT, "Acme Pte", "Retail", 0.9, "model"),
        ]
        self.directory = FakeCustomerDirectory({"c1": ("Acme Group", members)})
        orgs = [
            Org("emea", "EMEA", OrgKind.MEMORY, "emea", "EUR", instance_url="memory://emea"),
            Org("apac", "APAC", OrgKind.MEMORY, "apac", "SGD", instance_url="memory://apac"),
        ]
        self.use_case = WriteBackRecommendation(
            self.offers,
            self.directory,
            self.store,
            FakeFamilyNames({"analytics": "Analytics"}),
            FakeSyncUnitOfWork(orgs),
            FakeCrmGatewayFactory(self.gateway),
            FakeSecretBox(),
            self.clock,
            **({"wait_s": 0.3, "poll_s": 0.01} | options),
        )

    def records(self, sobject: str = "Task") -> dict[str, dict[str, Any]]:
        table = self.gateway.tables.get(sobject)
        return {} if table is None else dict(table.rows)


async def test_an_accepted_offer_becomes_one_task_and_a_replay_returns_it() -> None:
    world = World()
    first = await world.use_case.execute("r1", WriteBackKind.TASK, "key-1", _principal())
    assert first.created and first.write_back.status is WriteBackStatus.DONE
    tasks = world.records()
    assert list(tasks) == [first.write_back.salesforce_id]
    task = tasks[first.write_back.salesforce_id]
    assert task["Subject"] == "Call about Analytics: Activity in the last 30 days is 3.1 times its usual"
    assert task["WhatId"] == EMEA_ACCOUNT  # the surest match in the target org
    assert task["ActivityDate"] == "2026-01-12" and task["Status"] == "Not Started"
    assert first.write_back.marker in task["Description"]
    assert "12,450.00 EUR" in task["Description"] and "31%" in task["Description"]
    assert "APAC" not in task["Description"]  # another org's evidence stays out of this org's CRM

    replay = await world.use_case.execute("r1", WriteBackKind.TASK, "key-1", _principal())
    assert not replay.created
    assert replay.write_back.salesforce_id == first.write_back.salesforce_id
    assert replay.write_back.id == first.write_back.id
    assert len(world.records()) == 1


async def test_another_key_for_a_written_offer_is_refused_with_the_record_it_made() -> None:
    world = World()
    done = (await world.use_case.execute("r1", WriteBackKind.TASK, "key-1", _principal())).write_back
    with pytest.raises(AlreadyWrittenBackError) as refused:
        await world.use_case.execute("r1", WriteBackKind.TASK, "key-2", _principal())
    assert refused.value.salesforce_id == done.salesforce_id
    assert refused.value.write_back_id == str(done.id)
    with pytest.raises(IdempotencyKeyReusedError):
        await world.use_case.execute("r1", WriteBackKind.OPPORTUNITY, "key-1", _principal())
    # The other kind is a write-back of its own.
    opportunity = await world.use_case.execute("r1", WriteBackKind.OPPORTUNITY, "key-3", _principal())
    assert opportunity.created and len(world.records("Opportunity")) == 1 and len(world.records()) == 1


async def test_only_accepted_offers_in_the_callers_orgs_are_written() -> None:
    world = World(offers=[_offer("r1", accepted=False), _offer("r2", target="apac")])
    with pytest.raises(ConflictError, match="only an accepted offer"):
        await world.use_case.execute("r1", WriteBackKind.TASK, "key-1", _principal())
    with pytest.raises(NotFoundError):
        await world.use_case.execute("r2", WriteBackKind.TASK, "key-2", _principal())  # apac not granted
    with pytest.raises(NotFoundError):
        await world.use_case.execute("nope", WriteBackKind.TASK, "key-3", _principal())
    for key in ("", "x" * 201, "tab\there"):
        with pytest.raises(InvalidRequestError):
            await world.use_case.execute("r1", WriteBackKind.TASK, key, _principal())
    assert world.store.rows == {} and world.records() == {}


async def test_the_org_is_the_target_by_default_and_the_callers_choice_among_granted_ones() -> None:
    every = _principal(orgs=("emea", "apac", "amer"))
    world = World(offers=[_offer("r1", target="emea"), _offer("r2", target="amer")])
    done = (await world.use_case.execute("r1", WriteBackKind.TASK, "k1", every)).write_back
    assert (done.org_id, done.account_id) == ("emea", EMEA_ACCOUNT)
    # The target org (amer) holds no account of the customer, and two granted orgs do: the caller picks.
    with pytest.raises(InvalidRequestError, match="apac, emea"):
        await world.use_case.execute("r2", WriteBackKind.TASK, "k2", every)
    with pytest.raises(NotFoundError, match="no org 'apac'"):
        await world.use_case.execute(
            "r2", WriteBackKind.TASK, "k2", _principal(orgs=("emea", "amer")), org_id="apac"
        )
    with pytest.raises(InvalidRequestError, match="no account in org 'amer'"):
        await world.use_case.execute("r2", WriteBackKind.TASK, "k2", every, org_id="amer")
    picked = (await world.use_case.execute("r2", WriteBackKind.TASK, "k2", every, org_id="apac")).write_back
    assert (picked.org_id, picked.account_id) == ("apac", APAC_ACCOUNT)
    # Admins may write to any org with an account; with one such org there is nothing to choose.
    admin = _principal(Role.ADMIN, ())
    one_org = World(
        offers=[_offer("r3", target="amer")],
        accounts=[CustomerAccount("apac", APAC_ACCOUNT, "Acme Pte", None, 0.9, "model")],
    )
    assert (await one_org.use_case.execute("r3", WriteBackKind.TASK, "k3", admin)).write_back.org_id == "apac"


async def test_a_crash_after_the_create_is_finished_by_the_retry_without_a_second_record() -> None:
    world = World(CrashAfterCreate(RuntimeError("the process died")))
    with pytest.raises(RuntimeError):
        await world.use_case.execute("r1", WriteBackKind.TASK, "key-1", _principal())
    (stored,) = world.store.rows.values()
    assert stored.status is WriteBackStatus.PENDING and stored.attempted_at is not None
    assert len(world.records()) == 1
    # Within the lease the dead attempt may still be running: the retry waits, then says so.
    with pytest.raises(WriteBackInProgressError):
        await world.use_case.execute("r1", WriteBackKind.TASK, "key-1", _principal())
    world.clock.advance(minutes=11)
    resumed = await world.use_case.execute("r1", WriteBackKind.TASK, "key-1", _principal())
    assert resumed.created and resumed.write_back.status is WriteBackStatus.DONE
    assert list(world.records()) == [resumed.write_back.salesforce_id]


async def test_a_lost_answer_leaves_the_row_pending_and_the_retry_finds_the_record() -> None:
    world = World(CrashAfterCreate(CrmTransientError("ReadTimeout")))
    with pytest.raises(CrmTransientError):
        await world.use_case.execute("r1", WriteBackKind.TASK, "key-1", _principal())
    (stored,) = world.store.rows.values()
    assert stored.status is WriteBackStatus.PENDING and stored.attempted_at is None
    assert stored.error == "ReadTimeout"
    resumed = await world.use_case.execute("r1", WriteBackKind.TASK, "key-1", _principal())
    assert list(world.records()) == [resumed.write_back.salesforce_id]
    assert resumed.write_back.error is None


async def test_crm_failures_keep_the_row_for_a_retry() -> None:
    world = World(FailingCreate(CrmTransientError("503 SERVER_UNAVAILABLE"), CrmRequestError("rejected")))
    with pytest.raises(CrmTransientError):
        await world.use_case.execute("r1", WriteBackKind.TASK, "key-1", _principal())
    assert next(iter(world.store.rows.values())).status is WriteBackStatus.PENDING
    with pytest.raises(CrmRequestError):
        await world.use_case.execute("r1", WriteBackKind.TASK, "key-1", _principal())
    assert next(iter(world.store.rows.values())).status is WriteBackStatus.FAILED
    # A refused write-back is retried too (after the cause is fixed), even under another key.
    done = await world.use_case.execute("r1", WriteBackKind.TASK, "key-2", _principal())
    assert done.created and done.write_back.idempotency_key == "key-1"
    assert len(world.records()) == 1 and len(world.store.rows) == 1


async def test_concurrent_requests_with_one_key_make_one_record() -> None:
    world = World(SlowCreate())
    results = await asyncio.gather(
        *(world.use_case.execute("r1", WriteBackKind.TASK, "key-1", _principal()) for _ in range(4))
    )
    assert len(world.records()) == 1 and len(world.store.rows) == 1
    assert sorted(r.created for r in results) == [False, False, False, True]
    assert {r.write_back.salesforce_id for r in results} == set(world.records())


async def test_concurrent_requests_with_different_keys_make_one_record() -> None:
    world = World(SlowCreate())
    results = await asyncio.gather(
        *(world.use_case.execute("r1", WriteBackKind.TASK, f"key-{n}", _principal()) for n in range(3)),
        return_exceptions=True,
    )
    assert len(world.records()) == 1
    assert sum(1 for r in results if not isinstance(r, BaseException)) == 1
    assert all(isinstance(r, AlreadyWrittenBackError) for r in results if isinstance(r, BaseException))


async def test_an_opportunity_carries_the_value_in_the_offers_currency() -> None:
    world = World()
    world.gateway.put(
        "Opportunity", {"Id": SalesforceId.parse("006000000000009").value, "CurrencyIsoCode": "USD"}
    )
    done = (await world.use_case.execute("r1", WriteBackKind.OPPORTUNITY, "k", _principal())).write_back
    record = world.records("Opportunity")[done.salesforce_id or ""]
    assert record["Name"] == "Analytics for Acme GmbH" and record["StageName"] == "Prospecting"
    assert record["AccountId"] == EMEA_ACCOUNT and record["CloseDate"] == "2026-07-04"
    assert (record["Amount"], record["CurrencyIsoCode"]) == (12450.0, "EUR")
    assert done.marker in record["Description"]


async def test_a_single_currency_org_in_another_currency_gets_no_amount() -> None:
    world = World(offers=[_offer("r1", target="apac")])  # valued in EUR; apac keeps SGD only
    done = (
        await world.use_case.execute(
            "r1", WriteBackKind.OPPORTUNITY, "k", _principal(Role.ADMIN, ()), org_id="apac"
        )
    ).write_back
    record = world.records("Opportunity")[done.salesforce_id or ""]
    assert "Amount" not in record and "CurrencyIsoCode" not in record
    assert "12,450.00 EUR" in record["Description"]


async def test_a_csv_org_refuses_and_the_write_back_is_marked_failed(tmp_path: Any) -> None:
    world = World(CsvCrmGateway(tmp_path))  # type: ignore[arg-type]
    with pytest.raises(CrmReadOnlyError, match="read-only"):
        await world.use_case.execute("r1", WriteBackKind.TASK, "k", _principal())
    (stored,) = world.store.rows.values()
    assert stored.status is WriteBackStatus.FAILED and "read-only" in (stored.error or "")


async def test_the_list_shows_write_backs_into_readable_orgs_only() -> None:
    world = World()
    both = _principal(orgs=("emea", "apac"))
    await world.use_case.execute("r1", WriteBackKind.TASK, "k1", both)
    world.clock.advance(seconds=1)  # oldest first: the two must not share a timestamp
    await world.use_case.execute("r1", WriteBackKind.OPPORTUNITY, "k2", both, org_id="apac")
    listing = ListWriteBacks(world.offers, world.store)
    assert [w.kind for w in await listing.execute("r1", both)] == [
        WriteBackKind.TASK,
        WriteBackKind.OPPORTUNITY,
    ]
    assert [w.org_id for w in await listing.execute("r1", _principal())] == ["emea"]
    with pytest.raises(NotFoundError):
        await listing.execute("r1", _principal(orgs=("apac",)))
