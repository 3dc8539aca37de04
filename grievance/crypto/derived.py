"""Values sealed with keys derived from the key ring's HMAC key, for secrets that belong to
no case (a staff account's TOTP seed, an SMS conversation before its case is filed).

Each use has its own key, derived with HKDF-SHA256 from the HMAC key with the use's
`info`, so one use's ciphertexts never open under another's. The HMAC key stays when
`rotate-keys` adds a key-encryption key and `retire-keys` drops the old ones (which count
only the case data keys they wrap), so nothing sealed here is locked out by a rotation.
The associated data names the row and the field, so a value copied elsewhere does not open.
"""

from __future__ import annotations

import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from grievance.crypto.keyring import Keyring
from grievance.crypto.vault import TamperedCiphertext

FORMAT = b"\x01"
NONCE_BYTES = 12


@lru_cache(maxsize=64)
def _derive(hmac_key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=info).derive(hmac_key)


def derived_key(keyring: Keyring, info: bytes) -> bytes:
    """The AES-256-GCM key of one use (derived, never stored)."""
    return _derive(keyring.hmac_key, info)


def seal(keyring: Keyring, info: bytes, associated: str, value: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(derived_key(keyring, info)).encrypt(nonce, value, associated.encode())
    return FORMAT + nonce + sealed


def open_sealed(keyring: Keyring, info: bytes, associated: str, blob: bytes) -> bytes:
    if blob[:1] != FORMAT:
        raise TamperedCiphertext(f"unknown ciphertext format ({associated})")
    nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    try:
        return AESGCM(derived_key(keyring, info)).decrypt(nonce, sealed, associated.encode())
    except InvalidTag:
        raise TamperedCiphertext(f"a sealed value does not open ({associated})") from None
