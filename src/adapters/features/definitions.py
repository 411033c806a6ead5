"""How features are declared: one decorated function per feature or shared step, fingerprinted by its code.

A function reads shared intermediate results as `ctx["step_name"]`; those names are found in its syntax
tree, so a feature's fingerprint covers its own code and, transitively, every step it reads. Formatting,
comments and docstrings do not count; changing what is computed does, and then needs a new version
(`features.lock` records every (name, version) -> fingerprint ever released; a unit test compares).
Parameters (windows, k, bins) live inside the functions so that they are part of the fingerprint.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd

from application.features.model import FeatureInputs, cutoff_instant
from domain.errors import InvariantViolationError
from domain.feature_definition import FeatureDefinition, FeatureDtype, FeatureEntity

__all__ = ["FeatureBook", "FeatureContext", "FeatureSpec", "StepSpec"]

Computation = Callable[["FeatureContext"], Any]

# Definitions carry a fixed creation time so that listing them is reproducible.
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def _code_of(fn: Callable[..., Any]) -> tuple[str, tuple[str, ...]]:
    """The function's code without decorators and docstring, and the step names it reads."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    node = tree.body[0]
    if not isinstance(node, ast.FunctionDef):
        raise InvariantViolationError(f"{fn.__name__} must be a plain function")
    node.decorator_list = []
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        node.body = body[1:] or [ast.Pass()]
    steps = sorted(
        {
            sub.slice.value
            for sub in ast.walk(node)
            if isinstance(sub, ast.Subscript)
            and isinstance(sub.value, ast.Name)
            and sub.value.id == "ctx"
            and isinstance(sub.slice, ast.Constant)
            and isinstance(sub.slice.value, str)
        }
    )
    return ast.dump(node, annotate_fields=False), tuple(steps)


def _helpers(functions: list[Callable[..., Any]]) -> dict[str, str]:
    """Code of the functions of this package that `functions` call by name, transitively."""
    found: dict[str, str] = {}
    pending = list(functions)
    while pending:
        fn = pending.pop()
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            target = fn.__globals__.get(node.func.id)
            if (
                inspect.isfunction(target)
                and target.__module__.startswith(__package__ or "adapters.features")
                and target.__name__ not in found
            ):
                found[target.__name__] = _code_of(target)[0]
                pending.append(target)
    return found


@dataclass(frozen=True)
class StepSpec:
    name: str
    fn: Computation
    code: str
    reads: tuple[str, ...]


@dataclass(frozen=True)
class FeatureSpec:
    definition: FeatureDefinition
    fn: Computation
    reads: tuple[str, ...]


@dataclass
class FeatureBook:
    """The declarations, in the order they were made (that order is the vector layout)."""

    steps: dict[str, StepSpec] = field(default_factory=dict)
    features: dict[str, FeatureSpec] = field(default_factory=dict)

    def step(self, fn: Computation) -> Computation:
        """Declare a shared intermediate result, named after the function."""
        code, reads = _code_of(fn)
        if fn.__name__ in self.steps:
            raise InvariantViolationError(f"step {fn.__name__} is declared twice")
        self.steps[fn.__name__] = StepSpec(fn.__name__, fn, code, reads)
        return fn

    def feature(
        self, version: int, entity: FeatureEntity, dtype: FeatureDtype, description: str
    ) -> Callable[[Computation], Computation]:
        """Declare a feature named after the function; its fingerprint is computed once all steps exist."""

        def register(fn: Computation) -> Computation:
            if fn.__name__ in self.features:
                raise InvariantViolationError(f"feature {fn.__name__} is declared twice")
            if entity == FeatureEntity.CUSTOMER_FAMILY and dtype == FeatureDtype.CATEGORY:
                raise InvariantViolationError(f"{fn.__name__}: per-family features are numeric")
            code, reads = _code_of(fn)
            definition = FeatureDefinition(
                name=fn.__name__,
                version=version,
                entity=entity,
                dtype=dtype,
                description=description,
                owner="features",
                fingerprint=code,  # replaced by the hash in `fingerprints`
                created_at=_EPOCH,
            )
            self.features[fn.__name__] = FeatureSpec(definition, fn, reads)
            return fn

        return register

    def fingerprint(self, name: str) -> str:
        """Hash of a feature's code, of every step it reads and of the module functions they call."""
        spec = self.features[name]
        digest = hashlib.sha256(spec.definition.fingerprint.encode())
        digest.update(f"{spec.definition.entity}|{spec.definition.dtype}".encode())
        functions: list[Callable[..., Any]] = [spec.fn]
        for step in self._closure(spec.reads):
            digest.update(f"|{step}:{self.steps[step].code}".encode())
            functions.append(self.steps[step].fn)
        for helper, code in sorted(_helpers(functions).items()):
            digest.update(f"|{helper}:{code}".encode())
        return digest.hexdigest()[:16]

    def _closure(self, reads: tuple[str, ...]) -> list[str]:
        seen: set[str] = set()
        pending = list(reads)
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            if name not in self.steps:
                raise InvariantViolationError(f"ctx[{name!r}] names no declared step")
            seen.add(name)
            pending.extend(self.steps[name].reads)
        return sorted(seen)


class FeatureContext:
    """The inputs of one computation and the cache of step results (each step runs at most once)."""

    def __init__(self, book: FeatureBook, inputs: FeatureInputs) -> None:
        self.book = book
        self.inputs = inputs
        self.as_of: date = inputs.as_of
        self.cutoff = pd.Timestamp(cutoff_instant(inputs.as_of))
        # Whole days since 1970-01-01: every date arithmetic in the steps uses this integer scale.
        self.as_of_day = int((pd.Timestamp(inputs.as_of) - pd.Timestamp("1970-01-01")).days)
        self.families: tuple[str, ...] = tuple(inputs.families)
        self._results: dict[str, Any] = {}

    def __getitem__(self, step: str) -> Any:
        if step not in self._results:
            self._results[step] = self.book.steps[step].fn(self)
        return self._results[step]
