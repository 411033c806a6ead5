"""Secret redaction for log events: by key name, by the shape of a value, and by remembered secret values."""

from __future__ import annotations

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
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
    # Credentials inside URLs: scheme://user:password@host
    re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"),
]

_remembered: set[str] = set()
_lock = threading.Lock()
_MIN_REMEMBERED = 6  # shorter values would redact ordinary words


def remember_secret(value: str | None) -> None:
    """Redact this exact value from every later log line (for secrets that have no telltale shape)."""
    if value and len(value) >= _MIN_REMEMBERED:
        with _lock:
            _remembered.add(value)


def forget_secrets() -> None:
    """Drop every remembered value (tests use this to start clean)."""
    with _lock:
        _remembered.clear()


def redact_text(text: str) -> str:
    """Replace secret-shaped substrings and remembered secrets in free text."""
    for shape in _SECRET_SHAPES:
        text = shape.sub(REDACTED, text)
    if _remembered:
        with _lock:
            values = sorted(_remembered, key=len, reverse=True)
        for value in values:
            if value in text:
                text = text.replace(value, REDACTED)
    return text


def _redact(value: Any, depth: int = 0) -> Any:
    if depth > 8:
        return REDACTED  # a structure this deep in a log line is a bug; never risk printing it
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            key: (REDACTED if isinstance(key, str) and _SECRET_KEY.search(key) else _redact(item, depth + 1))
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
        if _SECRET_KEY.search(key) and key not in ("event",):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _redact(event_dict[key])
    return event_dict
