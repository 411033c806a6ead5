"""The Dockerfile and docker-compose.yml: slim, unprivileged, every service checked, secrets from `.env`."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
ENV_EXAMPLE = ROOT / "deploy" / "env.example"
SECRET_NAME = re.compile(r"PASSWORD|SECRET|KEYS|DATABASE_URL|REDIS_URL")


def compose_file() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose_file()["services"]
    return found


def one_shot_services() -> set[str]:
    """Services others wait for to finish (the migration), which stop by design and need no health check."""
    waited_for = set()
    for service in services().values():
        depends_on = service.get("depends_on") or {}
        if isinstance(depends_on, dict):  # the list form waits for nothing but the start
            waited_for |= {
                name
                for name, condition in depends_on.items()
                if condition.get("condition") == "service_completed_successfully"
            }
    return waited_for


def command_text(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def clean_environment() -> dict[str, str]:
    """This process's environment without anything docker-compose.yml reads, so only the env file counts."""
    variables = set(re.findall(r"\$\{(\w+)", (ROOT / "docker-compose.yml").read_text()))
    return {key: value for key, value in os.environ.items() if key not in variables}


def compose_config(compose: list[str], env_file: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*compose, "--env-file", str(env_file), "-f", "docker-compose.yml", *options, "config", "-q"],
        cwd=ROOT,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_compose_file_is_valid_with_the_example_env(compose: list[str]) -> None:
    for options in ((), ("--profile", "demo")):
        result = compose_config(compose, ENV_EXAMPLE, *options)
        assert result.returncode == 0, result.stdout + result.stderr


def test_compose_refuses_to_run_without_the_secrets(compose: list[str], tmp_path: Path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    result = compose_config(compose, empty)
    assert result.returncode != 0
    assert "set POSTGRES_PASSWORD in .env" in result.stdout + result.stderr


def test_the_example_env_names_every_variable_compose_requires_and_dotenv_is_ignored() -> None:
    required = set(re.findall(r"\$\{(\w+):\?", (ROOT / "docker-compose.yml").read_text()))
    example = set(re.findall(r"^(\w+)=", ENV_EXAMPLE.read_text(), flags=re.MULTILINE))
    assert required == {"POSTGRES_PASSWORD", "REDIS_PASSWORD", "XSELL_SECRET_KEYS", "GRAFANA_ADMIN_PASSWORD"}
    assert required <= example
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()


def test_compose_has_every_service_of_the_stack() -> None:
    expected = {
        "postgres",
        "redis",
        "redis-cache",
        "api",
        "worker",
        "scheduler",
        "dashboard",
        "prometheus",
        "grafana",
    }
    assert expected <= set(services())
    demo = {name for name, service in services().items() if "demo" in service.get("profiles", [])}
    assert demo == {"fake-salesforce"}
    assert command_text(services()["fake-salesforce"]).startswith("fake-salesforce")


def test_every_long_running_service_has_a_health_check() -> None:
    one_shot = one_shot_services()
    assert one_shot == {"migrate"}
    for name, service in services().items():
        if name in one_shot:
            assert service.get("restart") == "no", name
            continue
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"


def test_the_broker_redis_never_evicts_and_appends_every_write() -> None:
    command = command_text(services()["redis"])
    assert re.search(r"--maxmemory-policy[ =]noeviction\b", command), command
    assert re.search(r"--appendonly[ =]yes\b", command), command


def test_the_cache_redis_writes_nothing_to_disk_and_evicts_only_expiring_keys() -> None:
    command = command_text(services()["redis-cache"])
    assert re.search(r'--save ""', command) and re.search(r"--appendonly[ =]no\b", command), command
    assert re.search(r"--maxmemory-policy[ =]volatile-lru\b", command), command
    assert "volumes" not in services()["redis-cache"]
    environment = services()["api"]["environment"]
    assert "@redis-cache:6379/" in environment["XSELL_CACHE_REDIS_URL"]
    assert "@redis:6379/" in environment["REDIS_URL"]


def test_no_service_runs_as_root() -> None:
    for name, service in services().items():
        user = str(service.get("user", "")).split(":")[0]
        assert user and user not in {"root", "0"}, f"{name} runs as {user or 'the image default'}"


def test_secrets_come_from_the_env_file_only() -> None:
    for name, service in services().items():
        environment = service.get("environment") or {}
        assert isinstance(environment, dict), f"{name}: use the mapping form of environment"
        for variable, value in environment.items():
            if SECRET_NAME.search(variable) and value is not None:
                assert "${" in str(value), f"{name}: {variable} has a literal value"
                assert not re.search(r"\$\{\w+:-", str(value)), f"{name}: {variable} has a default"


def dockerfile_stages() -> list[tuple[str, list[str]]]:
    """(base image, instructions) per stage, continuation lines joined and ARG defaults resolved."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    arguments: dict[str, str] = {}
    stages: list[tuple[str, list[str]]] = []
    for line in lines:
        keyword, _, rest = line.partition(" ")
        if keyword.upper() == "ARG" and not stages:
            name, _, default = rest.partition("=")
            arguments[name.strip()] = default.strip()
        elif keyword.upper() == "FROM":
            image = re.sub(r"\$\{(\w+)\}", lambda m: arguments[m.group(1)], rest.split()[0])
            stages.append((image, []))
        elif stages:
            stages[-1][1].append(line)
    return stages


def test_dockerfile_final_stage_is_slim_unprivileged_and_without_compilers() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2, "the build needs a builder stage and a final stage"
    image, instructions = stages[-1]
    assert re.fullmatch(r"python:3\.11-slim(-\w+)?", image), image
    users = [line.split()[1] for line in instructions if line.upper().startswith("USER ")]
    assert users and users[-1].split(":")[0] not in {"root", "0"}, users
    final = " ".join(instructions)
    for tool in ("build-essential", "gcc", "g++", "clang", "make", "cmake", "python3-dev"):
        assert not re.search(rf"(?<![\w-]){re.escape(tool)}(?![\w-])", final), f"{tool} in the final stage"
    assert any(line.upper().startswith("HEALTHCHECK ") for line in instructions)
    assert 'ENTRYPOINT ["xsell"]' in instructions


def test_dockerfile_installs_the_cpu_build_of_the_torch_version_pyproject_pins() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pin = next(dep for dep in pyproject["project"]["dependencies"] if dep.startswith("torch"))
    builder = dockerfile_stages()[0][1]
    install = next(shlex.split(line) for line in builder if "download.pytorch.org/whl/cpu" in line)
    assert "--index-url" in install and pin in install, install


def test_build_context_leaves_out_local_state() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in ignored, "the context is an allow-list: .venv and .xsell must not reach the builder"
