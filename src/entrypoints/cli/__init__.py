"""The `xsell` command line: one click group, one module per command family."""

from __future__ import annotations

from entrypoints.cli.app import cli, main

__all__ = ["cli", "main"]
