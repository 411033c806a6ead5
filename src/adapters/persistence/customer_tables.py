"""Tables of the cross-org customer model (entity resolution); filled in with that feature."""

from __future__ import annotations

from adapters.persistence.tables import metadata

__all__ = ["metadata"]
