"""Keyset pagination: opaque cursors that encode the last key of a page, and the Page they come with."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from application.errors import InvalidCursorError

__all__ = ["Page", "decode_cursor", "encode_cursor"]

T = TypeVar("T")

_VERSION = 1


def encode_cursor(kind: str, key: Sequence[str]) -> str:
    """An opaque, URL-safe token naming the last row a page returned."""
    raw = json.dumps({"v": _VERSION, "k": kind, "after": list(key)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(kind: str, token: str, arity: int) -> tuple[str, ...]:
    """The key a cursor of this kind encodes. Raises InvalidCursorError for anything else."""
    if not token or len(token) > 1024:
        raise InvalidCursorError("the cursor is empty or too long; pass the next_cursor of a previous page")
    try:
        padded = token + "=" * (-len(token) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        raise InvalidCursorError("the cursor is not one xsell issued; pass a page's next_cursor") from None
    if (
        not isinstance(payload, dict)
        or payload.get("v") != _VERSION
        or payload.get("k") != kind
        or not isinstance(payload.get("after"), list)
        or len(payload["after"]) != arity
        or not all(isinstance(part, str) for part in payload["after"])
    ):
        raise InvalidCursorError("the cursor does not belong to this list; pass a page's next_cursor")
    return tuple(payload["after"])


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a keyset-paginated list; `next_cursor` is None on the last page."""

    items: list[T]
    next_cursor: str | None
