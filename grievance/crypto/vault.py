"""Envelope encryption of identities and statements (DESIGN §5, contact-address tier).

Each case has its own 256-bit data key, wrapped with AES-256-GCM by the key ring's
current key-encryption key. Values are sealed with AES-256-GCM under the data key with
associated data naming the case, the field and the data key, so a ciphertext copied to
another row or field does not open. Deleting the data key erases the case's identities
for good. Phone numbers are found again through an HMAC, never by decrypting rows.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import unicodedata
from collections.abc import Callable
from datetime import datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.orm import Session

from grievance.crypto.keyring import Keyring, Purpose
from grievance.models.vault import DataKey

FORMAT = b"\x01"
NONCE_BYTES = 12


class VaultError(RuntimeError):
    pass


class IdentityErased(VaultError):
    """The case's data key was deleted: its identities are gone for good."""


class TamperedCiphertext(VaultError):
    """A ciphertext does not open under its case, field and key."""


def _associated_data(case_id: int, field: str, key_id: int) -> bytes:
    return f"grievance/v1|case={case_id}|field={field}|key={key_id}".encode()


def _wrap_context(case_id: int, kek_version: int) -> bytes:
    return f"grievance/datakey/v1|case={case_id}|kek={kek_version}".encode()


def wrap_data_key(keyring: Keyring, case_id: int, key: bytes) -> tuple[int, bytes]:
    """A case's data key wrapped by the key ring's current key-encryption key: the version
    and the `DataKey.wrapped` bytes (the vault's format; bulk loads use it directly)."""
    version = keyring.current
    nonce = os.urandom(NONCE_BYTES)
    return version, nonce + AESGCM(keyring.kek(version)).encrypt(
        nonce, key, _wrap_context(case_id, version)
    )


def seal_under(key: bytes, key_id: int, case_id: int, field: str, value: bytes) -> bytes:
    """`value` sealed under a data key whose row id is `key_id` (the vault's format)."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, value, _associated_data(case_id, field, key_id))
    return FORMAT + nonce + sealed


class Vault:
    def __init__(self, session: Session, keyring: Keyring, now: Callable[[], datetime]) -> None:
        self._session = session
        self._keyring = keyring
        self._now = now
        self._keys: dict[int, tuple[int, bytes]] = {}

    # -- data keys ------------------------------------------------------------------
    def create_data_key(self, case_id: int) -> DataKey:
        key = AESGCM.generate_key(bit_length=256)
        version, wrapped = wrap_data_key(self._keyring, case_id, key)
        row = DataKey(case_id=case_id, kek_version=version, wrapped=wrapped, created_at=self._now())
        self._session.add(row)
        self._session.flush()
        self._keys[case_id] = (row.id, key)
        return row

    def _data_key(self, case_id: int) -> tuple[int, bytes]:
        if case_id not in self._keys:
            row = self._session.query(DataKey).filter_by(case_id=case_id).one_or_none()
            if row is None:
                raise IdentityErased(f"case {case_id} has no data key")
            self._keys[case_id] = (row.id, self._unwrap(row))
        return self._keys[case_id]

    def _unwrap(self, row: DataKey) -> bytes:
        nonce, wrapped = row.wrapped[:NONCE_BYTES], row.wrapped[NONCE_BYTES:]
        try:
            return AESGCM(self._keyring.kek(row.kek_version)).decrypt(
                nonce, wrapped, _wrap_context(row.case_id, row.kek_version)
            )
        except InvalidTag:
            raise TamperedCiphertext(f"data key of case {row.case_id} does not unwrap") from None

    def rewrap(self, row: DataKey) -> bool:
        """Wrap a data key with the current key-encryption key; False if it already is."""
        if row.kek_version == self._keyring.current:
            return False
        key = self._unwrap(row)
        row.kek_version, row.wrapped = wrap_data_key(self._keyring, row.case_id, key)
        row.rewrapped_at = self._now()
        return True

    def erase(self, case_id: int) -> bool:
        """Delete the case's data key; True if there was one."""
        self._keys.pop(case_id, None)
        deleted = self._session.query(DataKey).filter_by(case_id=case_id).delete()
        return bool(deleted)

    # -- values ---------------------------------------------------------------------
    def seal(self, case_id: int, field: str, value: str) -> bytes:
        return self.seal_bytes(case_id, field, unicodedata.normalize("NFC", value).encode())

    def open(self, case_id: int, field: str, blob: bytes) -> str:
        return self.open_bytes(case_id, field, blob).decode()

    def seal_bytes(self, case_id: int, field: str, value: bytes) -> bytes:
        key_id, key = self._data_key(case_id)
        return seal_under(key, key_id, case_id, field, value)

    def open_bytes(self, case_id: int, field: str, blob: bytes) -> bytes:
        if blob[:1] != FORMAT:
            raise TamperedCiphertext(f"unknown ciphertext format in {field}")
        key_id, key = self._data_key(case_id)
        nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
        try:
            return AESGCM(key).decrypt(nonce, sealed, _associated_data(case_id, field, key_id))
        except InvalidTag:
            raise TamperedCiphertext(f"{field} of case {case_id} does not open") from None

    # -- keyed lookups --------------------------------------------------------------
    def lookup_hash(self, purpose: str, value: str) -> str:
        """A keyed hash to find a value again without decrypting (e.g. a phone number),
        under the key ring's lookup key (`Purpose.LOOKUP`, never rotated)."""
        message = purpose.encode() + b"\x00" + unicodedata.normalize("NFC", value).encode()
        key = self._keyring.key(Purpose.LOOKUP)
        return hmac.new(key, message, hashlib.sha256).hexdigest()
