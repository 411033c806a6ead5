"""Connecting clients to the fake: a `requests` transport adapter for simple-salesforce, and a one-call
`connect_simple_salesforce` for tests and adapters.

Why an adapter and not TLS: simple-salesforce hard-codes `https://` for login and data URLs. The adapter,
mounted on the session's `https://` prefix, rewrites each request to `http://127.0.0.1:PORT` of the
login host or org it names (login.salesforce.com, `{name}.my.salesforce.com`, or the instance host), so no
certificates are involved and the same server also answers plain httpx.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from simulators.salesforce.server import FakeSalesforceServer

__all__ = ["FakeSalesforceAdapter", "connect_simple_salesforce", "salesforce_session"]


class FakeSalesforceAdapter(HTTPAdapter):
    """Sends `https://{host}/…` to `http://{host_map[host]}/…`; unknown hosts are refused."""

    def __init__(self, host_map: dict[str, str]) -> None:
        super().__init__()
        self.host_map = host_map

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        parts = urllib.parse.urlsplit(str(request.url))
        target = self.host_map.get(parts.netloc) or self.host_map.get(parts.hostname or "")
        if target is None:
            raise requests.ConnectionError(f"{parts.netloc} is not served by the fake Salesforce")
        request.url = urllib.parse.urlunsplit(("http", target, parts.path, parts.query, parts.fragment))
        return super().send(request, *args, **kwargs)


def salesforce_session(server: FakeSalesforceServer) -> requests.Session:
    session = requests.Session()
    session.mount("https://", FakeSalesforceAdapter(server.host_map()))
    return session


def connect_simple_salesforce(
    server: FakeSalesforceServer,
    org_name: str,
    *,
    flow: str = "password",
    username: str | None = None,
    version: str = "59.0",
    key_file: Path | None = None,
) -> Any:
    """A logged-in `simple_salesforce.Salesforce` for one org of a running fake.

    `flow`: `password` (OAuth password grant), `client_credentials`, `jwt` (JWT bearer signed with the
    connected app's private key), or `soap` (username + password + security token).
    """
    from simple_salesforce.api import Salesforce

    org = server.org(org_name)
    user = org.user_named(username) if username else org.users[0]
    if user is None:
        raise ValueError(f"org {org_name} has no user {username!r}")
    app = org.apps[0]
    session = salesforce_session(server)
    if flow == "password":
        return Salesforce(
            username=user.username,
            password=user.password,
            consumer_key=app.client_id,
            consumer_secret=app.client_secret,
            session=session,
            version=version,
        )
    if flow == "client_credentials":
        return Salesforce(
            consumer_key=app.client_id,
            consumer_secret=app.client_secret,
            domain=org.my_domain,
            session=session,
            version=version,
        )
    if flow == "jwt":
        if key_file is not None:
            return Salesforce(
                username=user.username,
                consumer_key=app.client_id,
                privatekey_file=str(key_file),
                session=session,
                version=version,
            )
        return Salesforce(
            username=user.username,
            consumer_key=app.client_id,
            privatekey=app.private_key_pem.decode(),
            session=session,
            version=version,
        )
    if flow == "soap":
        return Salesforce(
            username=user.username,
            password=user.password,
            security_token=user.security_token,
            session=session,
            version=version,
        )
    raise ValueError(f"unknown login flow {flow!r}")
