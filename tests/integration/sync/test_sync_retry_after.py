"""JOB-5: a 429 with `Retry-After` is retried no sooner than the header asks, and a Retry-After longer than
the backoff cap ends the call as a transient failure instead of holding the worker. Real HTTP: a small
proxy in front of the fake Salesforce answers the first query with the 429."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from tests.integration.sync.sync_support import credentials_for

from adapters.crm.salesforce import SalesforceCrmGateway
from application.ports.crm import CrmTransientError
from domain.sync import BackoffPolicy
from simulators.salesforce import FakeSalesforceAdapter, FakeSalesforceServer, ServerSettings
from simulators.salesforce.generator import GroupSpec, MemorySink, generate_company_group

# Fast retries (10 ms) that may still wait up to 2 s when a Retry-After asks for it.
_BACKOFF = BackoffPolicy(attempts=3, base_s=0.01, cap_s=2.0)


class _Proxy(ThreadingHTTPServer):
    """Forwards to the fake org; refuses the first `refusals` queries with 429 and `retry_after`."""

    def __init__(self, target: str, retry_after: str, refusals: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.target = target
        self.retry_after = retry_after
        self.refusals = refusals
        self.queries: list[float] = []


class _Handler(BaseHTTPRequestHandler):
    server: _Proxy

    def log_message(self, *args: object) -> None:
        pass

    def _forward(self) -> None:
        proxy = self.server
        if "/query" in self.path:
            proxy.queries.append(time.monotonic())
            if len(proxy.queries) <= proxy.refusals:
                body = b'[{"message":"slow down","errorCode":"REQUEST_LIMIT_RATE"}]'
                self.send_response(429)
                self.send_header("Retry-After", proxy.retry_after)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
        length = int(self.headers.get("Content-Length") or 0)
        upstream = requests.request(
            self.command,
            f"http://{proxy.target}{self.path}",
            headers={k: v for k, v in self.headers.items() if k.lower() != "host"},
            data=self.rfile.read(length) if length else None,
            timeout=10,
        )
        self.send_response(upstream.status_code)
        for name, value in upstream.headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(upstream.content)))
        self.end_headers()
        self.wfile.write(upstream.content)

    do_GET = do_POST = _forward


@pytest.fixture
def server() -> Iterator[FakeSalesforceServer]:
    sink = MemorySink()
    generate_company_group(GroupSpec(orgs=1, accounts=20, seed=5), sink)
    with FakeSalesforceServer(sink.orgs(), ServerSettings()) as running:
        yield running


def _gateway(server: FakeSalesforceServer, proxy: _Proxy) -> SalesforceCrmGateway:
    org = server.org("bu1")
    instance_host = org.instance_url.split("://", 1)[1]
    hosts = dict(server.host_map())
    for host, target in server.host_map().items():
        if target == instance_host:
            hosts[host] = f"127.0.0.1:{proxy.server_address[1]}"
    return SalesforceCrmGateway(
        credentials_for(org), ThreadPoolExecutor(2), timeout_s=10, backoff=_BACKOFF,
        mount=FakeSalesforceAdapter(hosts),
    )  # fmt: skip


@pytest.fixture
def proxy_factory(server: FakeSalesforceServer) -> Iterator[list[_Proxy]]:
    started: list[_Proxy] = []
    yield started
    for proxy in started:
        proxy.shutdown()
        proxy.server_close()


def _start(server: FakeSalesforceServer, started: list[_Proxy], retry_after: str, refusals: int) -> _Proxy:
    proxy = _Proxy(server.org("bu1").instance_url.split("://", 1)[1], retry_after, refusals)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    started.append(proxy)
    return proxy


async def test_a_429_is_retried_after_the_retry_after_it_names(
    server: FakeSalesforceServer, proxy_factory: list[_Proxy]
) -> None:
    proxy = _start(server, proxy_factory, "1", refusals=1)
    gateway = _gateway(server, proxy)
    try:
        assert await gateway.count("Account") == len(server.org("bu1").data.tables["Account"].rows)
    finally:
        await gateway.close()
    first, second = proxy.queries
    # The backoff alone would retry within 10 ms.
    assert second - first >= 0.95


async def test_a_retry_after_beyond_the_backoff_cap_fails_fast_as_transient(
    server: FakeSalesforceServer, proxy_factory: list[_Proxy]
) -> None:
    proxy = _start(server, proxy_factory, "3600", refusals=5)
    gateway = _gateway(server, proxy)
    started = time.monotonic()
    try:
        with pytest.raises(CrmTransientError, match="Retry-After 3600"):
            await gateway.count("Account")
    finally:
        await gateway.close()
    assert time.monotonic() - started < 5
    assert len(proxy.queries) == 1
