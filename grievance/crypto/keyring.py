"""The versioned key ring, held outside the database (DESIGN §5).

A key ring is a small JSON document:

    {"format": 1, "current": 2,
     "kek": {"1": "<base64 of 32 bytes>", "2": "..."},
     "hmac": "<base64 of 32 bytes>"}

`kek` are the key-encryption keys that wrap each case's data key; `current` is the one
new data keys are wrapped with (older versions stay until `rotate-keys` has re-wrapped
every data key). `hmac` keys the lookups of phone numbers. Keep it in a file readable
only by the service account (GRIEVANCE_KEYRING_FILE) or in GRIEVANCE_KEYRING.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

KEY_BYTES = 32


class KeyringError(RuntimeError):
    """The key ring is missing or malformed; the message says what to fix."""


@dataclass(frozen=True)
class Keyring:
    current: int
    keks: dict[int, bytes]
    hmac_key: bytes

    def __post_init__(self) -> None:
        if self.current not in self.keks:
            raise KeyringError(f"key ring: current version {self.current} has no key")
        for version, key in self.keks.items():
            if len(key) != KEY_BYTES:
                raise KeyringError(f"key ring: key version {version} is not {KEY_BYTES} bytes")
        if len(self.hmac_key) != KEY_BYTES:
            raise KeyringError(f"key ring: the hmac key is not {KEY_BYTES} bytes")

    def kek(self, version: int) -> bytes:
        try:
            return self.keks[version]
        except KeyError:
            raise KeyringError(f"key ring: no key version {version}") from None

    @classmethod
    def generate(cls) -> Keyring:
        return cls(
            current=1,
            keks={1: secrets.token_bytes(KEY_BYTES)},
            hmac_key=secrets.token_bytes(KEY_BYTES),
        )

    def with_new_version(self) -> Keyring:
        """The key ring with a fresh key-encryption key as the current one."""
        version = max(self.keks) + 1
        return Keyring(
            current=version,
            keks={**self.keks, version: secrets.token_bytes(KEY_BYTES)},
            hmac_key=self.hmac_key,
        )

    def without_versions_below(self, version: int) -> Keyring:
        return Keyring(
            current=self.current,
            keks={v: k for v, k in self.keks.items() if v >= version},
            hmac_key=self.hmac_key,
        )

    # -- serialisation ---------------------------------------------------------------
    def to_json(self) -> str:
        document = {
            "format": 1,
            "current": self.current,
            "kek": {str(v): base64.b64encode(k).decode() for v, k in sorted(self.keks.items())},
            "hmac": base64.b64encode(self.hmac_key).decode(),
        }
        return json.dumps(document, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = "key ring") -> Keyring:
        try:
            document: Any = json.loads(text)
        except json.JSONDecodeError as error:
            raise KeyringError(f"{source}: not valid JSON ({error.msg})") from None
        if not isinstance(document, dict) or document.get("format") != 1:
            raise KeyringError(f'{source}: expected a JSON object with "format": 1')
        try:
            keks = {int(v): base64.b64decode(k, validate=True) for v, k in document["kek"].items()}
            return cls(
                current=int(document["current"]),
                keks=keks,
                hmac_key=base64.b64decode(document["hmac"], validate=True),
            )
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
        temporary = path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(self.to_json())
        os.replace(temporary, path)


DEVELOPMENT_WARNING = """
************************************************************************
*  WARNING: generated a DEVELOPMENT key ring at {path}
*  Anyone with this file and the database can read every identity.
*  Never use it for real complaints: set GRIEVANCE_KEYRING_FILE to a key
*  ring kept outside the database and its backups.
************************************************************************
"""


def load_keyring(*, file: Path | None, json_text: str | None, generate_if_missing: bool) -> Keyring:
    """The configured key ring; in development, one generated under instance/ if none."""
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
    return Keyring.from_file(file)
