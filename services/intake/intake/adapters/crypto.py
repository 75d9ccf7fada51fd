"""The identity vault's cryptography: a key per person, wrapped by the master key; AES-256-GCM with a
fresh random nonce for every write; associated data that binds each ciphertext to its person and to
what it is (a vault category, a sealed field), so a ciphertext copied onto another person or field does
not open.

Two keys are derived from the master key (HKDF-SHA256, each with its own purpose label): one wraps the
person keys, one makes the V-number's blind index (HMAC-SHA256), so the vault can find a person by
V-number and refuse a V-number held twice without storing the V-number in the clear.

Deleting a person's wrapped key is the erasure: every ciphertext under that key — the vault record,
a sealed name on a Kafka topic or in a read model, a backup — can then no longer be read by anyone.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12  # 96 bits, as GCM is specified for; random per write (at most 2^32 writes per key)
SEALED_PREFIX = "v1."


class SealBroken(ValueError):
    """A ciphertext does not open under the key and associated data it claims: tampered, truncated, or
    sealed for another person or field."""


def _derive(master_key: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master_key)


def seal(key: bytes, associated_data: bytes, plaintext: bytes) -> bytes:
    """nonce ‖ ciphertext ‖ tag."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, associated_data)


def open_sealed(key: bytes, associated_data: bytes, sealed: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated_data)
    except (InvalidTag, ValueError):
        raise SealBroken("the sealed value does not open for this person and purpose") from None


def record_aad(person_id: str, category: str) -> bytes:
    return f"asielketen:vault:{category}:{person_id}".encode()


def field_aad(person_id: str, field: str) -> bytes:
    return f"asielketen:sealed-field:{field}:{person_id}".encode()


def seal_field(key: bytes, person_id: str, field: str, value: str) -> str:
    """A value sealed to travel in an event: text, URL-safe, marked with its format version."""
    sealed = seal(key, field_aad(person_id, field), value.encode())
    return SEALED_PREFIX + base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def open_field(key: bytes, person_id: str, field: str, sealed_text: str) -> str:
    if not sealed_text.startswith(SEALED_PREFIX):
        raise SealBroken("not a sealed value of a format this vault knows")
    body = sealed_text.removeprefix(SEALED_PREFIX)
    try:
        sealed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError:
        raise SealBroken("the sealed value is not base64url") from None
    return open_sealed(key, field_aad(person_id, field), sealed).decode()


class VaultCipher:
    """The master key's two derived keys: wrapping person keys, and the V-number's blind index."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("the vault's master key is 32 bytes")
        self._wrapping_key = _derive(master_key, b"asielketen/vault/person-key-wrapping/v1")
        self._index_key = _derive(master_key, b"asielketen/vault/v-number-index/v1")

    @staticmethod
    def new_person_key() -> bytes:
        return AESGCM.generate_key(bit_length=256)

    def wrap(self, person_id: str, person_key: bytes) -> bytes:
        return seal(self._wrapping_key, f"asielketen:person-key:{person_id}".encode(), person_key)

    def unwrap(self, person_id: str, wrapped: bytes) -> bytes:
        return open_sealed(self._wrapping_key, f"asielketen:person-key:{person_id}".encode(), wrapped)

    def v_number_index(self, v_number: str) -> str:
        """The blind index of a V-number: equal V-numbers give equal indexes, and without the master
        key the index says nothing (an unkeyed hash of ten digits would be reversed in seconds)."""
        return hmac.new(self._index_key, v_number.encode(), hashlib.sha256).hexdigest()
