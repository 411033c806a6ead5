"""Imports every command module so that each attaches itself to the root group."""

from __future__ import annotations

from entrypoints.cli import (
    fake_salesforce,  # noqa: F401
    serve,  # noqa: F401
)
