"""Working in-memory implementations of the application ports, for unit tests of use cases."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self
from uuid import UUID

from adapters.crm.memory import InMemoryCrmGateway
from application.errors import DependencyUnavailableError
from application.jobs.ports import OutboxMessage
from application.ports.crm import CrmRecord, CrmRecordPage, ObjectSchema, OrgCredentials
from application.ports.sync import (
    OrgStatus,
    PageSummary,
    Reconciliation,
    SealedCredentials,
    StoredCursor,
    SyncRun,
)
from domain.account import Account, AccountKey
from domain.job import Job
from domain.org import Org
from domain.sync import SyncCursor


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


class FakeOrgRepository:
    def __init__(self, store: dict[str, Org]) -> None:
        self._store = store

    async def get(self, org_id: str) -> Org | None:
        return self._store.get(org_id)

    async def add(self, org: Org) -> None:
        if org.id in self._store:
            raise ValueError(f"duplicate org {org.id}")
        self._store[org.id] = org

    async def list(self) -> list[Org]:
        return [self._store[key] for key in sorted(self._store)]

    async def update(self, org: Org) -> None:
        if org.id not in self._store:
            raise ValueError(f"no org {org.id}")
        self._store[org.id] = org


class FakeAccountRepository:
    def __init__(self, store: dict[AccountKey, Account]) -> None:
        self._store = store

    async def get(self, key: AccountKey) -> Account | None:
        return self._store.get(key)

    async def upsert(self, items: Sequence[Account]) -> None:
        for account in items:
            self._store[account.key] = account

    async def list_after(self, org_ids: Sequence[str], after: AccountKey | None, limit: int) -> list[Account]:
        keys = sorted(key for key in self._store if not org_ids or key.org_id in org_ids)
        if after is not None:
            keys = [key for key in keys if key > after]
        return [self._store[key] for key in keys[:limit]]


class FakeUnitOfWork:
    """Changes become visible in `committed` only on commit; exiting without commit discards them."""

    def __init__(self) -> None:
        self.committed_orgs: dict[str, Org] = {}
        self.committed_accounts: dict[AccountKey, Account] = {}
        self.commits = 0
        self._begin()

    def _begin(self) -> None:
        self._orgs = dict(self.committed_orgs)
        self._accounts = dict(self.committed_accounts)
        self.orgs = FakeOrgRepository(self._orgs)
        self.accounts = FakeAccountRepository(self._accounts)

    async def __aenter__(self) -> Self:
        self._begin()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.rollback()

    async def commit(self) -> None:
        self.committed_orgs = dict(self._orgs)
        self.committed_accounts = dict(self._accounts)
        self.commits += 1

    async def rollback(self) -> None:
        self._begin()


class FakeCache:
    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock or FakeClock()
        self._values: dict[str, tuple[bytes, datetime | None]] = {}

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        result: list[bytes | None] = []
        for key in keys:
            value, expires = self._values.get(key, (None, None))
            result.append(None if expires is not None and expires <= self.clock.now() else value)
        return result

    async def set_many(self, values: Mapping[str, bytes], ttl_seconds: int | None = None) -> None:
        expires = None if ttl_seconds is None else self.clock.now() + timedelta(seconds=ttl_seconds)
        for key, value in values.items():
            self._values[key] = (value, expires)

    async def delete(self, keys: Sequence[str]) -> int:
        return sum(self._values.pop(key, None) is not None for key in keys)


class FakeTaskQueue:
    """Sends what its outbox holds (the FakeJobUnitOfWork's committed messages); `down` makes it fail."""

    def __init__(self, outbox: list[OutboxMessage] | None = None) -> None:
        self.outbox: list[OutboxMessage] = [] if outbox is None else outbox
        self.sent: list[OutboxMessage] = []
        self.down = False

    async def send_pending(self, limit: int = 100) -> int:
        if self.down:
            raise DependencyUnavailableError("the job queue cannot be reached")
        pending = [m for m in self.outbox if m not in self.sent][:limit]
        self.sent.extend(pending)
        return len(pending)


class _FakeJobs:
    def __init__(self, store: dict[UUID, Job]) -> None:
        self._store = store

    async def add(self, job: Job) -> None:
        self._store[job.id] = copy.deepcopy(job)

    async def get(self, job_id: UUID, *, for_update: bool = False) -> Job | None:
        job = self._store.get(job_id)
        return None if job is None else copy.deepcopy(job)

    async def update(self, job: Job) -> None:
        self._store[job.id] = copy.deepcopy(job)

    async def newest(
        self, readable: frozenset[str] | None, limit: int, after: tuple[datetime, UUID] | None
    ) -> list[Job]:
        jobs = sorted(self._store.values(), key=lambda j: (j.created_at, j.id), reverse=True)
        jobs = [j for j in jobs if readable is None or j.org_id is None or j.org_id in readable]
        if after is not None:
            jobs = [j for j in jobs if (j.created_at, j.id) < after]
        return [copy.deepcopy(j) for j in jobs[:limit]]


class _FakeOutbox:
    def __init__(self, messages: list[OutboxMessage]) -> None:
        self._messages = messages

    async def add(self, message: OutboxMessage) -> None:
        self._messages.append(message)


class FakeJobUnitOfWork:
    """Jobs, outbox and orgs in memory; changes become visible in `committed_*` only on commit."""

    def __init__(self, orgs: Sequence[Org] = ()) -> None:
        self.committed_jobs: dict[UUID, Job] = {}
        self.committed_outbox: list[OutboxMessage] = []
        self.committed_orgs = {org.id: org for org in orgs}
        self.commits = 0
        self._begin()

    def _begin(self) -> None:
        self._jobs = copy.deepcopy(self.committed_jobs)
        self._outbox = list(self.committed_outbox)
        self.jobs = _FakeJobs(self._jobs)
        self.outbox = _FakeOutbox(self._outbox)
        self.orgs = FakeOrgRepository(dict(self.committed_orgs))

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.rollback()

    async def commit(self) -> None:
        self.committed_jobs = copy.deepcopy(self._jobs)
        self.committed_outbox[:] = self._outbox
        self.commits += 1

    async def rollback(self) -> None:
        self._begin()


class FakeSecretBox:
    """Reversible but bound to its record, like the real one; not encryption, only for tests."""

    def seal(self, plaintext: str, bound_to: str) -> bytes:
        return f"{bound_to}\x00{plaintext}".encode()

    def open(self, ciphertext: bytes, bound_to: str) -> str:
        owner, _, plaintext = ciphertext.decode().partition("\x00")
        if owner != bound_to:
            raise ValueError("sealed for another record")
        return plaintext


class FakeCrmGateway(InMemoryCrmGateway):
    """The in-memory org, plus errors queued to be raised by the next reads (one per page fetch)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.failures: list[Exception] = []

    async def changes(
        self,
        schema: ObjectSchema,
        since: datetime | None,
        until: datetime | None = None,
        *,
        bulk: bool = False,
    ) -> AsyncIterator[CrmRecordPage]:
        async for page in super().changes(schema, since, until, bulk=bulk):
            if self.failures:
                raise self.failures.pop(0)
            yield page


class FakeCrmGatewayFactory:
    def __init__(self, gateway: FakeCrmGateway) -> None:
        self.gateway = gateway
        self.opened: list[OrgCredentials] = []

    def open(self, kind: str, instance_url: str | None, credentials: OrgCredentials) -> FakeCrmGateway:
        self.opened.append(credentials)
        return self.gateway


class FakeSyncUnitOfWork:
    """Every sync repository in dictionaries; changes become visible in `committed` only on commit."""

    def __init__(self, orgs: Sequence[Org] = ()) -> None:
        self.committed: dict[str, Any] = {
            "orgs": {org.id: org for org in orgs},
            "status": {},
            "credentials": {},
            "records": {},
            "cursors": {},
            "runs": {},
            "reconciliations": {},
        }
        self.commits = 0
        self._begin()

    def _begin(self) -> None:
        self.state = copy.deepcopy(self.committed)
        self.orgs = FakeOrgRepository(self.state["orgs"])
        self.org_status = _FakeOrgStatus(self.state)
        self.credentials = _FakeCredentials(self.state["credentials"])
        self.records = _FakeRecords(self.state["records"])
        self.cursors = _FakeCursors(self.state["cursors"])
        self.runs = _FakeRuns(self.state)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.rollback()

    async def commit(self) -> None:
        self.committed = copy.deepcopy(self.state)
        self.commits += 1

    async def rollback(self) -> None:
        self._begin()


class _FakeOrgStatus:
    def __init__(self, state: dict[str, Any]) -> None:
        self._state = state

    async def get(self, org_id: str) -> OrgStatus | None:
        return self._state["status"].get(org_id)

    async def set(self, org_id: str, status: OrgStatus) -> None:
        self._state["status"][org_id] = status

    async def remove_org(self, org_id: str) -> bool:
        found = self._state["orgs"].pop(org_id, None) is not None
        self._state["credentials"].pop(org_id, None)
        return found


class _FakeCredentials:
    def __init__(self, store: dict[str, SealedCredentials]) -> None:
        self._store = store

    async def get(self, org_id: str) -> SealedCredentials | None:
        return self._store.get(org_id)

    async def put(self, credentials: SealedCredentials) -> None:
        self._store[credentials.org_id] = credentials

    async def list(self) -> list[SealedCredentials]:
        return [self._store[key] for key in sorted(self._store)]


class _FakeRecords:
    """(org, object, id) -> record; the newer SystemModstamp wins, like the SQL merge."""

    def __init__(self, store: dict[tuple[str, str, str], CrmRecord]) -> None:
        self._store = store

    async def upsert(
        self, org_id: str, sobject: str, page: CrmRecordPage, default_currency: str
    ) -> PageSummary:
        last = None
        for record in page.records:
            key = (org_id, sobject, record.id)
            if key not in self._store or self._store[key].modstamp <= record.modstamp:
                self._store[key] = record
            last = SyncCursor(record.modstamp, record.id).later(last)
        deleted = sum(record.is_deleted for record in page.records)
        return PageSummary(len(page.records), deleted, last)

    async def count_live(self, org_id: str, sobject: str) -> int:
        return sum(
            1 for (o, s, _), r in self._store.items() if o == org_id and s == sobject and not r.is_deleted
        )


class _FakeCursors:
    def __init__(self, store: dict[tuple[str, str], StoredCursor]) -> None:
        self._store = store

    async def get(self, org_id: str, sobject: str) -> StoredCursor | None:
        return self._store.get((org_id, sobject))

    async def advance(self, org_id: str, sobject: str, cursor: SyncCursor, fields: Sequence[str]) -> None:
        stored = self._store.get((org_id, sobject))
        if stored is None or stored.cursor <= cursor:
            self._store[(org_id, sobject)] = StoredCursor(cursor, tuple(fields))

    async def reset(self, org_id: str) -> None:
        for key in [key for key in self._store if key[0] == org_id]:
            del self._store[key]


class _FakeRuns:
    def __init__(self, state: dict[str, Any]) -> None:
        self._state = state

    async def add(self, run: SyncRun) -> None:
        self._state["runs"][run.id] = copy.deepcopy(run)

    async def update(self, run: SyncRun) -> None:
        self._state["runs"][run.id] = copy.deepcopy(run)

    async def recent(self, org_id: str, limit: int) -> list[SyncRun]:
        runs = [run for run in self._state["runs"].values() if run.org_id == org_id]
        return sorted(runs, key=lambda run: run.started_at, reverse=True)[:limit]

    async def add_reconciliation(
        self, run_id: UUID, sobject: str, xsell_count: int, crm_count: int, checked_at: datetime
    ) -> None:
        self._state["reconciliations"][(run_id, sobject)] = (xsell_count, crm_count, checked_at)

    async def reconciliations(self, run_ids: Sequence[UUID]) -> list[Reconciliation]:
        wanted = set(run_ids)
        return [
            Reconciliation(run_id, sobject, xsell, crm, checked_at)
            for (run_id, sobject), (xsell, crm, checked_at) in sorted(
                self._state["reconciliations"].items(), key=lambda item: (str(item[0][0]), item[0][1])
            )
            if run_id in wanted
        ]


class FakeProbe:
    def __init__(self, name: str, failure: str | None = None) -> None:
        self.name = name
        self.failure = failure

    async def check(self) -> None:
        if self.failure is not None:
            raise DependencyUnavailableError(self.failure)
