"""Secrets of staff accounts (the TOTP seed), sealed with a key derived from the key ring.

Staff accounts have no case data key. Their secrets are sealed with AES-256-GCM under
`account_secrets_key`, derived with HKDF-SHA256 from the key ring's HMAC key
(`grievance.crypto.derived`): that key
stays when `rotate-keys` adds a key-encryption key and `retire-keys` drops the old ones,
which count only the data keys they wrap; a seed sealed under a retired version would
lock its owner out. (The derivation's `info` separates it from the HMAC key's own use.)

The associated data names the user and the field, so a sealed seed copied to another
account, or into another field, does not open.
"""

from __future__ import annotations

from grievance.crypto import derived
from grievance.crypto.keyring import Keyring

_INFO = b"grievance/account-secrets/v1"


def account_secrets_key(keyring: Keyring) -> bytes:
    """The AES-256-GCM key of staff account secrets (derived, never stored)."""
    return derived.derived_key(keyring, _INFO)


def _associated_data(user_id: int, field: str) -> str:
    return f"grievance/v1|user={user_id}|field={field}"


def seal_account_secret(keyring: Keyring, user_id: int, field: str, value: bytes) -> bytes:
    return derived.seal(keyring, _INFO, _associated_data(user_id, field), value)


def open_account_secret(keyring: Keyring, user_id: int, field: str, blob: bytes) -> bytes:
    return derived.open_sealed(keyring, _INFO, _associated_data(user_id, field), blob)
