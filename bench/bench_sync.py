"""First full sync of a generated company group from the fake Salesforce (real HTTP, real simple-salesforce,
Bulk API 2.0) into PostgreSQL, end to end, beside raw asyncpg COPY of the same rows in the same run.

The fake server runs in its own process (spawned, generating its orgs there), as Salesforce would: in the
sync's process it shared the GIL and its CSV rendering was billed to the sync.

The issue's size is 3 orgs x 100k accounts (6.83M records): `XSELL_BENCH_SYNC_ACCOUNTS=300000` (total
accounts across the 3 orgs) runs it in about 6 minutes on the 2 cores of an AMD EPYC of CPU family 26
(2 of them generating the fake orgs; 24 minutes on an older machine pinned to one CPU), with the fake
server holding about 5 GiB of memory. The default is 30k accounts in all (681k records, under a minute
there) and the row says which size it ran.

Besides wall time, the row reports the CPU seconds of each process during the sync (xsell, the fake
server, PostgreSQL), so a bottleneck outside xsell shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import asyncpg
import psutil
from sqlalchemy.engine import make_url

from adapters.crm.factory import ConfiguredCrmGatewayFactory
from adapters.embedded.services import running_services
from adapters.persistence.crm_records import SYNCED_TABLES
from adapters.persistence.engine import create_engine, create_session_factory
from adapters.persistence.migrations import upgrade
from adapters.persistence.sync_unit_of_work import SqlaSyncUnitOfWork
from adapters.security.secret_box import AesGcmSecretBox, generate_key
from application.orgs import AddOrg
from application.ports.crm import OrgCredentials
from application.sync import SyncOptions, SyncOrg
from domain.org import Org, OrgKind
from simulators.salesforce import FakeSalesforceAdapter, FakeSalesforceServer, ServerSettings
from simulators.salesforce.generator import GroupSpec, MemorySink, generate_company_group

ISSUE_ACCOUNTS = 300_000
ACCOUNTS = int(os.environ.get("XSELL_BENCH_SYNC_ACCOUNTS", "30000"))
_COPY_CHUNK = 50_000


class _Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


async def _connect(database_url: str) -> asyncpg.Connection:
    url = make_url(database_url)
    return await asyncpg.connect(
        user=url.username, host=url.host or url.query.get("host"), port=url.port, database=url.database
    )


def _serve(accounts: int, channel: Connection) -> None:
    """The fake server's process: generate the group, serve it, report how to reach it, wait for stop."""
    sink = MemorySink()
    started = time.perf_counter()
    generate_company_group(GroupSpec(orgs=3, accounts=accounts, seed=1), sink)
    generated = time.perf_counter() - started
    with FakeSalesforceServer(sink.orgs(), ServerSettings(bulk_default_max_records=50_000)) as server:
        logins = [
            (
                org.name,
                org.users[0].username,
                org.users[0].password,
                org.apps[0].client_id,
                org.apps[0].client_secret,
            )
            for org in server.orgs
        ]
        channel.send({"host_map": server.host_map(), "logins": logins, "generated_s": generated})
        while channel.recv() == "cpu":
            channel.send(time.process_time())


async def _sync(database_url: str, served: dict[str, Any]) -> tuple[int, float, float]:
    engine = create_engine(database_url, pool_size=4)
    factory = create_session_factory(engine)
    box = AesGcmSecretBox([generate_key()])
    pool = ThreadPoolExecutor(max_workers=8)
    gateways = ConfiguredCrmGatewayFactory(
        pool, bulk_poll_s=0.05, transport=lambda: FakeSalesforceAdapter(served["host_map"])
    )
    names = []
    for name, username, password, client_id, client_secret in served["logins"]:
        names.append(name)
        credentials = OrgCredentials(
            "password", None, username, client_id, {"password": password, "client_secret": client_secret}
        )
        async with factory() as session:
            entity = Org(name, name, OrgKind.SALESFORCE, name, "USD")
            await AddOrg(SqlaSyncUnitOfWork(session), box, _Clock()).execute(entity, credentials)

    async def one(name: str) -> int:
        async with factory() as session:
            use_case = SyncOrg(SqlaSyncUnitOfWork(session), gateways, box, _Clock(), SyncOptions())
            report = await use_case.execute(name)
        assert report.status.value == "completed", report.reason
        return sum(c["upserted"] + c["deleted"] for c in report.counts.values())

    started, cpu = time.perf_counter(), time.process_time()
    counts = await asyncio.gather(*(one(name) for name in names))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    pool.shutdown()
    await engine.dispose()
    return sum(counts), elapsed, cpu


async def _raw_copy(database_url: str) -> tuple[int, float]:
    """COPY the rows the sync wrote into empty tables of the same shape: the floor of any loader. The rows
    are read back a chunk at a time (not timed), so one chunk is all the bench holds in memory."""
    source, target = await _connect(database_url), await _connect(database_url)
    try:
        copying, total = 0.0, 0
        for table in sorted({t.name for t in SYNCED_TABLES.values()}):
            await target.execute(f"CREATE TABLE raw_{table} (LIKE {table} INCLUDING DEFAULTS)")
            async with source.transaction():
                cursor = await source.cursor(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
                while rows := await cursor.fetch(_COPY_CHUNK):
                    columns, records = list(rows[0].keys()), [tuple(row.values()) for row in rows]
                    started = time.perf_counter()
                    await target.copy_records_to_table(f"raw_{table}", records=records, columns=columns)
                    copying += time.perf_counter() - started
                    total += len(records)
        return total, copying
    finally:
        await source.close()
        await target.close()


def _pg_cpu(postmaster: int | None) -> float:
    """CPU seconds of PostgreSQL so far: the postmaster, its live backends, and the backends it reaped."""
    if postmaster is None:
        return 0.0
    root = psutil.Process(postmaster)
    times = root.cpu_times()
    total = times.user + times.system + times.children_user + times.children_system
    for child in root.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            child_times = child.cpu_times()
            total += child_times.user + child_times.system
    return total


def run() -> list[dict[str, object]]:
    context = multiprocessing.get_context("spawn")
    channel, child_end = context.Pipe()
    server = context.Process(target=_serve, args=(ACCOUNTS, child_end), daemon=True)
    server.start()
    try:
        served = channel.recv()
        generated = served["generated_s"]
        with tempfile.TemporaryDirectory() as data, running_services(None, None, Path(data)) as urls:
            upgrade(urls.database_url)
            postmaster = urls.server_pids[0] if urls.server_pids else None
            channel.send("cpu")
            server_cpu, pg_cpu = channel.recv(), _pg_cpu(postmaster)
            synced, sync_s, sync_cpu_s = asyncio.run(_sync(urls.database_url, served))
            channel.send("cpu")
            server_cpu, pg_cpu = channel.recv() - server_cpu, _pg_cpu(postmaster) - pg_cpu
            copied, copy_s = asyncio.run(_raw_copy(urls.database_url))
    finally:
        channel.send("stop")
        server.join(timeout=30)
    sync_rate, copy_rate = synced / sync_s, copied / copy_s
    size = (
        "the issue's size" if ACCOUNTS >= ISSUE_ACCOUNTS else f"issue: {ISSUE_ACCOUNTS:,}, see bench_sync.py"
    )
    return [
        {
            "stage": f"first full sync, 3 orgs, {ACCOUNTS:,} accounts ({size}), {synced:,} records"
            f" (generated in {generated:.0f} s)",
            # CPU of each process (all its threads) during the sync: xsell, the fake server, PostgreSQL.
            "figure": f"{sync_rate:,.0f} records/s ({sync_s:.1f} s; CPU s: xsell {sync_cpu_s:.1f},"
            f" fake server {server_cpu:.1f}, PostgreSQL {pg_cpu:.1f})",
            "baseline": f"{copy_rate:,.0f} rows/s raw asyncpg COPY ({copy_s:.1f} s)",
            "ratio": sync_rate / copy_rate,
        }
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
