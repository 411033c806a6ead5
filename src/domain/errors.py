"""The error types the domain raises; each failure kind has exactly one."""

from __future__ import annotations

__all__ = [
    "ChecksumMismatchError",
    "ConflictError",
    "DomainError",
    "FeatureVersionConflictError",
    "InvalidCurrencyError",
    "InvalidIdError",
    "InvalidStageTransitionError",
    "InvalidStatusTransitionError",
    "InvariantViolationError",
    "IrreversibleChangeError",
    "NotFoundError",
]


class DomainError(Exception):
    """Base class of every error the domain raises on purpose."""


class InvariantViolationError(DomainError, ValueError):
    """A value would break a rule of the model (a negative amount, an empty name...)."""


class InvalidIdError(InvariantViolationError):
    """A CRM record id is malformed (wrong length, characters or checksum)."""


class InvalidCurrencyError(InvariantViolationError):
    """A currency code is not three upper-case letters, or two currencies were mixed."""


class InvalidStatusTransitionError(DomainError):
    """A recommendation was asked to move to a status its current status cannot reach."""


class NotFoundError(DomainError, LookupError):
    """A requested entity does not exist (or is not visible to the caller)."""


class InvalidStageTransitionError(DomainError):
    """A model version was asked to move to a registry stage its current stage cannot reach."""


class IrreversibleChangeError(DomainError):
    """A recorded merge or split cannot be undone: already undone, or later changes moved its accounts."""


class ChecksumMismatchError(DomainError):
    """A model artifact's content does not match the sha256 checksum recorded when it was registered."""


class FeatureVersionConflictError(DomainError):
    """A feature (name, version) got a different computation; a changed computation needs a new version."""


class ConflictError(DomainError):
    """The change conflicts with what exists: a duplicate (an email already taken), or it would leave the
    system without an active administrator."""
