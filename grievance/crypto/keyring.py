"""The versioned key ring, held outside the database (DESIGN §5).

A key ring is a small JSON document:

    {"format": 2,
     "current": 2, "kek": {"1": "<base64 of 32 bytes>", "2": "..."},
     "keys": {"receipt":  {"current": 1, "versions": {"1": "..."}},
              "lookup":   {"current": 1, "versions": {"1": "..."}},
              "accounts": {"current": 1, "versions": {"1": "..."}},
              "sms":      {"current": 1, "versions": {"1": "..."}},
              "outbox":   {"current": 1, "versions": {"1": "..."}}}}

`kek` are the key-encryption keys that wrap each case's data key; `current` is the one
new data keys are wrapped with (older versions stay until `rotate-keys` has re-wrapped
every data key). `keys` holds one versioned key per `Purpose`, so that no two uses share
a key and each can be rotated on its own (what rotation does for each: `Purpose`).
Keep it in a file readable only by the service account (GRIEVANCE_KEYRING_FILE) or in
GRIEVANCE_KEYRING.

Format 1 (before per-purpose keys) had one `"hmac"` key for the phone lookups, from
which the sealing keys were derived with HKDF-SHA256; it is still read: each purpose's
version 1 is then the key format 1 used for it (`_FORMAT_1_INFO`), so everything
sealed or hashed before opens and matches as it did. The next `rotate-keys` writes
format 2.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import enum
import json
import logging
import os
import secrets
import stat
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

log = logging.getLogger(__name__)

KEY_BYTES = 32
FORMAT = 2


class KeyringError(RuntimeError):
    """The key ring is missing or malformed; the message says what to fix."""


class Purpose(enum.StrEnum):
    """What a key of the ring is for: one key (and its versions) per purpose.

    - `RECEIPT`: the pepper of receipt codes (HMAC-SHA256 before Argon2id). A code is
      never stored, so it cannot be hashed again: a new version applies to new codes,
      older versions stay for the codes hashed with them (`services.receipts`).
    - `LOOKUP`: the HMAC that finds phone numbers and staff e-mail addresses again.
      Not rotated: the phone's HMAC is the handle of SMS conversations, opt-outs and the
      outbox, and part of what their sealed fields are bound to.
    - `CHECKPOINT`: the Ed25519 private key (its 32-byte seed) that signs the
      transparency log's checkpoints (`services.checkpoints`). A new version signs the
      next checkpoints; the verifier key of each version stays publishable. A key ring
      written before it existed gets version 1 derived from the lookup key
      (HKDF-SHA256, `_FORMAT_1_INFO`) until `rotate-keys --checkpoint-key` writes one.
    - `ACCOUNTS`, `SMS`, `OUTBOX`: AES-256-GCM keys of staff TOTP seeds, of SMS
      conversations and inbound messages, of outbound messages (texts, and the
      addresses of e-mails in the mail outbox). Rotation re-seals what is sealed under
      older versions (`services.keys`).
    """

    RECEIPT = "receipt"
    LOOKUP = "lookup"
    ACCOUNTS = "accounts"
    SMS = "sms"
    OUTBOX = "outbox"
    CHECKPOINT = "checkpoint"


#: The purposes `rotate-keys` gives a new version by default: the sealing keys, whose
#: rows are re-sealed. The receipt pepper only when asked (each version that holds codes
#: costs every code attempt one more Argon2id hash); the lookup key never.
SEALING_PURPOSES = (Purpose.ACCOUNTS, Purpose.SMS, Purpose.OUTBOX)

#: How format 1 derived each purpose's key from its one HMAC key (HKDF-SHA256 `info`);
#: `LOOKUP` was the HMAC key itself. The sealing modules still name their purpose by it.
_FORMAT_1_INFO = {
    Purpose.RECEIPT: b"grievance/receipt-pepper/v1",
    Purpose.ACCOUNTS: b"grievance/account-secrets/v1",
    Purpose.SMS: b"grievance/sms/v1",
    Purpose.OUTBOX: b"grievance/outbox/v1",
    Purpose.CHECKPOINT: b"grievance/checkpoint-signing/v1",
}
_PURPOSE_OF_INFO = {info: purpose for purpose, info in _FORMAT_1_INFO.items()}


def purpose_of(info: bytes) -> Purpose:
    """The purpose a sealing module names by its `info` (e.g. b"grievance/sms/v1")."""
    try:
        return _PURPOSE_OF_INFO[info]
    except KeyError:
        raise KeyringError(f"key ring: no purpose is named {info!r}") from None


def _hkdf(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=KEY_BYTES, salt=None, info=info).derive(key)


@dataclass(frozen=True)
class VersionedKey:
    """The versions of one purpose's key; `current` is the one new values use."""

    current: int
    versions: Mapping[int, bytes] = field(repr=False)

    def check(self, name: str) -> None:
        if self.current not in self.versions:
            raise KeyringError(f"key ring: current version {self.current} of {name} has no key")
        for version, key in self.versions.items():
            if len(key) != KEY_BYTES:
                raise KeyringError(f"key ring: {name} version {version} is not {KEY_BYTES} bytes")

    @classmethod
    def fresh(cls) -> VersionedKey:
        return cls(current=1, versions={1: secrets.token_bytes(KEY_BYTES)})

    def with_new_version(self) -> VersionedKey:
        version = max(self.versions) + 1
        return VersionedKey(version, {**self.versions, version: secrets.token_bytes(KEY_BYTES)})


def _fresh_purposes() -> dict[Purpose, VersionedKey]:
    return {purpose: VersionedKey.fresh() for purpose in Purpose}


@dataclass(frozen=True)
class Keyring:
    current: int
    keks: dict[int, bytes] = field(repr=False)
    purposes: Mapping[Purpose, VersionedKey] = field(default_factory=_fresh_purposes, repr=False)

    def __post_init__(self) -> None:
        if self.current not in self.keks:
            raise KeyringError(f"key ring: current version {self.current} has no key")
        for version, key in self.keks.items():
            if len(key) != KEY_BYTES:
                raise KeyringError(f"key ring: key version {version} is not {KEY_BYTES} bytes")
        missing = [purpose.value for purpose in Purpose if purpose not in self.purposes]
        if missing:
            raise KeyringError(f"key ring: no key for {', '.join(missing)}")
        for purpose, keys in self.purposes.items():
            keys.check(f"the {purpose.value} key")

    def kek(self, version: int) -> bytes:
        try:
            return self.keks[version]
        except KeyError:
            raise KeyringError(f"key ring: no key version {version}") from None

    # -- per-purpose keys --------------------------------------------------------------
    def current_version(self, purpose: Purpose) -> int:
        return self.purposes[purpose].current

    def versions(self, purpose: Purpose) -> list[int]:
        return sorted(self.purposes[purpose].versions)

    def key(self, purpose: Purpose, version: int | None = None) -> bytes:
        """A purpose's key of `version` (the current one when None)."""
        keys = self.purposes[purpose]
        chosen = keys.current if version is None else version
        try:
            return keys.versions[chosen]
        except KeyError:
            raise KeyringError(f"key ring: no {purpose.value} key version {chosen}") from None

    @classmethod
    def generate(cls) -> Keyring:
        return cls(current=1, keks={1: secrets.token_bytes(KEY_BYTES)})

    def with_new_version(self) -> Keyring:
        """The key ring with a fresh key-encryption key as the current one."""
        version = max(self.keks) + 1
        keks = {**self.keks, version: secrets.token_bytes(KEY_BYTES)}
        return replace(self, current=version, keks=keks)

    def with_new_key(self, purpose: Purpose) -> Keyring:
        """The key ring with a fresh current key for `purpose` (older versions kept)."""
        return replace(
            self, purposes={**self.purposes, purpose: self.purposes[purpose].with_new_version()}
        )

    def without_versions_below(self, version: int) -> Keyring:
        return replace(self, keks={v: k for v, k in self.keks.items() if v >= version})

    def keeping(self, purpose: Purpose, versions: Iterable[int]) -> Keyring:
        """The key ring with only `versions` (and the current one) of a purpose's key."""
        keys = self.purposes[purpose]
        kept = {*versions, keys.current}
        trimmed = VersionedKey(keys.current, {v: k for v, k in keys.versions.items() if v in kept})
        return replace(self, purposes={**self.purposes, purpose: trimmed})

    # -- serialisation ---------------------------------------------------------------
    def to_json(self) -> str:
        def versions(keys: Mapping[int, bytes]) -> dict[str, str]:
            return {str(v): base64.b64encode(k).decode() for v, k in sorted(keys.items())}

        document = {
            "format": FORMAT,
            "current": self.current,
            "kek": versions(self.keks),
            "keys": {
                purpose.value: {
                    "current": self.purposes[purpose].current,
                    "versions": versions(self.purposes[purpose].versions),
                }
                for purpose in Purpose
            },
        }
        return json.dumps(document, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = "key ring") -> Keyring:
        try:
            document: Any = json.loads(text)
        except json.JSONDecodeError as error:
            raise KeyringError(f"{source}: not valid JSON ({error.msg})") from None
        if not isinstance(document, dict) or document.get("format") not in (1, FORMAT):
            raise KeyringError(f'{source}: expected a JSON object with "format": {FORMAT}')
        try:
            keks = _versions(document["kek"])
            if document["format"] == 1:
                purposes = _format_1_purposes(base64.b64decode(document["hmac"], validate=True))
            else:
                purposes = _purposes(document["keys"])
            return cls(current=int(document["current"]), keks=keks, purposes=purposes)
        except KeyError as error:
            raise KeyringError(f"{source}: missing {error.args[0]!r}") from None
        except (ValueError, TypeError, AttributeError, binascii.Error) as error:
            raise KeyringError(f"{source}: malformed ({error})") from None

    @classmethod
    def from_file(cls, path: Path) -> Keyring:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise KeyringError(f"key ring file {path} does not exist") from None
        return cls.from_json(text, source=f"key ring file {path}")

    def write(self, path: Path, *, exclusive: bool = False) -> None:
        """Write the key ring readable by its owner only (atomically, or only if new)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        if exclusive:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(self.to_json())
            return
        # A new temporary file of our own (mkstemp: 0600, never an existing file whose
        # looser permissions an O_CREAT would keep), then renamed over the key ring.
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(self.to_json())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise


def _versions(table: Any) -> dict[int, bytes]:
    return {int(v): base64.b64decode(k, validate=True) for v, k in table.items()}


def _purposes(table: Any) -> dict[Purpose, VersionedKey]:
    unknown = sorted(set(table) - {purpose.value for purpose in Purpose})
    if unknown:
        raise ValueError(f"unknown purpose {', '.join(unknown)}")
    purposes = {
        Purpose(name): VersionedKey(int(entry["current"]), _versions(entry["versions"]))
        for name, entry in table.items()
    }
    if Purpose.CHECKPOINT not in purposes and Purpose.LOOKUP in purposes:
        # written before checkpoints were signed: derived, as format 1 derives its keys
        lookup = purposes[Purpose.LOOKUP].versions[1]
        derived = _hkdf(lookup, _FORMAT_1_INFO[Purpose.CHECKPOINT])
        purposes[Purpose.CHECKPOINT] = VersionedKey(1, {1: derived})
    return purposes


def _format_1_purposes(hmac_key: bytes) -> dict[Purpose, VersionedKey]:
    """Format 1's keys as version 1 of each purpose: the HMAC key for lookups, and for
    the rest the key format 1 derived from it."""
    if len(hmac_key) != KEY_BYTES:
        raise KeyringError(f"key ring: the hmac key is not {KEY_BYTES} bytes")
    keys = {Purpose.LOOKUP: hmac_key}
    keys.update({purpose: _hkdf(hmac_key, info) for purpose, info in _FORMAT_1_INFO.items()})
    return {purpose: VersionedKey(1, {1: key}) for purpose, key in keys.items()}


DEVELOPMENT_WARNING = """
************************************************************************
*  WARNING: generated a DEVELOPMENT key ring at {path}
*  Anyone with this file and the database can read every identity.
*  Never use it for real complaints: set GRIEVANCE_KEYRING_FILE to a key
*  ring kept outside the database and its backups.
************************************************************************
"""


def load_keyring(
    *,
    file: Path | None,
    json_text: str | None,
    generate_if_missing: bool,
    private: bool = False,
) -> Keyring:
    """The configured key ring; in development, one generated under instance/ if none.
    With `private` (production), a key ring file that its group or others may read is
    refused: whoever reads it and a copy of the database reads every identity."""
    if json_text is not None:
        return Keyring.from_json(json_text, source="GRIEVANCE_KEYRING")
    if file is None:
        raise KeyringError("no key ring configured: set GRIEVANCE_KEYRING_FILE")
    if not file.exists() and generate_if_missing:
        try:
            Keyring.generate().write(file, exclusive=True)
        except FileExistsError:
            pass  # another process of the same checkout made it first
        else:
            log.warning(DEVELOPMENT_WARNING.format(path=file))
    if private and file.exists() and stat.S_IMODE(file.stat().st_mode) & 0o077:
        raise KeyringError(
            f"the key ring file {file} may be read by others than its owner "
            f"(mode {stat.S_IMODE(file.stat().st_mode):o}): chmod 600 it"
        )
    return Keyring.from_file(file)
