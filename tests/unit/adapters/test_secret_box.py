"""AES-GCM secret box: round trip, binding to the owning record, tampering and key rotation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.security.secret_box import AesGcmSecretBox, SecretBoxError, generate_key

_KEY = generate_key()


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


@settings(max_examples=200, deadline=None)
@given(plaintext=st.text(max_size=500), owner=st.text(min_size=1, max_size=40))
def test_any_text_round_trips_and_any_flipped_byte_fails(plaintext: str, owner: str) -> None:
    box = AesGcmSecretBox([_KEY])
    sealed = box.seal(plaintext, owner)
    assert box.open(sealed, owner) == plaintext
    for position in (0, 5, len(sealed) // 2, len(sealed) - 1):
        tampered = bytearray(sealed)
        tampered[position] ^= 0x01
        with pytest.raises(SecretBoxError):
            box.open(bytes(tampered), owner)


def test_nonces_are_never_reused() -> None:
    box = AesGcmSecretBox([_KEY])
    nonces = {box.seal("x", "org")[5:17] for _ in range(100_000)}
    assert len(nonces) == 100_000
