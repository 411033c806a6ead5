"""SecretBox on AES-256-GCM with key rotation: the newest key seals, every listed key opens."""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["AesGcmSecretBox", "SecretBoxError", "generate_key"]

_VERSION = b"\x01"
_NONCE = 12


class SecretBoxError(Exception):
    """A secret could not be sealed or opened (bad key material, altered or moved ciphertext)."""


def generate_key() -> str:
    """A new random 256-bit key, URL-safe base64, for XSELL_SECRET_KEYS."""
    return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode()


class AesGcmSecretBox:
    """Ciphertext = version | key id | nonce | AES-GCM(plaintext, associated data = bound_to).

    Binding to the owning record (the org id) means a ciphertext copied into another org's row fails to
    open. Keys are listed newest first; rotating = prepend a new key, then re-seal every secret.
    """

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise SecretBoxError("at least one encryption key is needed")
        self._keys: list[tuple[bytes, AESGCM]] = []
        for index, text in enumerate(keys):
            try:
                raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
            except (ValueError, binascii.Error):
                raise SecretBoxError(f"encryption key #{index + 1} is not base64") from None
            if len(raw) != 32:
                raise SecretBoxError(f"encryption key #{index + 1} must decode to 32 bytes, not {len(raw)}")
            key_id = AESGCM(raw).encrypt(b"\x00" * _NONCE, b"xsell-key-id", None)[:4]
            self._keys.append((key_id, AESGCM(raw)))

    def seal(self, plaintext: str, bound_to: str) -> bytes:
        key_id, cipher = self._keys[0]
        nonce = os.urandom(_NONCE)
        return _VERSION + key_id + nonce + cipher.encrypt(nonce, plaintext.encode(), bound_to.encode())

    def open(self, ciphertext: bytes, bound_to: str) -> str:
        if len(ciphertext) < 1 + 4 + _NONCE + 16 or ciphertext[:1] != _VERSION:
            raise SecretBoxError("not a sealed xsell secret")
        key_id, nonce, body = ciphertext[1:5], ciphertext[5 : 5 + _NONCE], ciphertext[5 + _NONCE :]
        for candidate_id, cipher in self._keys:
            if candidate_id == key_id:
                try:
                    return cipher.decrypt(nonce, body, bound_to.encode()).decode()
                except InvalidTag:
                    raise SecretBoxError("the secret was altered or belongs to another record") from None
        raise SecretBoxError("the secret was sealed with a key that is no longer configured")

    def needs_reseal(self, ciphertext: bytes) -> bool:
        """True when the ciphertext was sealed with an older key (rotation re-seals these)."""
        return ciphertext[1:5] != self._keys[0][0]
