"""Running the installed `xsell` command in a subprocess, as a user would, for integration tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

XSELL = str(Path(sys.executable).parent / "xsell")


def run_xsell(*args: str, timeout: float = 180, **env: str) -> subprocess.CompletedProcess[str]:
    """`xsell ARGS` with this environment minus DATABASE_URL and REDIS_URL, plus `env`."""
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")} | env
    return subprocess.run([XSELL, *args], env=environment, capture_output=True, text=True, timeout=timeout)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """Assert the command failed with exactly one `Error:` line and no traceback; return that line."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]
