"""Errors raised by use cases when a request cannot be served as asked."""

from __future__ import annotations

__all__ = [
    "ApplicationError",
    "AuthenticationError",
    "DependencyUnavailableError",
    "InvalidCursorError",
    "InvalidRequestError",
    "PermissionDeniedError",
]


class ApplicationError(Exception):
    """Base class of the errors use cases raise on purpose."""


class InvalidRequestError(ApplicationError, ValueError):
    """The caller asked for something malformed (a bad filter, an impossible page size)."""


class InvalidCursorError(InvalidRequestError):
    """A pagination cursor was not issued by xsell or was altered."""


class DependencyUnavailableError(ApplicationError):
    """A service xsell relies on (database, cache, CRM) cannot be reached right now."""


class AuthenticationError(ApplicationError):
    """The caller could not be authenticated: a missing, malformed, expired or revoked token, or a wrong
    login. The message is the same whatever the reason, so it tells an attacker nothing."""

    def __init__(self, message: str = "invalid credentials") -> None:
        super().__init__(message)


class PermissionDeniedError(ApplicationError):
    """The caller is authenticated but its role does not allow the operation."""
