"""Salesforce record ids: the 15-character case-sensitive form and the 18-character case-safe form."""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.errors import InvalidIdError

__all__ = ["SalesforceId"]

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BODY = re.compile(r"^[A-Za-z0-9]{15}$")
_SUFFIX = re.compile(r"^[A-Za-z0-9]{3}$")


def _checksum(body: str) -> str:
    """Three characters that encode which letters of each 5-character chunk are upper case."""
    suffix = []
    for start in (0, 5, 10):
        bits = 0
        for position, char in enumerate(body[start : start + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << position
        suffix.append(_ALPHABET[bits])
    return "".join(suffix)


@dataclass(frozen=True, slots=True)
class SalesforceId:
    """A Salesforce record id, always held in its 18-character case-safe form.

    Raises InvalidIdError for anything that is not 15 alphanumerics or 15 alphanumerics followed by
    the matching 3-character checksum.
    """

    value: str

    def __post_init__(self) -> None:
        if not isinstance(self.value, str) or len(self.value) != 18 or not _BODY.match(self.value[:15]):
            raise InvalidIdError(f"not an 18-character Salesforce id: {self.value!r}")
        if _checksum(self.value[:15]) != self.value[15:]:
            raise InvalidIdError(f"Salesforce id checksum does not match: {self.value!r}")

    @classmethod
    def parse(cls, raw: str) -> SalesforceId:
        """Accept a 15- or 18-character id and return its 18-character form.

        An 18-character id whose suffix differs only in letter case is accepted (Salesforce itself
        treats the suffix case-insensitively); any other mismatch raises InvalidIdError.
        """
        text = raw.strip() if isinstance(raw, str) else raw
        if not isinstance(text, str) or not _BODY.match(text[:15]) or len(text) not in (15, 18):
            raise InvalidIdError(f"a Salesforce id has 15 or 18 letters and digits, got {raw!r}")
        body = text[:15]
        expected = _checksum(body)
        # str.upper() maps some non-ASCII letters onto ASCII (dotless i -> "I"), so check ASCII first.
        if len(text) == 18 and (not _SUFFIX.match(text[15:]) or text[15:].upper() != expected):
            raise InvalidIdError(f"Salesforce id checksum does not match: {raw!r}")
        return cls(body + expected)

    @property
    def short(self) -> str:
        """The 15-character case-sensitive form."""
        return self.value[:15]

    @property
    def key_prefix(self) -> str:
        """The first three characters, which name the object type (001 = Account, 006 = Opportunity)."""
        return self.value[:3]

    def __str__(self) -> str:
        return self.value
