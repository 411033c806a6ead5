"""Server-wide knobs of the fake: page sizes, token lifetime, Bulk job pacing, cursor lifetime."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ServerSettings"]


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """`page_size` is the REST query batch (Salesforce: 2000, fewer if the client asks for fewer).

    `bulk_in_progress_polls`: how many status polls a Bulk 2.0 job reports InProgress before JobComplete.
    `admin`: serve the test-only `/__admin` endpoint (faults and record mutations).
    """

    page_size: int = 2000
    token_lifetime_s: float = 7200.0
    bulk_in_progress_polls: int = 1
    bulk_default_max_records: int = 100_000
    cursor_idle_s: float = 900.0
    max_cursors_per_org: int = 50
    admin: bool = False
    api_versions: tuple[str, ...] = ("57.0", "58.0", "59.0", "60.0", "61.0", "62.0")
