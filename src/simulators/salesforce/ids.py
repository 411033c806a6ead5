"""Salesforce-style record ids: key prefixes, 15→18 character case-safe ids, and a per-org minter."""

from __future__ import annotations

import itertools

__all__ = ["KEY_PREFIXES", "IdMinter", "base62", "to_18"]

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

KEY_PREFIXES: dict[str, str] = {
    "Account": "001",
    "Contact": "003",
    "Opportunity": "006",
    "OpportunityLineItem": "00k",
    "Product2": "01t",
    "Pricebook2": "01s",
    "PricebookEntry": "01u",
    "Task": "00T",
    "Event": "00U",
    "User": "005",
    "Profile": "00e",
    "Organization": "00D",
    "BulkJob": "750",
    "QueryLocator": "01g",
}


def base62(number: int, width: int) -> str:
    """`number` in base 62, left-padded with zeros to `width` characters."""
    digits: list[str] = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(_BASE62[rest])
    return "".join(reversed(digits)).rjust(width, "0")


def to_18(id15: str) -> str:
    """The 18-character case-insensitive-safe form of a 15-character id (18-character ids pass through)."""
    if len(id15) == 18:
        return id15
    if len(id15) != 15:
        raise ValueError(f"a Salesforce id has 15 or 18 characters, not {len(id15)}: {id15!r}")
    suffix = ""
    for block in range(3):
        bits = 0
        for position, char in enumerate(id15[block * 5 : block * 5 + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << position
        suffix += _SUFFIX[bits]
    return id15 + suffix


class IdMinter:
    """Mints unique 18-character ids for one org; `pod` (2 chars) keeps orgs' ids apart."""

    def __init__(self, pod: str) -> None:
        if len(pod) != 2:
            raise ValueError("pod must have two characters")
        self._pod = pod
        self._counters: dict[str, itertools.count[int]] = {}

    def mint(self, prefix: str) -> str:
        counter = self._counters.setdefault(prefix, itertools.count(1))
        return to_18(prefix + self._pod + base62(next(counter), 10))

    def observe(self, record_id: str) -> None:
        """Note a seeded id so this minter never hands out the same one."""
        if record_id[3:5] != self._pod or len(record_id) < 15:
            return
        seen = 0
        for char in record_id[5:15]:
            position = _BASE62.find(char)
            if position < 0:
                return
            seen = seen * 62 + position
        prefix = record_id[:3]
        current = self._counters.get(prefix)
        start = max(seen + 1, next(current) if current else 1)
        self._counters[prefix] = itertools.count(start)
