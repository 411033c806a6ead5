"""Request guards shared by handlers. They are async on purpose: Litestar runs a sync guard in a worker
thread, a thread hop on every request for a check that takes microseconds."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import ValidationException
from litestar.handlers.base import BaseRouteHandler

__all__ = ["refuse_nul", "refuse_unknown_query", "well_formed"]


def refuse_nul(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Reject a path or query holding a NUL character. No id, filter or cursor has one, and PostgreSQL
    text cannot store one, so it would otherwise fail deep in a query instead of as a 400. The path
    arrives decoded; in the raw query a NUL is either itself or `%00`, so nothing needs decoding."""
    query = connection.scope.get("query_string", b"")
    if "\x00" in connection.scope["path"] or b"\x00" in query or b"%00" in query:
        raise ValidationException(detail="the path or a query parameter holds a NUL character")


async def well_formed(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard of the public routes (`refuse_nul`); `authenticated` makes the same check first on the
    others, since Litestar copies the handler for every guard it runs."""
    refuse_nul(connection)


def refuse_unknown_query(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """On a handler that lists its query parameters (`opt={"query": ...}`), reject any other: a typo must
    not silently widen a query. Called by `authenticated` once the caller is known (anonymous callers
    get 401, not a description of the route), rather than as a guard of its own: Litestar copies the
    handler for every guard it runs."""
    allowed: frozenset[str] | None = handler.opt.get("query")
    if allowed is None or not connection.scope.get("query_string"):
        return
    unknown = sorted(set(connection.query_params) - allowed)
    if unknown:
        raise ValidationException(
            detail=f"unknown query parameter(s): {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}",
            extra=[{"key": name, "source": "query", "message": "unknown parameter"} for name in unknown],
        )
