"""Request guards shared by handlers. They are async on purpose: Litestar runs a sync guard in a worker
thread, a thread hop on every request for a check that takes microseconds."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import ValidationException
from litestar.handlers.base import BaseRouteHandler

__all__ = ["known_query_only", "no_nul_characters"]


async def no_nul_characters(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Reject a path or query holding a NUL character: no id, filter or cursor has one, and PostgreSQL
    text cannot store one, so it would otherwise fail deep in a query instead of as a 400."""
    query = connection.scope.get("query_string", b"")
    if (
        "\x00" in connection.scope["path"]
        or b"\x00" in query
        or any("\x00" in value for _, value in connection.query_params.multi_items())
    ):
        raise ValidationException(detail="the path or a query parameter holds a NUL character")


async def known_query_only(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Reject query parameters the handler does not declare: a typo must not silently widen a query."""
    allowed: frozenset[str] = handler.opt.get("query", frozenset())
    unknown = sorted(set(connection.query_params) - allowed)
    if unknown:
        raise ValidationException(
            detail=f"unknown query parameter(s): {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}",
            extra=[{"key": name, "source": "query", "message": "unknown parameter"} for name in unknown],
        )
