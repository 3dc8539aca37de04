"""Values sealed with the key ring's per-purpose keys, for secrets that belong to no case
(a staff account's TOTP seed, an SMS conversation before its case is filed, the outbox).

Each purpose has its own versioned AES-256-GCM key (`Purpose`), so one purpose's
ciphertexts never open under another's, and each can be rotated on its own: a sealed
value names the key version it was sealed with, new values use the current version,
and `services.keys.reseal_all` re-seals older ones after `rotate-keys`. Key-encryption
keys (`rotate-keys`, `retire-keys` of data keys) play no part here. The sealing modules
name their purpose by its `info` (`keyring.purpose_of`). The associated data names the
row and the field, so a value copied elsewhere does not open.

Formats: 0x01 ‖ nonce ‖ ciphertext (sealed before versions: the purpose's version 1),
0x02 ‖ version (2 bytes, big-endian) ‖ nonce ‖ ciphertext.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from grievance.crypto.keyring import Keyring, KeyringError, purpose_of
from grievance.crypto.vault import TamperedCiphertext

FORMAT_1 = b"\x01"
FORMAT = b"\x02"
NONCE_BYTES = 12


def derived_key(keyring: Keyring, info: bytes, version: int | None = None) -> bytes:
    """The AES-256-GCM key of one purpose (its current version when None)."""
    return keyring.key(purpose_of(info), version)


def sealed_version(blob: bytes) -> int | None:
    """The key version a value was sealed with; None for an empty value."""
    if blob[:1] == FORMAT and len(blob) >= 3:
        return int.from_bytes(blob[1:3], "big")
    if blob[:1] == FORMAT_1:
        return 1
    return None


def seal(keyring: Keyring, info: bytes, associated: str, value: bytes) -> bytes:
    version = keyring.current_version(purpose_of(info))
    nonce = os.urandom(NONCE_BYTES)
    key = derived_key(keyring, info, version)
    sealed = AESGCM(key).encrypt(nonce, value, associated.encode())
    return FORMAT + version.to_bytes(2, "big") + nonce + sealed


def open_sealed(keyring: Keyring, info: bytes, associated: str, blob: bytes) -> bytes:
    version = sealed_version(blob)
    if version is None:
        raise TamperedCiphertext(f"unknown ciphertext format ({associated})")
    body = blob[1:] if blob[:1] == FORMAT_1 else blob[3:]
    nonce, sealed = body[:NONCE_BYTES], body[NONCE_BYTES:]
    try:
        key = derived_key(keyring, info, version)
    except KeyringError:  # a retired version: nothing still in use is sealed with it
        raise TamperedCiphertext(f"no key version {version} ({associated})") from None
    try:
        return AESGCM(key).decrypt(nonce, sealed, associated.encode())
    except InvalidTag:
        raise TamperedCiphertext(f"a sealed value does not open ({associated})") from None


def reseal(keyring: Keyring, info: bytes, associated: str, blob: bytes) -> bytes | None:
    """`blob` sealed again with the purpose's current key; None if it already is (or is
    empty: an emptied row)."""
    version = sealed_version(blob)
    if version is None or version == keyring.current_version(purpose_of(info)):
        return None
    return seal(keyring, info, associated, open_sealed(keyring, info, associated, blob))
