"""The pure model of xsell: entities, value objects, domain services, events and errors (stdlib only)."""
