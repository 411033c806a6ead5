"""Secret redaction for log events: by key name, by the shape of a value, and by remembered secret values."""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Mapping, MutableMapping
from typing import Any

__all__ = ["REDACTED", "forget_secrets", "redact_event", "redact_text", "remember_secret"]

REDACTED = "[REDACTED]"

# Key names whose values are secrets wherever they appear (dict keys, structlog kwargs, headers).
_SECRET_KEY = re.compile(
    r"(pass(word|wd|phrase)?|secret|token|authori[sz]ation|api[-_]?key|credential|private[-_]?key|"
    r"session[-_]?id|cookie|assertion|client[-_]?secret|refresh|signature|fernet|encryption[-_]?key)",
    re.IGNORECASE,
)

# Values that are secrets by their shape, whatever key carries them.
_SECRET_SHAPES = [
    # JWT / JWS compact serialisation: three base64url parts, the first a JSON header starting '{"'.
    re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    # Salesforce session ids / access tokens: the 15-char org id, '!', then the opaque token.
    re.compile(r"00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]{20,}"),
    # Bearer/Basic credentials in free text.
    re.compile(r"\b(?i:bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
    # Credentials inside URLs: scheme://user:password@host
    re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"),
]

# Any of the shapes, searched once: most text has none, and one search is cheaper than every substitution.
_ANY_SHAPE = re.compile("|".join(f"(?:{shape.pattern})" for shape in _SECRET_SHAPES))

_remembered: set[str] = set()
_longest_first: tuple[str, ...] = ()  # _remembered as redact_text replaces them, rebuilt on each change
_lock = threading.Lock()
_MIN_REMEMBERED = 6  # shorter values would redact ordinary words


def remember_secret(value: str | None) -> None:
    """Redact this exact value from every later log line (for secrets that have no telltale shape)."""
    global _longest_first
    if value and len(value) >= _MIN_REMEMBERED:
        with _lock:
            _remembered.add(value)
            _longest_first = tuple(sorted(_remembered, key=len, reverse=True))


def forget_secrets() -> None:
    """Drop every remembered value (tests use this to start clean)."""
    global _longest_first
    with _lock:
        _remembered.clear()
        _longest_first = ()


def redact_text(text: str) -> str:
    """Replace secret-shaped substrings and remembered secrets in free text."""
    if _ANY_SHAPE.search(text) is not None:
        for shape in _SECRET_SHAPES:
            text = shape.sub(REDACTED, text)
    for value in _longest_first:
        if value in text:
            text = text.replace(value, REDACTED)
    return text


@functools.lru_cache(maxsize=4096)  # key names repeat: the same few dozen in every line
def _is_secret_key(key: str) -> bool:
    return _SECRET_KEY.search(key) is not None


def _redact(value: Any, depth: int = 0) -> Any:
    if depth > 8:
        return REDACTED  # a structure this deep in a log line is a bug; never risk printing it
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            key: (REDACTED if isinstance(key, str) and _is_secret_key(key) else _redact(item, depth + 1))
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact(item, depth + 1) for item in value]
    if isinstance(value, bytes | bytearray):
        return redact_text(value.decode("utf-8", "replace"))
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact_text(repr(value) if not hasattr(value, "__str__") else str(value))


def redact_event(
    _logger: object, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: the last step before rendering, so it also sees formatted exceptions."""
    for key in list(event_dict):
        if _is_secret_key(key) and key != "event":
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _redact(event_dict[key])
    return event_dict
