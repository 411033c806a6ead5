"""SecretBox: authenticated encryption of secrets at rest, bound to the record they belong to."""

from __future__ import annotations

from typing import Protocol

__all__ = ["SecretBox"]


class SecretBox(Protocol):
    def seal(self, plaintext: str, bound_to: str) -> bytes:
        """Encrypt; the ciphertext only opens for the same `bound_to` (for example the org id)."""
        ...

    def open(self, ciphertext: bytes, bound_to: str) -> str:
        """Decrypt. Raises SecretBoxError when the ciphertext was altered, moved, or the key is unknown."""
        ...
