"""The system tools the deploy tests run: promtool and docker-compose."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def _missing(tool: str) -> None:
    """Fail (CI must prove the files valid), or skip where a developer said the tools may be missing."""
    message = f"{tool} is not installed; .ci/run installs it (apt-get install prometheus docker-compose)"
    if os.environ.get("XSELL_ALLOW_MISSING_TOOLS") == "1" and not os.environ.get("CI"):
        pytest.skip(message)
    pytest.fail(message)


@pytest.fixture(scope="session")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        _missing("promtool")
    assert path is not None
    return path


def _runs(command: list[str]) -> bool:
    try:
        return (
            subprocess.run([*command, "version"], capture_output=True, timeout=60, check=False).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="session")
def compose() -> list[str]:
    """docker-compose (v1, Debian's package), or the `docker compose` plugin where only that one works."""
    for command in (["docker-compose"], ["docker", "compose"]):
        if shutil.which(command[0]) and _runs(command):
            return command
    _missing("docker-compose")
    raise AssertionError("unreachable")
