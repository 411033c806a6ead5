"""ModelVersion: a trained propensity model in the registry, its stage and the full history of its stages."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.errors import (
    ChecksumMismatchError,
    InvalidStageTransitionError,
    InvariantViolationError,
    NotFoundError,
)
from domain.events import Event, ModelVersionStageChanged
from domain.timestamps import require_utc, utc_now

__all__ = [
    "STAGE_TRANSITIONS",
    "ModelStage",
    "ModelVersion",
    "StageChange",
    "TrainingWindow",
    "promote_to_champion",
    "roll_back",
]

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
_ALGORITHM = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class ModelStage(StrEnum):
    CANDIDATE = "candidate"
    CHALLENGER = "challenger"
    CHAMPION = "champion"
    ARCHIVED = "archived"


# A champion leaves only by being archived (replaced or rolled back); an archived version can come back
# as champion (roll back) or challenger (re-test); a challenger can be paused back to candidate.
STAGE_TRANSITIONS: dict[ModelStage, frozenset[ModelStage]] = {
    ModelStage.CANDIDATE: frozenset({ModelStage.CHALLENGER, ModelStage.CHAMPION, ModelStage.ARCHIVED}),
    ModelStage.CHALLENGER: frozenset({ModelStage.CHAMPION, ModelStage.CANDIDATE, ModelStage.ARCHIVED}),
    ModelStage.CHAMPION: frozenset({ModelStage.ARCHIVED}),
    ModelStage.ARCHIVED: frozenset({ModelStage.CHAMPION, ModelStage.CHALLENGER}),
}


@dataclass(frozen=True)
class TrainingWindow:
    """The span of data the model learned from. Raises InvariantViolationError unless UTC and start < end."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        require_utc(self.start, "start")
        require_utc(self.end, "end")
        if not self.start < self.end:
            raise InvariantViolationError(
                f"a training window starts before it ends: {self.start} .. {self.end}"
            )


@dataclass(frozen=True)
class StageChange:
    """One entry of a version's history: `from_stage` is None for the registration itself."""

    from_stage: ModelStage | None
    to_stage: ModelStage
    by: str
    at: datetime
    reason: str | None = None

    def __post_init__(self) -> None:
        if not self.by or not self.by.strip():
            raise InvariantViolationError("a stage change names who made it")
        require_utc(self.at, "at")


@dataclass(eq=False)
class ModelVersion:
    """A registered model version.

    Raises InvariantViolationError for an empty id, algorithm set or feature set version, a malformed
    algorithm name, a non-finite metric, an artifact checksum that is not 64 hex digits, or non-UTC times.
    """

    id: str
    algorithms: frozenset[str]
    feature_set_version: str
    training_window: TrainingWindow
    created_by: str
    metrics: dict[str, float] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)
    stage: ModelStage = ModelStage.CANDIDATE
    created_at: datetime = field(default_factory=utc_now)
    history: list[StageChange] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise InvariantViolationError("a model version needs an id")
        self.algorithms = frozenset(self.algorithms)
        if not self.algorithms:
            raise InvariantViolationError(f"model version {self.id} names no algorithm")
        bad = sorted(a for a in self.algorithms if not isinstance(a, str) or not _ALGORITHM.match(a))
        if bad:
            raise InvariantViolationError(f"algorithm names are lower-case identifiers, got {bad}")
        if not self.feature_set_version or not self.feature_set_version.strip():
            raise InvariantViolationError(f"model version {self.id} names no feature set version")
        if not self.created_by or not self.created_by.strip():
            raise InvariantViolationError(f"model version {self.id} names no creator")
        for name, value in self.metrics.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise InvariantViolationError(f"metric {name} of {self.id} is not a finite number: {value!r}")
        # Lower-case once here so comparisons later are plain string equality.
        self.artifacts = {name: digest.lower() for name, digest in self.artifacts.items()}
        for name, digest in self.artifacts.items():
            if not name or not _SHA256_HEX.match(digest):
                raise InvariantViolationError(
                    f"artifact {name!r} needs a sha256 hex checksum, got {digest!r}"
                )
        try:
            self.stage = ModelStage(self.stage)
        except ValueError as exc:
            raise InvariantViolationError(f"unknown model stage {self.stage!r}") from exc
        require_utc(self.created_at, "created_at")
        if not self.history:
            self.history.append(StageChange(None, self.stage, self.created_by, self.created_at, "registered"))
        if self.history[-1].to_stage is not self.stage:
            raise InvariantViolationError(f"model version {self.id}'s history does not end in {self.stage}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModelVersion) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def move_to(self, stage: ModelStage, *, by: str, at: datetime, reason: str | None = None) -> StageChange:
        """Change stage and record who and when.

        Raises InvalidStageTransitionError for a move `STAGE_TRANSITIONS` forbids (staying put included);
        InvariantViolationError for an unknown stage, an empty `by`, a non-UTC time or one before the
        last change.
        """
        change = self._prepare(stage, by=by, at=at, reason=reason)
        self._apply(change)
        return change

    def stage_at(self, moment: datetime) -> ModelStage | None:
        """The stage this version was in at `moment` (None before it was registered): what served when."""
        require_utc(moment, "moment")
        stage: ModelStage | None = None
        for change in self.history:
            if change.at > moment:
                break
            stage = change.to_stage
        return stage

    @property
    def was_champion(self) -> bool:
        return any(change.to_stage is ModelStage.CHAMPION for change in self.history)

    def verify_artifact(self, name: str, content: bytes) -> None:
        """Check an artifact's bytes against the checksum registered for it.

        Raises NotFoundError for an artifact the version does not have and ChecksumMismatchError when
        the content differs (a corrupted or swapped file must never be loaded).
        """
        expected = self.artifacts.get(name)
        if expected is None:
            raise NotFoundError(f"model version {self.id} has no artifact {name!r}")
        actual = hashlib.sha256(content).hexdigest()
        if not hmac.compare_digest(actual, expected):
            raise ChecksumMismatchError(
                f"artifact {name!r} of {self.id} has sha256 {actual}, expected {expected}"
            )

    def _prepare(self, stage: ModelStage, *, by: str, at: datetime, reason: str | None) -> StageChange:
        """Every check of a move, without making it, so that two-version moves are all-or-nothing."""
        try:
            target = ModelStage(stage)
        except ValueError as exc:
            raise InvariantViolationError(f"unknown model stage {stage!r}") from exc
        if target not in STAGE_TRANSITIONS[self.stage]:
            raise InvalidStageTransitionError(
                f"model version {self.id} cannot go from {self.stage} to {target}"
            )
        change = StageChange(self.stage, target, by, at, reason)
        if at < self.history[-1].at:
            raise InvariantViolationError(
                f"model version {self.id} cannot change stage before its last change"
            )
        return change

    def _apply(self, change: StageChange) -> None:
        self.history.append(change)
        self.stage = change.to_stage
        self.events.append(
            ModelVersionStageChanged(
                occurred_at=change.at,
                model_version_id=self.id,
                from_stage=change.from_stage,
                to_stage=change.to_stage,
                decided_by=change.by,
                reason=change.reason,
            )
        )


def promote_to_champion(
    version: ModelVersion,
    current: ModelVersion | None,
    *,
    by: str,
    at: datetime,
    reason: str | None = None,
) -> None:
    """Make `version` the champion and archive `current` (the serving champion, if any) in one step.

    Raises InvariantViolationError when `current` is not the champion or is `version`;
    InvalidStageTransitionError when `version` cannot become champion. Nothing changes when it raises.
    """
    if current is not None:
        if current.stage is not ModelStage.CHAMPION:
            raise InvariantViolationError(f"{current.id} is {current.stage}, not the serving champion")
        if current.id == version.id:
            raise InvariantViolationError(f"{version.id} is already the champion")
    # Both moves are checked before either is made, so a refused promotion archives nothing.
    promotion = version._prepare(ModelStage.CHAMPION, by=by, at=at, reason=reason)
    retirement = (
        None
        if current is None
        else current._prepare(ModelStage.ARCHIVED, by=by, at=at, reason=f"replaced by {version.id}")
    )
    if current is not None and retirement is not None:
        current._apply(retirement)
    version._apply(promotion)


def roll_back(
    current: ModelVersion,
    previous: ModelVersion,
    *,
    by: str,
    at: datetime,
    reason: str | None = None,
) -> None:
    """Archive the serving champion and restore `previous`, an archived version that served before.

    Raises InvariantViolationError when `current` is not the champion, or `previous` is not archived or
    never was champion. Nothing changes when it raises.
    """
    if current.stage is not ModelStage.CHAMPION:
        raise InvariantViolationError(
            f"{current.id} is {current.stage}; only the champion can be rolled back"
        )
    if previous.stage is not ModelStage.ARCHIVED or not previous.was_champion:
        raise InvariantViolationError(
            f"{previous.id} never served as champion, so it cannot be rolled back to"
        )
    retirement = current._prepare(ModelStage.ARCHIVED, by=by, at=at, reason=f"rolled back to {previous.id}")
    restoration = previous._prepare(ModelStage.CHAMPION, by=by, at=at, reason=reason)
    current._apply(retirement)
    previous._apply(restoration)
