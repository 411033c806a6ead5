"""Imports every command module so that each attaches itself to the root group."""

from __future__ import annotations

from entrypoints.cli import (
    serve,  # noqa: F401
)
