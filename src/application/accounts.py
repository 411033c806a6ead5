"""Queries over synced accounts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from application.errors import InvalidRequestError
from application.pagination import Page, decode_cursor, encode_cursor
from application.ports.unit_of_work import UnitOfWork
from domain.access import Principal
from domain.account import Account, AccountKey
from domain.errors import NotFoundError

__all__ = ["AccountQuery", "ListAccounts"]

_CURSOR_KIND = "accounts"


@dataclass(frozen=True)
class AccountQuery:
    """Which accounts to list: optionally only some orgs; `limit` per page; `cursor` from the last page."""

    org_ids: Sequence[str] = field(default_factory=tuple)
    limit: int = 50
    cursor: str | None = None


class ListAccounts:
    """Lists the accounts of the orgs the caller may read, in a stable order, one keyset page at a time."""

    def __init__(self, uow: UnitOfWork, max_page_size: int = 500) -> None:
        self._uow = uow
        self._max_page_size = max_page_size

    async def execute(self, query: AccountQuery, principal: Principal) -> Page[Account]:
        """Raises InvalidRequestError for a bad limit, InvalidCursorError for a cursor xsell did not issue,
        NotFoundError for an org filter naming an org that does not exist or is not granted (the same
        answer for both, so the caller learns nothing about orgs it may not see)."""
        if not 1 <= query.limit <= self._max_page_size:
            raise InvalidRequestError(f"limit must be between 1 and {self._max_page_size}, got {query.limit}")
        after = None
        if query.cursor is not None:
            org_id, external_id = decode_cursor(_CURSOR_KIND, query.cursor, 2)
            after = AccountKey(org_id, external_id)
        requested = sorted(set(query.org_ids))
        async with self._uow:
            for org_id in requested:
                if not principal.can_read_org(org_id) or await self._uow.orgs.get(org_id) is None:
                    raise NotFoundError(f"no org {org_id}")
            # The repository reads every org for an empty filter: only an admin may get that.
            org_ids = requested or ([] if principal.is_admin else sorted(principal.org_ids))
            if not org_ids and not principal.is_admin:
                return Page(items=[], next_cursor=None)
            # One extra row tells whether another page exists without a COUNT.
            rows = await self._uow.accounts.list_after(org_ids, after, query.limit + 1)
        items = rows[: query.limit]
        next_cursor = None
        if len(rows) > query.limit:
            last = items[-1].key
            next_cursor = encode_cursor(_CURSOR_KIND, (last.org_id, last.external_id))
        return Page(items=items, next_cursor=next_cursor)
