"""Request guards shared by handlers."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import ValidationException
from litestar.handlers.base import BaseRouteHandler

__all__ = ["known_query_only"]


def known_query_only(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Reject query parameters the handler does not declare: a typo must not silently widen a query."""
    allowed: frozenset[str] = handler.opt.get("query", frozenset())
    unknown = sorted(set(connection.query_params) - allowed)
    if unknown:
        raise ValidationException(
            detail=f"unknown query parameter(s): {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}",
            extra=[{"key": name, "source": "query", "message": "unknown parameter"} for name in unknown],
        )
