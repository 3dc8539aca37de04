"""Secrets of staff accounts (the TOTP seed), sealed with a key derived from the key ring.

Staff accounts have no case data key. Their secrets are sealed with AES-256-GCM under
`account_secrets_key`, derived with HKDF-SHA256 from the key ring's HMAC key: that key
stays when `rotate-keys` adds a key-encryption key and `retire-keys` drops the old ones,
which count only the data keys they wrap; a seed sealed under a retired version would
lock its owner out. (The derivation's `info` separates it from the HMAC key's own use.)

The associated data names the user and the field, so a sealed seed copied to another
account, or into another field, does not open.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from grievance.crypto.keyring import Keyring
from grievance.crypto.vault import TamperedCiphertext

FORMAT = b"\x01"
NONCE_BYTES = 12
_INFO = b"grievance/account-secrets/v1"


def account_secrets_key(keyring: Keyring) -> bytes:
    """The AES-256-GCM key of staff account secrets (derived, never stored)."""
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=_INFO).derive(keyring.hmac_key)


def _associated_data(user_id: int, field: str) -> bytes:
    return f"grievance/v1|user={user_id}|field={field}".encode()


def seal_account_secret(keyring: Keyring, user_id: int, field: str, value: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(account_secrets_key(keyring)).encrypt(
        nonce, value, _associated_data(user_id, field)
    )
    return FORMAT + nonce + sealed


def open_account_secret(keyring: Keyring, user_id: int, field: str, blob: bytes) -> bytes:
    if blob[:1] != FORMAT:
        raise TamperedCiphertext(f"unknown ciphertext format in {field}")
    nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    try:
        return AESGCM(account_secrets_key(keyring)).decrypt(
            nonce, sealed, _associated_data(user_id, field)
        )
    except InvalidTag:
        raise TamperedCiphertext(f"{field} of user {user_id} does not open") from None
