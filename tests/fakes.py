"""Working in-memory implementations of the application ports, for unit tests of use cases."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

from application.errors import DependencyUnavailableError
from application.ports import CrmRecordPage
from domain.account import Account, AccountKey
from domain.ids import SalesforceId
from domain.org import Org


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
    def __init__(self) -> None:
        self.jobs: list[tuple[str, str, dict[str, Any]]] = []
        self._ids = itertools.count(1)

    async def enqueue(self, job: str, payload: Mapping[str, str | int | float | bool | None]) -> str:
        job_id = f"job-{next(self._ids)}"
        self.jobs.append((job_id, job, dict(payload)))
        return job_id


class FakeSecretBox:
    """Reversible but bound to its record, like the real one; not encryption, only for tests."""

    def seal(self, plaintext: str, bound_to: str) -> bytes:
        return f"{bound_to}\x00{plaintext}".encode()

    def open(self, ciphertext: bytes, bound_to: str) -> str:
        owner, _, plaintext = ciphertext.decode().partition("\x00")
        if owner != bound_to:
            raise ValueError("sealed for another record")
        return plaintext


class FakeCrmGateway:
    """An org held in memory: records per object, each with Id and SystemModstamp."""

    def __init__(self, records: Mapping[str, list[dict[str, Any]]] | None = None, page_size: int = 2) -> None:
        self.records = {name: list(rows) for name, rows in (records or {}).items()}
        self.deleted: dict[str, list[str]] = {}
        self.page_size = page_size
        self.created: list[tuple[str, dict[str, Any]]] = []
        self.calls = 0

    async def describe(self, sobject: str) -> Sequence[str]:
        rows = self.records.get(sobject, [])
        return sorted({name for row in rows for name in row})

    async def changes(
        self, sobject: str, fields: Sequence[str], since: datetime | None
    ) -> AsyncIterator[CrmRecordPage]:
        rows = sorted(self.records.get(sobject, []), key=lambda row: (row["SystemModstamp"], row["Id"]))
        if since is not None:
            rows = [row for row in rows if row["SystemModstamp"] >= since]
        for start in range(0, len(rows), self.page_size):
            self.calls += 1
            chunk = rows[start : start + self.page_size]
            yield CrmRecordPage([{name: row.get(name) for name in fields} for row in chunk])
        if self.deleted.get(sobject):
            yield CrmRecordPage([], deleted=list(self.deleted[sobject]))

    async def create(self, sobject: str, values: Mapping[str, Any]) -> str:
        record_id = SalesforceId.parse(f"00T{len(self.created):012d}").value
        self.created.append((sobject, dict(values)))
        return record_id

    async def api_usage(self) -> tuple[int, int]:
        return (self.calls, 15_000)


class FakeProbe:
    def __init__(self, name: str, failure: str | None = None) -> None:
        self.name = name
        self.failure = failure

    async def check(self) -> None:
        if self.failure is not None:
            raise DependencyUnavailableError(self.failure)
