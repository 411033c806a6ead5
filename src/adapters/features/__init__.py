"""The feature store's adapters: the registry with its pandas computation, PostgreSQL and Redis stores."""
