"""Security adapters: encryption of secrets at rest, password hashing, signed tokens."""
