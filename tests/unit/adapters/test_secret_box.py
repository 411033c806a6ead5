"""AES-GCM secret box: round trip, binding to the owning record, tampering and key rotation."""

from __future__ import annotations

import pytest

from adapters.security.secret_box import AesGcmSecretBox, SecretBoxError, generate_key


def test_round_trip_and_ciphertext_hides_plaintext() -> None:
    box = AesGcmSecretBox([generate_key()])
    sealed = box.seal("s3cr3t-client-secret", "org-a")
    assert b"s3cr3t" not in sealed
    assert box.open(sealed, "org-a") == "s3cr3t-client-secret"
    assert box.seal("x", "org-a") != box.seal("x", "org-a")  # fresh nonce each time


def test_ciphertext_moved_to_another_org_does_not_open() -> None:
    box = AesGcmSecretBox([generate_key()])
    with pytest.raises(SecretBoxError):
        box.open(box.seal("secret", "org-a"), "org-b")


def test_tampering_is_detected() -> None:
    box = AesGcmSecretBox([generate_key()])
    sealed = bytearray(box.seal("secret", "org-a"))
    sealed[-1] ^= 1
    with pytest.raises(SecretBoxError):
        box.open(bytes(sealed), "org-a")


def test_rotation_old_ciphertexts_open_and_are_flagged_for_reseal() -> None:
    old, new = generate_key(), generate_key()
    sealed_old = AesGcmSecretBox([old]).seal("secret", "org-a")
    rotated = AesGcmSecretBox([new, old])
    assert rotated.open(sealed_old, "org-a") == "secret"
    assert rotated.needs_reseal(sealed_old)
    assert not rotated.needs_reseal(rotated.seal("secret", "org-a"))
    with pytest.raises(SecretBoxError, match="no longer configured"):
        AesGcmSecretBox([new]).open(sealed_old, "org-a")


@pytest.mark.parametrize("key", ["", "not base64 at all!", "c2hvcnQ="])
def test_bad_keys_are_refused(key: str) -> None:
    with pytest.raises(SecretBoxError):
        AesGcmSecretBox([key])
