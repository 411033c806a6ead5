"""Shared pieces of the sync integration tests: a fake group, a wired SyncOrg, and digests to compare."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from adapters.crm.factory import ConfiguredCrmGatewayFactory
from adapters.persistence.crm_records import SYNCED_TABLES
from adapters.persistence.engine import create_engine, create_session_factory
from adapters.persistence.sync_unit_of_work import SqlaSyncUnitOfWork
from adapters.security.secret_box import AesGcmSecretBox, generate_key
from application.orgs import AddOrg
from application.ports.crm import OrgCredentials
from application.sync import SyncOptions, SyncOrg
from domain.org import Org, OrgKind
from domain.sync import SYNC_OBJECTS, BackoffPolicy
from simulators.salesforce import FakeSalesforceAdapter, FakeSalesforceServer
from simulators.salesforce.org import FakeOrg

KEY = generate_key()
FAST_BACKOFF = BackoffPolicy(attempts=8, base_s=0.01, cap_s=0.05)
_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def credentials_for(org: FakeOrg, flow: str = "password") -> OrgCredentials:
    app, user = org.apps[0], org.users[0]
    if flow == "password":
        return OrgCredentials(
            "password", "https://login.salesforce.com", user.username, app.client_id,
            {"password": user.password, "client_secret": app.client_secret},
        )  # fmt: skip
    if flow == "client_credentials":
        return OrgCredentials(
            "client_credentials", f"https://{org.my_domain}.salesforce.com", None, app.client_id,
            {"client_secret": app.client_secret},
        )  # fmt: skip
    return OrgCredentials(
        "jwt", "https://login.salesforce.com", user.username, app.client_id,
        {"private_key": app.private_key_pem.decode()},
    )  # fmt: skip


@dataclass
class SyncHarness:
    server: FakeSalesforceServer
    database_url: str
    engine: Any
    factory: Any
    gateways: ConfiguredCrmGatewayFactory
    box: AesGcmSecretBox

    def sync_org(
        self, options: SyncOptions | None = None, checkpoint: Callable[[str], None] | None = None
    ) -> SyncOrg:
        uow = SqlaSyncUnitOfWork(self.factory())
        return SyncOrg(uow, self.gateways, self.box, SystemClock(), options, checkpoint)

    async def add(self, name: str, flow: str = "password") -> None:
        org = self.server.org(name)
        async with self.factory() as session:
            add = AddOrg(SqlaSyncUnitOfWork(session), self.box, SystemClock())
            entity = Org(name, f"Org {name}", OrgKind.SALESFORCE, name, "USD")
            await add.execute(entity, credentials_for(org, flow))

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.engine.connect() as connection:
            return (await connection.execute(text(sql), params)).scalar()


@asynccontextmanager
async def harness(server: FakeSalesforceServer, database_url: str) -> AsyncIterator[SyncHarness]:
    engine = create_engine(database_url, pool_size=2)
    pool = ThreadPoolExecutor(max_workers=4)
    gateways = ConfiguredCrmGatewayFactory(
        pool, timeout_s=10, backoff=FAST_BACKOFF, bulk_poll_s=0.05,
        transport=lambda: FakeSalesforceAdapter(server.host_map()),
    )  # fmt: skip
    try:
        factory = create_session_factory(engine)
        yield SyncHarness(server, database_url, engine, factory, gateways, AesGcmSecretBox([KEY]))
    finally:
        pool.shutdown(wait=False)
        await engine.dispose()


def _canon(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return round(float(value), 4)
    text_value = str(value)
    if _DATETIME.match(text_value):
        return text_value[:23]  # to the millisecond; zones are UTC on both sides
    return text_value


def _digest(rows: dict[str, dict[str, Any]]) -> tuple[int, str]:
    hasher = hashlib.sha256()
    for record_id in sorted(rows):
        values = rows[record_id]
        hasher.update(json.dumps([record_id, sorted((k, _canon(v)) for k, v in values.items())]).encode())
    return len(rows), hasher.hexdigest()


def fake_digest(org: FakeOrg, sobject: str, fields: list[str]) -> tuple[int, str]:
    """Count and checksum of the org's live records over `fields`."""
    table = org.data.tables[sobject]
    rows = {}
    for row in table.rows:
        if row[table.columns["IsDeleted"]] or row[0] in table.late:
            continue
        record = table.as_dict(row)
        rows[row[0]] = {name: record.get(name) for name in fields}
    return _digest(rows)


async def xsell_digest(h: SyncHarness, org_id: str, sobject: str) -> tuple[tuple[int, str], list[str]]:
    """Count and checksum of xsell's live records, and the fields they carry."""
    table = SYNCED_TABLES[sobject].name
    kind = {"Task": "task", "Event": "event"}.get(sobject)
    sql = f"SELECT external_id, fields FROM {table} WHERE org_id = :org AND NOT is_deleted"  # noqa: S608
    if kind:
        sql += f" AND kind = '{kind}'"
    async with h.engine.connect() as connection:
        result = (await connection.execute(text(sql), {"org": org_id})).all()
    rows = {}
    fields: set[str] = set()
    for external_id, values in result:
        rows[external_id] = dict(values)
        fields |= set(values)
    return _digest(rows), sorted(fields)


async def assert_in_step(h: SyncHarness, org_id: str, objects: tuple[str, ...] = SYNC_OBJECTS) -> None:
    with h.server.lock:
        org = h.server.org(org_id)
        for sobject in objects:
            ours, fields = await xsell_digest(h, org_id, sobject)
            theirs = fake_digest(org, sobject, fields)
            assert ours == theirs, f"{sobject}: xsell {ours[0]} records, org {theirs[0]}"
