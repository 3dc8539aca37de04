"""TOTP (RFC 6238: SHA-1, six digits, 30 seconds) with `cryptography`, the step window
(one step either side) and codes used once; the sealed seed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from grievance.crypto.accounts import open_account_secret, seal_account_secret
from grievance.crypto.keyring import Keyring
from grievance.crypto.vault import TamperedCiphertext
from grievance.services.accounts import normalise_totp_code, totp_code, totp_step
from grievance.services.accounts.second_factor import _matching_step

#: RFC 6238, appendix B: the SHA-1 seed and its 8-digit codes; ours are the last six.
RFC_SEED = b"12345678901234567890"
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize(("seconds", "eight_digits"), RFC_VECTORS)
def test_codes_are_those_of_rfc_6238(seconds, eight_digits):
    step = totp_step(datetime.fromtimestamp(seconds, UTC))
    assert totp_code(RFC_SEED, step) == eight_digits[-6:]


def test_a_step_is_thirty_seconds():
    assert totp_step(datetime.fromtimestamp(0, UTC)) == 0
    assert totp_step(datetime.fromtimestamp(29, UTC)) == 0
    assert totp_step(datetime.fromtimestamp(30, UTC)) == 1


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_the_code_of_one_step_either_side_is_accepted(offset):
    now = 1_000_000
    assert _matching_step(RFC_SEED, totp_code(RFC_SEED, now + offset), now, None) == now + offset


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_the_code_of_two_steps_away_is_refused(offset):
    now = 1_000_000
    assert _matching_step(RFC_SEED, totp_code(RFC_SEED, now + offset), now, None) is None


def test_a_step_at_or_before_the_last_one_used_is_refused():
    now = 1_000_000
    code = totp_code(RFC_SEED, now)
    assert _matching_step(RFC_SEED, code, now, last_step=now - 1) == now
    assert _matching_step(RFC_SEED, code, now, last_step=now) is None
    assert _matching_step(RFC_SEED, code, now, last_step=now + 1) is None
    # an earlier code is refused once a later one was used
    earlier = totp_code(RFC_SEED, now - 1)
    assert _matching_step(RFC_SEED, earlier, now, last_step=now) is None


def test_another_seed_gives_other_codes():
    now = 1_000_000
    other = b"09876543210987654321"
    assert _matching_step(other, totp_code(RFC_SEED, now), now, None) is None


@pytest.mark.parametrize(
    ("typed", "digits"),
    [
        ("123456", "123456"),
        (" 123 456 ", "123456"),
        ("১২৩৪৫৬", "123456"),  # Bengali digits
        ("12345", None),
        ("1234567", None),
        ("12345a", None),
        ("ABCD-EFGH-JKMN-PQRS", None),
        ("", None),
    ],
)
def test_a_typed_code_is_read_leniently(typed, digits):
    assert normalise_totp_code(typed) == digits


def test_the_seed_is_sealed_for_one_user_and_field():
    keyring = Keyring.generate()
    sealed = seal_account_secret(keyring, 7, "totp_secret", RFC_SEED)
    assert RFC_SEED not in sealed
    assert open_account_secret(keyring, 7, "totp_secret", sealed) == RFC_SEED
    assert seal_account_secret(keyring, 7, "totp_secret", RFC_SEED) != sealed  # fresh nonce
    with pytest.raises(TamperedCiphertext):
        open_account_secret(keyring, 8, "totp_secret", sealed)  # copied to another user
    with pytest.raises(TamperedCiphertext):
        open_account_secret(keyring, 7, "totp_secret_pending", sealed)  # another field
    with pytest.raises(TamperedCiphertext):
        open_account_secret(Keyring.generate(), 7, "totp_secret", sealed)
    flipped = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(TamperedCiphertext):
        open_account_secret(keyring, 7, "totp_secret", flipped)


def test_the_seed_survives_key_rotation():
    """Sealed under a key derived from the HMAC key, which rotation keeps: retiring old
    key-encryption keys never locks anyone out."""
    keyring = Keyring.generate()
    sealed = seal_account_secret(keyring, 7, "totp_secret", RFC_SEED)
    rotated = keyring.with_new_version().with_new_version()
    retired = rotated.without_versions_below(rotated.current)
    assert open_account_secret(retired, 7, "totp_secret", sealed) == RFC_SEED
