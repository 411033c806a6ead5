"""The command line fails with one readable line and a non-zero exit, never a traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tests.cli import one_line_error, run_xsell


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_xsell(*args, timeout=120, **env)


_one_line_error = one_line_error


def test_help_lists_the_commands() -> None:
    result = _run("--help")
    assert result.returncode == 0
    for command in ("demo", "api", "migrate"):
        assert command in result.stdout


def test_bad_setting_names_the_variable() -> None:
    line = _one_line_error(_run("migrate", XSELL_API_PORT="eighty"))
    assert "XSELL_API_PORT" in line


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    line = _one_line_error(
        _run(
            "migrate",
            DATABASE_URL="postgresql://xsell:s3cret-pw@127.0.0.1:1/xsell",
            XSELL_DATA_DIR=str(tmp_path),
        )
    )
    assert "cannot reach PostgreSQL at 127.0.0.1:1/xsell" in line
    assert "s3cret-pw" not in line


@pytest.mark.parametrize("args", [["api", "--port", "0"], ["nonsense"]])
def test_bad_arguments_are_usage_errors(args: list[str]) -> None:
    result = _run(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
