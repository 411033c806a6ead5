"""Errors raised by use cases when a request cannot be served as asked."""

from __future__ import annotations

__all__ = ["ApplicationError", "DependencyUnavailableError", "InvalidCursorError", "InvalidRequestError"]


class ApplicationError(Exception):
    """Base class of the errors use cases raise on purpose."""


class InvalidRequestError(ApplicationError, ValueError):
    """The caller asked for something malformed (a bad filter, an impossible page size)."""


class InvalidCursorError(InvalidRequestError):
    """A pagination cursor was not issued by xsell or was altered."""


class DependencyUnavailableError(ApplicationError):
    """A service xsell relies on (database, cache, CRM) cannot be reached right now."""
