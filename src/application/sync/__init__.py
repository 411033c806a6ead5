"""Use cases that keep every org's CRM records in xsell complete and current."""

from application.sync.schedule import DueSyncs, SyncTimetable
from application.sync.sync_org import SyncOptions, SyncOrg, SyncProgress, SyncReport

__all__ = ["DueSyncs", "SyncOptions", "SyncOrg", "SyncProgress", "SyncReport", "SyncTimetable"]
