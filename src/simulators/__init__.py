"""Simulators of external systems xsell talks to; used by entrypoints (demo) and tests only."""
