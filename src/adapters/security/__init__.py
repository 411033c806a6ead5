"""Security adapters: encryption of secrets at rest."""
