"""The GitHub Actions workflow and .ci/run: CI runs the test door, builds the image, and has its tools."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]


def workflow() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    return loaded


def steps() -> list[dict[str, Any]]:
    return [step for job in workflow()["jobs"].values() for step in job["steps"]]


def test_workflow_runs_the_ci_script_on_python_3_11() -> None:
    assert any(step.get("run", "").strip() == ".ci/run" for step in steps())
    pythons = [step["with"]["python-version"] for step in steps() if "setup-python" in step.get("uses", "")]
    assert pythons == ["3.11"]
    triggers = workflow().get("on", workflow().get(True))  # YAML 1.1 reads a bare `on` as true
    assert {"push", "pull_request"} <= set(triggers)


def test_workflow_builds_the_image_without_pushing_it() -> None:
    builds = [step for step in steps() if step.get("uses", "").startswith("docker/build-push-action@")]
    assert len(builds) == 1
    assert builds[0]["with"]["push"] is False


def test_ci_script_installs_the_deploy_tools_before_make_test() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    assert "set -euo pipefail" in script
    assert "prometheus" in script and "docker-compose" in script and "apt-get update" in script
    assert "chromium" in script  # the dashboard's browser tests drive it
    assert script.index("apt-get install") < script.index("make test")
    assert subprocess.run(["bash", "-n", str(ROOT / ".ci" / "run")], check=False).returncode == 0
