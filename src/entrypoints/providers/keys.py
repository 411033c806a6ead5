"""Keys that xsell generates on first use and keeps in the data folder when none are configured."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

__all__ = ["kept_keys"]


def kept_keys(path: Path, generate: Callable[[], str]) -> list[str]:
    """The keys in `path`, one a line; the file is created (mode 0600) with one new key when missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it a moment ago
        else:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(generate() + "\n")
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]
