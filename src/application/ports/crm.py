"""CrmGateway: reading records from, and writing a few back to, one CRM org."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

__all__ = ["CrmGateway", "CrmRecord", "CrmRecordPage"]

CrmRecord = Mapping[str, Any]


@dataclass(frozen=True)
class CrmRecordPage:
    """Records in (SystemModstamp, Id) order; `deleted` holds ids removed in the CRM."""

    records: Sequence[CrmRecord]
    deleted: Sequence[str] = ()


class CrmGateway(Protocol):
    """One org's CRM. Every call has a timeout; errors are raised as CrmError subclasses."""

    async def describe(self, sobject: str) -> Sequence[str]:
        """Field names the integration user can read on this object."""
        ...

    def changes(
        self, sobject: str, fields: Sequence[str], since: datetime | None
    ) -> AsyncIterator[CrmRecordPage]:
        """Pages of records modified at or after `since` (everything when None), deletes included."""
        ...

    async def create(self, sobject: str, values: Mapping[str, Any]) -> str:
        """Create one record and return its 18-character id."""
        ...

    async def api_usage(self) -> tuple[int, int]:
        """(used, max) daily API requests as the org last reported them."""
        ...
