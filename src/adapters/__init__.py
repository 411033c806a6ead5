"""Implementations of the application ports: persistence, CRM, cache, queue, security, observability."""
