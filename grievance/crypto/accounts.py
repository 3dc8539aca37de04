"""Secrets of staff accounts (the TOTP seed), sealed with the key ring's accounts key.

Staff accounts have no case data key. Their secrets are sealed with AES-256-GCM under
the key ring's `Purpose.ACCOUNTS` key (`grievance.crypto.derived`), versioned on its
own: `rotate-keys` adds a version and re-seals every stored seed with it
(`services.keys`), and key-encryption keys, which count only the data keys they wrap,
play no part, so retiring them never locks anyone out.

The associated data names the user and the field, so a sealed seed copied to another
account, or into another field, does not open.
"""

from __future__ import annotations

from grievance.crypto import derived
from grievance.crypto.keyring import Keyring

_INFO = b"grievance/account-secrets/v1"


def account_secrets_key(keyring: Keyring) -> bytes:
    """The current AES-256-GCM key of staff account secrets."""
    return derived.derived_key(keyring, _INFO)


def _associated_data(user_id: int, field: str) -> str:
    return f"grievance/v1|user={user_id}|field={field}"


def seal_account_secret(keyring: Keyring, user_id: int, field: str, value: bytes) -> bytes:
    return derived.seal(keyring, _INFO, _associated_data(user_id, field), value)


def open_account_secret(keyring: Keyring, user_id: int, field: str, blob: bytes) -> bytes:
    return derived.open_sealed(keyring, _INFO, _associated_data(user_id, field), blob)
