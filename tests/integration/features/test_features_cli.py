"""`xsell features`: the list needs no services; builds fail with one line on bad dates and report counts."""

from __future__ import annotations

import subprocess

from tests.cli import one_line_error, run_xsell

from adapters.embedded.services import ServiceUrls
from adapters.features.registry import PandasFeatureRegistry


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_xsell(*args, timeout=180, **env)


_one_line_error = one_line_error


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
