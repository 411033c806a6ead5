"""`xsell features`: the list needs no services; builds fail with one line on bad dates and report counts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from adapters.embedded.services import ServiceUrls
from adapters.features.registry import PandasFeatureRegistry

XSELL = str(Path(sys.executable).parent / "xsell")


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")} | env
    return subprocess.run([XSELL, *args], env=environment, capture_output=True, text=True, timeout=180)


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_list_shows_every_feature_with_its_version() -> None:
    result = _run("features", "list")
    assert result.returncode == 0, result.stderr
    registry = PandasFeatureRegistry()
    assert registry.layout().feature_set_version in result.stdout
    for definition in registry.definitions():
        assert f"{definition.name} " in result.stdout


def test_a_malformed_date_is_one_line() -> None:
    assert "--as-of" in _one_line_error(_run("features", "build", "--as-of", "2025-13-01"))


def test_build_on_real_services(database_url: str, services: ServiceUrls) -> None:
    env = {"DATABASE_URL": database_url, "REDIS_URL": services.redis_url}
    result = _run("features", "build", "--as-of", "2025-06-30", **env)
    assert result.returncode == 0, result.stderr
    assert "computing features" in result.stderr  # progress
    assert "features as of 2025-06-30: 0 customers" in result.stdout
