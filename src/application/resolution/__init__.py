"""Customer resolution and the product crosswalk: use cases and the ports they need."""
