"""Errors raised by use cases when a request cannot be served as asked."""

from __future__ import annotations

__all__ = [
    "AlreadyWrittenBackError",
    "ApplicationError",
    "AuthenticationError",
    "DependencyUnavailableError",
    "IdempotencyKeyReusedError",
    "InvalidCursorError",
    "InvalidRequestError",
    "PermissionDeniedError",
    "WriteBackInProgressError",
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


class IdempotencyKeyReusedError(ApplicationError):
    """An Idempotency-Key already used for another request (another offer, kind or org): keys are not
    recycled, so the second request is refused rather than answered with the first one's result."""


class AlreadyWrittenBackError(ApplicationError):
    """The offer was already written back as that kind under another Idempotency-Key; carries what the
    CRM holds, so the caller can link to it instead of creating a second record."""

    def __init__(self, message: str, *, write_back_id: str, salesforce_id: str | None) -> None:
        super().__init__(message)
        self.write_back_id = write_back_id
        self.salesforce_id = salesforce_id


class WriteBackInProgressError(ApplicationError):
    """Another request is writing the same offer back right now and did not finish in time to answer
    this one; retrying in a few seconds returns its result."""
