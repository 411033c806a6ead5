"""ConfiguredCrmGatewayFactory: picks the CrmGateway adapter by org kind and hands it its credentials."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from requests.adapters import BaseAdapter

from adapters.crm.csv_export import CsvCrmGateway
from adapters.crm.memory import InMemoryCrmGateway
from adapters.crm.salesforce import SalesforceCrmGateway
from adapters.observability.redaction import remember_secret
from application.ports.crm import CrmGateway, CrmRequestError, OrgCredentials
from domain.sync import BackoffPolicy

__all__ = ["ConfiguredCrmGatewayFactory"]


class ConfiguredCrmGatewayFactory:
    """`transport` builds the requests adapter mounted on `https://` (None: the real Salesforce);
    `memory_orgs` serves orgs of kind `memory`, keyed by their instance URL."""

    def __init__(
        self,
        pool: ThreadPoolExecutor,
        *,
        concurrency: int = 4,
        timeout_s: float = 60.0,
        backoff: BackoffPolicy | None = None,
        transport: Callable[[], BaseAdapter] | None = None,
        memory_orgs: Mapping[str, InMemoryCrmGateway] | None = None,
        bulk_page_size: int = 50_000,
        bulk_poll_s: float = 0.5,
    ) -> None:
        self._pool = pool
        self._concurrency = concurrency
        self._timeout_s = timeout_s
        self._backoff = backoff
        self._transport = transport
        self._memory = dict(memory_orgs or {})
        self._bulk_page_size = bulk_page_size
        self._bulk_poll_s = bulk_poll_s

    def open(self, kind: str, instance_url: str | None, credentials: OrgCredentials) -> CrmGateway:
        for secret in credentials.secrets.values():
            remember_secret(secret)  # decrypted: keep it out of every log line from now on
        if kind == "salesforce":
            return SalesforceCrmGateway(
                credentials,
                self._pool,
                concurrency=self._concurrency,
                timeout_s=self._timeout_s,
                backoff=self._backoff,
                mount=self._transport() if self._transport else None,
                bulk_page_size=self._bulk_page_size,
                bulk_poll_s=self._bulk_poll_s,
                on_token=remember_secret,
            )
        if kind == "csv":
            folder = instance_url or credentials.login_url
            if not folder:
                raise CrmRequestError("a CSV org needs the folder of its exports")
            return CsvCrmGateway(Path(folder))
        if kind == "memory" and instance_url in self._memory:
            return self._memory[instance_url]
        raise CrmRequestError(f"no CRM adapter for an org of kind {kind!r} at {instance_url!r}")
