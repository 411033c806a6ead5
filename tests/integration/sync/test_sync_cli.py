"""`xsell orgs` and `xsell sync` end to end on a CSV org: add, test, list, sync with progress, bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.embedded.services import ServiceUrls
from simulators.salesforce.generator import CsvSink, GroupSpec, generate_company_group

ROOT = Path(__file__).resolve().parents[3]


def _xsell(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from entrypoints.cli import main; main()", *args]
    return subprocess.run(
        command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.slow
def test_add_test_list_and_sync_a_csv_org(database_url: str, services: ServiceUrls, tmp_path: Path) -> None:
    generate_company_group(GroupSpec(orgs=1, accounts=30, seed=2), CsvSink(tmp_path / "exports"))
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": services.redis_url,
        "XSELL_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
    }
    added = _xsell(env, "orgs", "add", "files", "--name", "Files", "--kind", "csv",
                   "--folder", str(tmp_path / "exports" / "bu1"))  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert (tmp_path / "data" / "secret.keys").stat().st_mode & 0o777 == 0o600
    assert _xsell(env, "orgs", "test", "files").returncode == 0
    synced = _xsell(env, "sync", "--org", "files")
    assert synced.returncode == 0, synced.stderr
    assert "files: completed" in synced.stdout and "Account" in synced.stderr
    listed = _xsell(env, "orgs", "list")
    assert "files" in listed.stdout and "completed" in listed.stdout
    unknown = _xsell(env, "sync", "--org", "nope")
    assert unknown.returncode == 1 and "no org 'nope'" in unknown.stderr and "Traceback" not in unknown.stderr


@pytest.mark.slow
def test_each_org_has_its_own_schedule(database_url: str, services: ServiceUrls, tmp_path: Path) -> None:
    generate_company_group(GroupSpec(orgs=2, accounts=5, seed=3), CsvSink(tmp_path / "exports"))
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": services.redis_url,
        "XSELL_DATA_DIR": str(tmp_path / "data"),
        "XSELL_SYNC_SCHEDULE": "*/20 * * * *",
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
    }
    for name, extra in (("hourly", ["--schedule", "0 * * * *"]), ("plain", [])):
        added = _xsell(env, "orgs", "add", name, "--name", name, "--kind", "csv",
                       "--folder", str(tmp_path / "exports" / "bu1"), *extra)  # fmt: skip
        assert added.returncode == 0, added.stderr
    listed = _xsell(env, "orgs", "list").stdout.splitlines()
    assert "0 * * * *" in next(line for line in listed if line.startswith("hourly"))
    assert "*/20 * * * * *" in next(line for line in listed if line.startswith("plain"))  # default, marked

    changed = _xsell(env, "orgs", "schedule", "plain", "30 2 * * 1-5")
    assert changed.returncode == 0 and "30 2 * * 1-5" in changed.stdout, changed.stderr
    back = _xsell(env, "orgs", "schedule", "hourly", "default")
    assert back.returncode == 0 and "default schedule (*/20 * * * *)" in back.stdout, back.stderr
    listed = _xsell(env, "orgs", "list").stdout.splitlines()
    assert "30 2 * * 1-5" in next(line for line in listed if line.startswith("plain"))
    assert "*/20 * * * * *" in next(line for line in listed if line.startswith("hourly"))

    bad = _xsell(env, "orgs", "schedule", "plain", "61 * * * *")
    assert bad.returncode == 1 and "not a cron schedule" in bad.stderr and "Traceback" not in bad.stderr
    refused = _xsell(env, "orgs", "add", "other", "--name", "Other", "--kind", "csv",
                     "--folder", str(tmp_path / "exports" / "bu2"), "--schedule", "daily")  # fmt: skip
    assert refused.returncode == 1 and "not a cron schedule" in refused.stderr
    assert "other" not in _xsell(env, "orgs", "list").stdout  # nothing stored
