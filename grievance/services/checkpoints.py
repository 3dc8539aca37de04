"""Signed checkpoints of the transparency log: C2SP tlog-checkpoint bodies in C2SP signed
notes, signed with Ed25519 (docs/transparency.md gives every byte).

A checkpoint body is three lines: the log's origin, the tree size in decimal, the root
hash in standard base64; each line ends with a newline. The signed note is the body, an
empty line, and one signature line: an em dash (U+2014), a space, the key name (the
origin), a space, and base64 of the 4-byte key hash followed by the 64-byte Ed25519
signature of the body. The key hash is the first 4 bytes of SHA-256(key name || 0x0A ||
0x01 || public key); the verifier key is `name+hex(key hash)+base64(0x01 || public key)`.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from grievance.crypto.keyring import Keyring, Purpose

#: The signed-note signature type of Ed25519.
ED25519 = b"\x01"
DASH = "\u2014"


class NoteError(ValueError):
    """A note that is malformed or whose signature does not verify."""


def signing_key(keyring: Keyring, version: int | None = None) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(keyring.key(Purpose.CHECKPOINT, version))


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_hash(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + ED25519 + public).digest()[:4]


def verifier_key(name: str, public: bytes) -> str:
    encoded = base64.b64encode(ED25519 + public).decode("ascii")
    return f"{name}+{key_hash(name, public).hex()}+{encoded}"


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    return f"{origin}\n{size}\n{base64.b64encode(root).decode('ascii')}\n"


def sign_note(body: str, name: str, key: Ed25519PrivateKey) -> str:
    if not body.endswith("\n") or "\n\n" in body:
        raise NoteError("a note's text ends with one newline and has no empty line")
    signature = key.sign(body.encode("utf-8"))
    public = public_bytes(key.public_key())
    encoded = base64.b64encode(key_hash(name, public) + signature).decode("ascii")
    return f"{body}\n{DASH} {name} {encoded}\n"


@dataclass(frozen=True)
class Opened:
    origin: str
    size: int
    root: bytes


def open_checkpoint(note: str, vkey: str) -> Opened:
    """Verify a signed checkpoint against a verifier key; its origin, size and root."""
    name, hash_hex, encoded = vkey.split("+", 2)
    raw = base64.b64decode(encoded, validate=True)
    if raw[:1] != ED25519 or len(raw) != 33:
        raise NoteError("not an Ed25519 verifier key")
    public = raw[1:]
    if key_hash(name, public).hex() != hash_hex:
        raise NoteError("the verifier key's hash does not match")
    body, separator, signatures = note.partition("\n\n")
    if not separator:
        raise NoteError("no signature block")
    body += "\n"
    for line in signatures.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH or parts[1] != name:
            continue
        blob = base64.b64decode(parts[2], validate=True)
        if blob[:4] != key_hash(name, public):
            continue
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(blob[4:], body.encode("utf-8"))
        except InvalidSignature:
            raise NoteError("the signature does not verify") from None
        lines = body.split("\n")
        return Opened(lines[0], int(lines[1]), base64.b64decode(lines[2], validate=True))
    raise NoteError("no signature by this key")
