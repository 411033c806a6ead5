"""Writing accepted recommendations back into the CRM as Tasks or Opportunities, exactly once."""

from __future__ import annotations

from application.write_back.ports import FamilyNames, WriteBackRepository
from application.write_back.write_back import ListWriteBacks, WriteBackRecommendation, WriteBackResult

__all__ = [
    "FamilyNames",
    "ListWriteBacks",
    "WriteBackRecommendation",
    "WriteBackRepository",
    "WriteBackResult",
]
