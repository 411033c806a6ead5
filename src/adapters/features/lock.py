"""features.lock: every released (name, version) and the fingerprint of its computation, append-only.

`python -m adapters.features.lock` records new versions; it refuses to change a recorded fingerprint,
because values stored under that version were computed the old way. Bump the version instead.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from domain.feature_definition import FeatureDefinition

__all__ = ["LOCK_PATH", "lock_problems", "read_lock", "record_lock"]

LOCK_PATH = Path(__file__).with_name("features.lock")


def read_lock(path: Path = LOCK_PATH) -> dict[str, str]:
    """`name@vN` -> fingerprint; an absent file is an empty lock."""
    if not path.exists():
        return {}
    entries: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, fingerprint = line.split()
            entries[key] = fingerprint
    return entries


def lock_problems(definitions: Sequence[FeatureDefinition], path: Path = LOCK_PATH) -> list[str]:
    """One sentence per definition that is missing from the lock or computes differently than recorded."""
    recorded = read_lock(path)
    problems = []
    for definition in definitions:
        key = str(definition.key)
        if key not in recorded:
            problems.append(f"{key} is not in features.lock; run `python -m adapters.features.lock`")
        elif recorded[key] != definition.fingerprint:
            problems.append(
                f"{key}: the computation changed since it was released; give it version"
                f" {definition.version + 1} (and run `python -m adapters.features.lock`)"
            )
    return problems


def record_lock(definitions: Sequence[FeatureDefinition], path: Path = LOCK_PATH) -> list[str]:
    """Append definitions not yet recorded; returns their keys. Raises ValueError on a changed one."""
    recorded = read_lock(path)
    changed = [str(d.key) for d in definitions if recorded.get(str(d.key), d.fingerprint) != d.fingerprint]
    if changed:
        raise ValueError(f"changed computation under a released version: {', '.join(changed)}")
    added = {str(d.key): d.fingerprint for d in definitions if str(d.key) not in recorded}
    if added:
        recorded.update(added)
        header = "# feature@version fingerprint; append-only (see adapters/features/lock.py)\n"
        body = "".join(f"{key} {value}\n" for key, value in sorted(recorded.items()))
        path.write_text(header + body)
    return sorted(added)


if __name__ == "__main__":
    from adapters.features.registry import PandasFeatureRegistry

    try:
        new = record_lock(PandasFeatureRegistry().definitions())
    except ValueError as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
    print("\n".join(f"recorded {key}" for key in new) or "features.lock is up to date")
