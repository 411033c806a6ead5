"""FeatureDefinition: a named, versioned model input; a changed computation is a new version."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from domain.errors import FeatureVersionConflictError, InvariantViolationError, NotFoundError
from domain.timestamps import require_utc, utc_now

__all__ = ["FeatureCatalog", "FeatureDefinition", "FeatureDtype", "FeatureEntity", "FeatureKey", "FeatureSet"]

# Feature names become column names and Redis hash fields, so they are snake_case identifiers.
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class FeatureEntity(StrEnum):
    """What one value describes: a customer, or a customer's relation to one product family."""

    CUSTOMER = "customer"
    CUSTOMER_FAMILY = "customer_family"


class FeatureDtype(StrEnum):
    FLOAT = "float"
    INT = "int"
    BOOL = "bool"
    CATEGORY = "category"


@dataclass(frozen=True, slots=True, order=True)
class FeatureKey:
    """A feature's identity: values of two versions of one name are never mixed."""

    name: str
    version: int

    def __str__(self) -> str:
        return f"{self.name}@v{self.version}"


@dataclass(eq=False)
class FeatureDefinition:
    """A feature as the feature store and the models know it; values are computed as of a time.

    `fingerprint` identifies the computation (for example a hash of its source); (name, version) with a
    different entity, dtype or fingerprint is a different feature and must get a new version.
    Raises InvariantViolationError for a name that is not snake_case, a version below 1, an unknown
    entity or dtype, an empty description or owner, or a non-UTC `created_at`.
    """

    name: str
    version: int
    entity: FeatureEntity
    dtype: FeatureDtype
    description: str
    owner: str
    fingerprint: str = ""
    created_at: datetime = field(default_factory=utc_now)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise InvariantViolationError(f"a feature name is a snake_case identifier, got {self.name!r}")
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise InvariantViolationError(f"feature {self.name} needs a version >= 1, got {self.version!r}")
        try:
            self.entity = FeatureEntity(self.entity)
            self.dtype = FeatureDtype(self.dtype)
        except ValueError as exc:
            raise InvariantViolationError(f"feature {self.name}: {exc}") from exc
        if not self.description or not self.description.strip():
            raise InvariantViolationError(f"feature {self.name} needs a description")
        if not self.owner or not self.owner.strip():
            raise InvariantViolationError(f"feature {self.name} needs an owner")
        require_utc(self.created_at, "created_at")

    @property
    def key(self) -> FeatureKey:
        return FeatureKey(self.name, self.version)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FeatureDefinition) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    def same_computation(self, other: FeatureDefinition) -> bool:
        """Whether both compute the same values; description and owner are documentation, not computation."""
        return (self.entity, self.dtype, self.fingerprint) == (other.entity, other.dtype, other.fingerprint)

    def revise(
        self,
        *,
        fingerprint: str,
        at: datetime,
        dtype: FeatureDtype | None = None,
        entity: FeatureEntity | None = None,
        description: str | None = None,
        owner: str | None = None,
    ) -> FeatureDefinition:
        """The next version of this feature, for a changed computation. Raises what the constructor raises."""
        return replace(
            self,
            version=self.version + 1,
            fingerprint=fingerprint,
            dtype=dtype or self.dtype,
            entity=entity or self.entity,
            description=description or self.description,
            owner=owner or self.owner,
            created_at=at,
        )


@dataclass(frozen=True)
class FeatureSet:
    """The exact features a model was trained on; `version` is derived from them, so equal sets share it."""

    features: frozenset[FeatureKey]

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", frozenset(self.features))
        if not self.features:
            raise InvariantViolationError("a feature set holds at least one feature")
        names = [key.name for key in self.features]
        if len(names) != len(set(names)):
            raise InvariantViolationError("a feature set holds one version of each feature")

    @classmethod
    def of(cls, definitions: Iterable[FeatureDefinition]) -> FeatureSet:
        return cls(frozenset(d.key for d in definitions))

    @property
    def version(self) -> str:
        text = ",".join(str(key) for key in sorted(self.features))
        return "fs-" + hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(eq=False)
class FeatureCatalog:
    """Every feature definition ever registered, by (name, version)."""

    definitions: dict[FeatureKey, FeatureDefinition] = field(default_factory=dict)

    def register(self, definition: FeatureDefinition) -> FeatureDefinition:
        """Add a definition, or return the registered one when it computes the same thing.

        Raises FeatureVersionConflictError when (name, version) is taken by a different computation.
        """
        existing = self.definitions.get(definition.key)
        if existing is None:
            self.definitions[definition.key] = definition
            return definition
        if not existing.same_computation(definition):
            raise FeatureVersionConflictError(
                f"feature {definition.key} already computes something else; register version"
                f" {self.latest(definition.name).version + 1} instead"
            )
        return existing

    def get(self, key: FeatureKey) -> FeatureDefinition:
        """Raises NotFoundError for an unregistered (name, version)."""
        try:
            return self.definitions[key]
        except KeyError:
            raise NotFoundError(f"no feature {key}") from None

    def latest(self, name: str) -> FeatureDefinition:
        """The highest version of `name`. Raises NotFoundError when no version is registered."""
        versions = [d for key, d in self.definitions.items() if key.name == name]
        if not versions:
            raise NotFoundError(f"no feature named {name!r}")
        return max(versions, key=lambda d: d.version)
