"""PostgreSQL persistence: tables, mapping to domain objects, repositories and the unit of work."""
