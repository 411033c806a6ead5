"""Background jobs on Dramatiq: the Redis broker, the sync actors, the quarantine of crashing messages."""
