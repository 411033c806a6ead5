"""Use cases that keep every org's CRM records in xsell complete and current."""

from application.sync.sync_org import SyncOptions, SyncOrg, SyncProgress, SyncReport

__all__ = ["SyncOptions", "SyncOrg", "SyncProgress", "SyncReport"]
