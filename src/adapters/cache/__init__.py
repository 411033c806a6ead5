"""Redis: the cache adapter and its readiness probe."""
