"""Queries over synced accounts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from application.errors import InvalidRequestError
from application.pagination import Page, decode_cursor, encode_cursor
from application.ports.unit_of_work import UnitOfWork
from domain.account import Account, AccountKey

__all__ = ["AccountQuery", "ListAccounts"]

_CURSOR_KIND = "accounts"


@dataclass(frozen=True)
class AccountQuery:
    """Which accounts to list: optionally only some orgs; `limit` per page; `cursor` from the last page."""

    org_ids: Sequence[str] = field(default_factory=tuple)
    limit: int = 50
    cursor: str | None = None


class ListAccounts:
    """Lists accounts across orgs in a stable order, one keyset page at a time."""

    def __init__(self, uow: UnitOfWork, max_page_size: int = 500) -> None:
        self._uow = uow
        self._max_page_size = max_page_size

    async def execute(self, query: AccountQuery) -> Page[Account]:
        """Raises InvalidRequestError for a bad limit, InvalidCursorError for a cursor xsell did not issue."""
        if not 1 <= query.limit <= self._max_page_size:
            raise InvalidRequestError(f"limit must be between 1 and {self._max_page_size}, got {query.limit}")
        after = None
        if query.cursor is not None:
            org_id, external_id = decode_cursor(_CURSOR_KIND, query.cursor, 2)
            after = AccountKey(org_id, external_id)
        async with self._uow:
            # One extra row tells whether another page exists without a COUNT.
            rows = await self._uow.accounts.list_after(sorted(set(query.org_ids)), after, query.limit + 1)
        items = rows[: query.limit]
        next_cursor = None
        if len(rows) > query.limit:
            last = items[-1].key
            next_cursor = encode_cursor(_CURSOR_KIND, (last.org_id, last.external_id))
        return Page(items=items, next_cursor=next_cursor)
