"""Runs the fake on real localhost sockets: one login port plus one port (instance URL) per org.

Start it in-process (a background thread running uvicorn) or from `xsell fake-salesforce`:

    with FakeSalesforceServer([new_org("bu1", 0), new_org("bu2", 1)]) as server:
        server.login_url          # http://127.0.0.1:PORT  (stands in for https://login.salesforce.com)
        server.org("bu1").instance_url

Instance URLs are plain `http://127.0.0.1:PORT`, so httpx and curl use them as they are. simple-salesforce
always builds `https://` URLs; `client.salesforce_session(server)` mounts a transport adapter that sends
them to the right port over http (see `client`).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from types import TracebackType

import uvicorn

from simulators.salesforce.app import FakeSalesforceApp
from simulators.salesforce.org import FakeOrg
from simulators.salesforce.settings import ServerSettings

__all__ = ["FakeSalesforceServer", "ServerStartError"]


class ServerStartError(RuntimeError):
    """The server could not bind its ports or did not come up in time."""


class FakeSalesforceServer:
    """A running fake Salesforce; `port=0` picks free ports (login port first, then one per org)."""

    def __init__(
        self,
        orgs: list[FakeOrg],
        settings: ServerSettings | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        quiet: bool = True,
    ) -> None:
        if not orgs:
            raise ValueError("a fake Salesforce serves at least one org")
        names = [org.name for org in orgs]
        if len(set(names)) != len(names):
            raise ValueError(f"org names must be unique: {names}")
        self.settings = settings or ServerSettings()
        self.host = host
        self.app = FakeSalesforceApp(orgs, self.settings)
        self._requested_port = port
        self._quiet = quiet
        self._sockets: list[socket.socket] = []
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.login_port = 0

    @property
    def orgs(self) -> list[FakeOrg]:
        return list(self.app.orgs.values())

    def org(self, name: str) -> FakeOrg:
        return self.app.orgs[name]

    @property
    def login_url(self) -> str:
        return f"http://{self.host}:{self.login_port}"

    @property
    def lock(self) -> threading.RLock:
        """Hold this while changing org data from outside the server thread."""
        return self.app.lock

    def _bind(self) -> None:
        ports = [0] * (1 + len(self.orgs))
        if self._requested_port:
            ports = [self._requested_port + offset for offset in range(len(ports))]
        try:
            for port in ports:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                self._sockets.append(sock)
                sock.bind((self.host, port))
        except OSError as error:
            self._close_sockets()
            raise ServerStartError(f"cannot listen on {self.host}:{port}: {error.strerror}") from None
        self.login_port = self._sockets[0].getsockname()[1]
        for org, sock in zip(self.orgs, self._sockets[1:], strict=True):
            port = sock.getsockname()[1]
            org.instance_url = f"http://{self.host}:{port}"
            self.app.port_orgs[port] = org

    def _close_sockets(self) -> None:
        for sock in self._sockets:
            sock.close()
        self._sockets = []

    def start(self, timeout_s: float = 10.0) -> FakeSalesforceServer:
        if self._thread is not None:
            return self
        self._bind()
        if self._quiet:
            # Injected connection resets make uvicorn log an error per request; they are on purpose.
            logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
        config = uvicorn.Config(
            self.app,
            log_level="critical" if self._quiet else "warning",
            access_log=False,
            lifespan="off",
            http="httptools",
            loop="asyncio",
            server_header=False,
            timeout_keep_alive=30,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": self._sockets}, name="fake-salesforce", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise ServerStartError("the fake Salesforce server did not start")
            time.sleep(0.01)
        return self

    def serve_forever(self) -> None:
        """Block until interrupted (the CLI)."""
        self.start()
        assert self._thread is not None
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self._thread = None
        self._server = None
        self._close_sockets()

    def __enter__(self) -> FakeSalesforceServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def host_map(self) -> dict[str, str]:
        """Where each Salesforce host name a client may use is served (`host` → `127.0.0.1:PORT`)."""
        login = f"{self.host}:{self.login_port}"
        mapping = {"login.salesforce.com": login, "test.salesforce.com": login}
        for org in self.orgs:
            served = org.instance_url.split("://", 1)[1]
            mapping[f"{org.my_domain}.salesforce.com"] = served
            mapping[served] = served
        mapping[login] = login
        return mapping
