"""Receipt codes and staff passwords, with Argon2id."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.low_level import hash_secret_raw

from grievance.config import KdfParameters

RECEIPT_DIGITS = 16


def new_receipt_code() -> str:
    """16 random digits: typed on a numeric keypad, read out over a phone."""
    return "".join(secrets.choice("0123456789") for _ in range(RECEIPT_DIGITS))


def normalise_receipt_code(text: str) -> str | None:
    """The digits of a code as a person typed it (spaces, dashes, any script's digits)."""
    digits = "".join(str(int(char)) for char in text if char.isdecimal())
    if len(digits) != RECEIPT_DIGITS or re.fullmatch(r"[0-9]+", digits) is None:
        return None
    return digits


def format_receipt_code(code: str) -> str:
    """Groups of four, easier to write down and read out."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


#: The domain of the pepper's HMAC: a receipt-code key only ever hashes receipt codes.
_PEPPER_DOMAIN = b"grievance/receipt-code/v1\x00"


def pepper_receipt_code(code: str, pepper: bytes) -> bytes:
    """HMAC-SHA256 of a code under the key ring's receipt-code key: what Argon2id hashes,
    so that the database alone cannot confirm a guess."""
    return hmac.new(pepper, _PEPPER_DOMAIN + code.encode("ascii"), hashlib.sha256).digest()


def receipt_lookup(code: str, pepper: bytes, salt: bytes, kdf: KdfParameters) -> str:
    """The lookup key of a code under one receipt scheme: Argon2id (the scheme's salt and
    cost) of the code's HMAC under the scheme's pepper.

    The code itself is never stored. Without the key ring a stolen database confirms
    nothing; with it, each guess still costs one Argon2id hash (16 digits: about 2^53).
    """
    digest = hash_secret_raw(
        secret=pepper_receipt_code(code, pepper),
        salt=salt,
        time_cost=kdf.time_cost,
        memory_cost=kdf.memory_cost_kib,
        parallelism=kdf.parallelism,
        hash_len=32,
        type=Type.ID,
    )
    return digest.hex()


def password_hasher(kdf: KdfParameters) -> PasswordHasher:
    return PasswordHasher(
        time_cost=kdf.time_cost,
        memory_cost=kdf.memory_cost_kib,
        parallelism=kdf.parallelism,
        type=Type.ID,
    )


def hash_password(password: str, kdf: KdfParameters) -> str:
    return password_hasher(kdf).hash(password)


def verify_password(password_hash: str, password: str, kdf: KdfParameters) -> bool:
    try:
        return password_hasher(kdf).verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
