"""A create is not idempotent: the Salesforce gateway sends it again only when Salesforce answered that it
did not process it (503), never after a 500 or a connection cut after the record was made."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from tests.integration.sync.sync_support import FAST_BACKOFF, credentials_for

from adapters.crm.salesforce import SalesforceCrmGateway
from application.ports.crm import CrmTransientError
from simulators.salesforce import FakeSalesforceAdapter, FakeSalesforceServer, ServerSettings
from simulators.salesforce.generator import GroupSpec, MemorySink, generate_company_group


class _Draws:
    """Stands in for the org's random source: every draw is `value` (so every fault roll is the same)."""

    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value

    def randrange(self, stop: int) -> int:
        return 7


@pytest.fixture
def server() -> Iterator[FakeSalesforceServer]:
    sink = MemorySink()
    generate_company_group(GroupSpec(orgs=1, accounts=3, seed=4), sink)
    with FakeSalesforceServer(sink.orgs(), ServerSettings(page_size=40)) as running:
        yield running


def _tasks(server: FakeSalesforceServer) -> int:
    with server.lock:
        return len(server.org("bu1").data.tables["Task"].rows)


@pytest.mark.parametrize(
    ("faults", "draw", "requests", "created"),
    [
        ({"error_rate": 1.0}, 0.7, FAST_BACKOFF.attempts, 0),  # 503 every time: sent again, then raised
        ({"error_rate": 1.0}, 0.1, 1, 0),  # 500 UNKNOWN_EXCEPTION: it may have been made; sent once
        ({"reset_rate": 1.0}, 0.1, 1, 1),  # made, then the answer was cut: sent once, one record
    ],
)
async def test_a_failed_create_is_sent_again_only_when_salesforce_did_not_process_it(
    server: FakeSalesforceServer, faults: dict[str, float], draw: float, requests: int, created: int
) -> None:
    org = server.org("bu1")
    pool = ThreadPoolExecutor(max_workers=1)
    gateway = SalesforceCrmGateway(
        credentials_for(org),
        pool,
        timeout_s=10,
        backoff=FAST_BACKOFF,
        mount=FakeSalesforceAdapter(server.host_map()),
    )
    try:
        await gateway.limits()  # logged in, so only the creates count below
        tasks = _tasks(server)
        with server.lock:
            org.apply_faults(faults)
            org.rng = _Draws(draw)  # type: ignore[assignment]
            used = org.api_used
        with pytest.raises(CrmTransientError):
            await gateway.create("Task", {"Subject": "Call", "Status": "Not Started", "Priority": "Normal"})
        with server.lock:
            assert org.api_used - used == requests
        assert _tasks(server) - tasks == created
    finally:
        await gateway.close()
        pool.shutdown(wait=False)
