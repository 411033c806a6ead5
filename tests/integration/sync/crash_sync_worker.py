"""Run by the crash-point test in a child process: sync one org and SIGKILL itself at a chosen point.

argv: DATABASE_URL HOST_MAP_JSON KEY ORG POINT HIT   (POINT `none` runs to the end)
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from adapters.crm.factory import ConfiguredCrmGatewayFactory
from adapters.persistence.engine import create_engine, create_session_factory
from adapters.persistence.sync_unit_of_work import SqlaSyncUnitOfWork
from adapters.security.secret_box import AesGcmSecretBox
from application.sync import SyncOptions, SyncOrg
from domain.sync import BackoffPolicy
from simulators.salesforce import FakeSalesforceAdapter


class _Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


async def main(database_url: str, host_map: dict[str, str], key: str, org: str, point: str, hit: int) -> None:
    seen = {"count": 0}

    def checkpoint(name: str) -> None:
        if name == point:
            seen["count"] += 1
            if seen["count"] == hit:
                os.kill(os.getpid(), signal.SIGKILL)

    engine = create_engine(database_url, pool_size=1)
    gateways = ConfiguredCrmGatewayFactory(
        ThreadPoolExecutor(2), backoff=BackoffPolicy(5, 0.01, 0.05),
        transport=lambda: FakeSalesforceAdapter(host_map),
    )  # fmt: skip
    options = SyncOptions(objects=("Account", "Contact"), reconcile=False)
    use_case = SyncOrg(
        SqlaSyncUnitOfWork(create_session_factory(engine)()),
        gateways,
        AesGcmSecretBox([key]),
        _Clock(),
        options,
        checkpoint,
    )
    report = await use_case.execute(org)
    print(report.status.value)
    await engine.dispose()


if __name__ == "__main__":
    url, hosts, secret, org_name, point_name, nth = sys.argv[1:7]
    asyncio.run(main(url, json.loads(hosts), secret, org_name, point_name, int(nth)))
