"""Each layer package must be xsell's own, from src/, never a same-named package from PyPI."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
LAYERS = ["domain", "application", "adapters", "entrypoints", "simulators"]


@pytest.mark.parametrize("name", LAYERS)
def test_layer_package_is_loaded_from_src(name: str) -> None:
    spec = importlib.util.find_spec(name)
    assert spec is not None, f"{name} is not importable"
    assert spec.submodule_search_locations is not None, (
        f"'{name}' resolves to a plain module at {spec.origin}: a PyPI package of the same name shadows "
        f"xsell's layer; uninstall it (pip uninstall {name})"
    )
    locations = [Path(location).resolve() for location in spec.submodule_search_locations]
    assert locations == [SRC / name], f"'{name}' is loaded from {locations}, expected {SRC / name}"
    module = importlib.import_module(name)
    assert Path(module.__file__ or "").resolve().parent == SRC / name


def test_console_script_target_exists() -> None:
    from entrypoints.cli import main

    assert callable(main)


def test_the_layout_the_design_asks_for_is_present() -> None:
    root = SRC.parent
    for path in [
        "src/domain",
        "src/application",
        "src/adapters",
        "src/entrypoints",
        "tests/unit",
        "tests/integration",
        "migrations",
        "pyproject.toml",
        "docker-compose.yml",
        "README.md",
    ]:
        assert (root / path).exists(), f"{path} is missing"
