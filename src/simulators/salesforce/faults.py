"""Per-org fault injection: what can go wrong, set from CLI flags or the admin endpoint.

Keys (the same in `--fault ORG:KEY=VALUE` and in the admin endpoint's JSON body):

- `latency_ms` (float): added to every request to the org.
- `error_rate` (0..1): share of API requests answered 500 UNKNOWN_EXCEPTION or 503 SERVER_UNAVAILABLE.
- `reset_rate` (0..1): share of API requests whose connection is cut in the middle of the body.
- `expire_tokens_once` (bool): the next API request finds every token of the org expired (401
  INVALID_SESSION_ID); tokens issued afterwards work.
- `daily_limit` (int): the org's daily API request budget; `exhaust_daily_limit` (bool) spends it now,
  so every API request gets 403 REQUEST_LIMIT_EXCEEDED.
- `query_timeout_days` (float): a query whose SystemModstamp window spans more days (or is unbounded)
  gets 400 QUERY_TIMEOUT; `query_timeouts` (int): the next N queries time out whatever their window.
- `expire_locators` (int): the next N queryMore requests find their query locator expired (400
  INVALID_QUERY_LOCATOR), as an idle or evicted cursor does.
- `hide_field` (`Object.Field`, optionally `@N`): hide the field from describe and SOQL now, or after N
  more API requests (a field hidden mid-sync).
- `shared_modstamp` (`Object:N`): give the N most recently modified rows one SystemModstamp, so equal
  stamps straddle page boundaries.
- `late_records` (`Object:N`): add N rows whose SystemModstamp is an hour earlier than the newest row
  already served, invisible until one more query on that object has run.
- `bulk_fail` (bool): Bulk 2.0 query jobs created from now on end in state Failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["FaultPlan", "FaultSpecError", "parse_fault_option"]

_BOOLEANS = {
    "1": True,
    "true": True,
    "yes": True,
    "on": True,
    "0": False,
    "false": False,
    "no": False,
    "off": False,
}


class FaultSpecError(ValueError):
    """A fault key or value that does not parse."""


@dataclass
class FaultPlan:
    """The faults currently switched on for one org (actions such as `late_records` are not kept here)."""

    latency_ms: float = 0.0
    error_rate: float = 0.0
    reset_rate: float = 0.0
    expire_tokens_once: bool = False
    query_timeout_days: float | None = None
    query_timeouts: int = 0
    expire_locators: int = 0
    bulk_fail: bool = False
    pending_hidden: list[tuple[str, str, int]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "error_rate": self.error_rate,
            "reset_rate": self.reset_rate,
            "expire_tokens_once": self.expire_tokens_once,
            "query_timeout_days": self.query_timeout_days,
            "query_timeouts": self.query_timeouts,
            "expire_locators": self.expire_locators,
            "bulk_fail": self.bulk_fail,
            "pending_hidden": [f"{obj}.{name}@{left}" for obj, name, left in self.pending_hidden],
        }


def _as_bool(key: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    parsed = _BOOLEANS.get(str(value).strip().lower())
    if parsed is None:
        raise FaultSpecError(f"{key} must be true or false, not {value!r}")
    return parsed


def _as_float(key: str, value: object, *, share: bool = False) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise FaultSpecError(f"{key} must be a number, not {value!r}") from None
    if number < 0 or (share and number > 1):
        raise FaultSpecError(f"{key} must be {'between 0 and 1' if share else 'zero or more'}, not {value!r}")
    return number


def _as_int(key: str, value: object) -> int:
    number = _as_float(key, value)
    if not number.is_integer():
        raise FaultSpecError(f"{key} must be a whole number, not {value!r}")
    return int(number)


def parse_object_count(key: str, value: object) -> tuple[str, int]:
    """`Account:25` → ("Account", 25)."""
    if isinstance(value, tuple):
        return value
    if isinstance(value, dict):
        return str(value.get("object", "")), _as_int(key, value.get("count"))
    text = str(value)
    name, _, count = text.partition(":")
    if not name or not count:
        raise FaultSpecError(f"{key} must look like Object:COUNT, not {value!r}")
    return name, _as_int(key, count)


def parse_hidden_field(value: object) -> tuple[str, str, int]:
    """`Account.Industry@20` → ("Account", "Industry", 20); without `@N` the field hides at once."""
    if isinstance(value, tuple):
        return value
    text = str(value)
    target, _, after = text.partition("@")
    obj, _, name = target.partition(".")
    if not obj or not name:
        raise FaultSpecError(f"hide_field must look like Object.Field[@N], not {value!r}")
    return obj, name, _as_int("hide_field", after) if after else 0


def coerce_fault(key: str, value: object) -> object:
    """Validate one fault setting; returns the typed value (raises FaultSpecError)."""
    if key in {"latency_ms", "query_timeout_days"}:
        return _as_float(key, value)
    if key in {"error_rate", "reset_rate"}:
        return _as_float(key, value, share=True)
    if key in {"expire_tokens_once", "bulk_fail", "exhaust_daily_limit"}:
        return _as_bool(key, value)
    if key in {"query_timeouts", "expire_locators", "daily_limit"}:
        return _as_int(key, value)
    if key == "hide_field":
        return parse_hidden_field(value)
    if key in {"shared_modstamp", "late_records"}:
        return parse_object_count(key, value)
    raise FaultSpecError(f"unknown fault {key!r}")


def parse_fault_option(option: str) -> tuple[str, str, object]:
    """`bu1:latency_ms=50` → ("bu1", "latency_ms", 50.0); raises FaultSpecError with a reason."""
    org, sep, rest = option.partition(":")
    key, eq, value = rest.partition("=")
    if not sep or not eq or not org or not key:
        raise FaultSpecError(f"--fault must look like ORG:KEY=VALUE, not {option!r}")
    return org, key.strip(), coerce_fault(key.strip(), value.strip())
