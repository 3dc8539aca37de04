"""Receipt codes (typed on a keypad, read out over a phone) and staff passwords."""

from __future__ import annotations

import re

import pytest
from argon2 import Type
from argon2.low_level import hash_secret_raw
from hypothesis import given
from hypothesis import strategies as st

from grievance.config import TEST_KDF, KdfParameters
from grievance.crypto.secrets import (
    RECEIPT_DIGITS,
    format_receipt_code,
    hash_password,
    new_receipt_code,
    normalise_receipt_code,
    pepper_receipt_code,
    receipt_lookup,
    verify_password,
)

SALT = b"salt-TEX-0123456789"
PEPPER = b"p" * 32
CODE = "1234567890123456"

#: The zero of decimal digit sets a complainant's phone or keyboard may produce.
ZEROS = {
    "ascii": 0x30,
    "arabic-indic": 0x660,
    "extended-arabic-indic": 0x6F0,  # Urdu, Persian
    "devanagari": 0x966,
    "bengali": 0x9E6,
    "tamil": 0xBE6,
    "myanmar": 0x1040,
    "khmer": 0x17E0,
    "fullwidth": 0xFF10,
}


def in_script(code: str, zero: int) -> str:
    return "".join(chr(zero + int(digit)) for digit in code)


codes = st.text(alphabet="0123456789", min_size=RECEIPT_DIGITS, max_size=RECEIPT_DIGITS)


# -- new codes ----------------------------------------------------------------------------


def test_new_codes_are_16_random_ascii_digits():
    drawn = [new_receipt_code() for _ in range(200)]
    for code in drawn:
        assert re.fullmatch(r"[0-9]{16}", code), code
    assert len(set(drawn)) == len(drawn)
    assert RECEIPT_DIGITS >= 16


def test_format_groups_by_four():
    assert format_receipt_code(CODE) == "1234 5678 9012 3456"


# -- normalising what a person typed -----------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "1234567890123456",
        "1234 5678 9012 3456",
        "1234-5678-9012-3456",
        " 1234.5678/9012 3456\n",
        "\t1234\u00a05678\u20119012\u20143456",
    ],
)
def test_spaces_dashes_and_punctuation_are_ignored(typed):
    assert normalise_receipt_code(typed) == CODE


@pytest.mark.parametrize("zero", ZEROS.values(), ids=ZEROS.keys())
def test_digits_of_any_script_are_accepted(zero):
    typed = in_script(CODE, zero)
    assert all(char.isdecimal() for char in typed)
    assert normalise_receipt_code(typed) == CODE
    assert normalise_receipt_code(format_receipt_code(typed)) == CODE


def test_mixed_scripts_are_accepted():
    typed = in_script(CODE[:8], ZEROS["bengali"]) + " " + in_script(CODE[8:], ZEROS["ascii"])
    assert normalise_receipt_code(typed) == CODE


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "123456789012345",  # 15
        "12345678901234567",  # 17
        "1234 5678 9012 345x",
        "1234 5678 9012 3456 7",
        "²³¹⁴ 5678 9012 3456",  # superscripts are digits, not decimal digits
        "abcd efgh ijkl mnop",
    ],
    ids=["empty", "blank", "15", "17", "letter", "extra-group", "superscript", "letters"],
)
def test_wrong_lengths_are_refused(typed):
    assert normalise_receipt_code(typed) is None


@given(codes, st.sampled_from(sorted(ZEROS.values())), st.sampled_from(["", " ", "-", "  "]))
def test_any_code_survives_typing_in_any_script(code, zero, separator):
    typed = separator.join(
        in_script(code[index : index + 4], zero) for index in range(0, len(code), 4)
    )
    assert normalise_receipt_code(typed) == code


@given(st.text())
def test_normalising_any_text_gives_a_code_or_nothing(text):
    result = normalise_receipt_code(text)
    assert result is None or re.fullmatch(r"[0-9]{16}", result)
    if result is not None:
        assert sum(char.isdecimal() for char in text) == RECEIPT_DIGITS


# -- lookups and passwords (cheap KDF) -----------------------------------------------------------


def test_receipt_lookup_is_deterministic_and_depends_on_code_salt_and_pepper():
    lookup = receipt_lookup(CODE, PEPPER, SALT, TEST_KDF)
    assert re.fullmatch(r"[0-9a-f]{64}", lookup)
    assert receipt_lookup(CODE, PEPPER, SALT, TEST_KDF) == lookup
    assert receipt_lookup(CODE, PEPPER, b"salt-NST-0123456789", TEST_KDF) != lookup
    assert receipt_lookup("1234567890123457", PEPPER, SALT, TEST_KDF) != lookup
    assert receipt_lookup(CODE, b"q" * 32, SALT, TEST_KDF) != lookup
    assert CODE not in lookup


def test_the_lookup_is_not_the_plain_argon2id_of_the_code():
    """Argon2id hashes the code's HMAC under the pepper, not the code: the salt and the
    cost in the database are not enough to confirm a guess."""
    plain = hash_secret_raw(
        secret=CODE.encode(),
        salt=SALT,
        time_cost=TEST_KDF.time_cost,
        memory_cost=TEST_KDF.memory_cost_kib,
        parallelism=TEST_KDF.parallelism,
        hash_len=32,
        type=Type.ID,
    )
    assert receipt_lookup(CODE, PEPPER, SALT, TEST_KDF) != plain.hex()
    peppered = hash_secret_raw(
        secret=pepper_receipt_code(CODE, PEPPER),
        salt=SALT,
        time_cost=TEST_KDF.time_cost,
        memory_cost=TEST_KDF.memory_cost_kib,
        parallelism=TEST_KDF.parallelism,
        hash_len=32,
        type=Type.ID,
    )
    assert receipt_lookup(CODE, PEPPER, SALT, TEST_KDF) == peppered.hex()


def test_receipt_lookup_depends_on_the_cost():
    cheap = receipt_lookup(CODE, PEPPER, SALT, TEST_KDF)
    dearer = KdfParameters(time_cost=2, memory_cost_kib=8, parallelism=1)
    assert receipt_lookup(CODE, PEPPER, SALT, dearer) != cheap


def test_password_hash_verifies_only_the_password():
    hashed = hash_password("correct horse battery staple", TEST_KDF)
    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert verify_password(hashed, "correct horse battery staple", TEST_KDF)
    assert not verify_password(hashed, "correct horse battery stapler", TEST_KDF)
    assert not verify_password("not a hash", "correct horse battery staple", TEST_KDF)
    assert hash_password("correct horse battery staple", TEST_KDF) != hashed  # salted


@pytest.mark.slow
def test_production_kdf_parameters():
    """The real Argon2id cost (the rest of the suite uses TEST_KDF)."""
    real = KdfParameters()
    assert real.memory_cost_kib >= 65536
    assert real.time_cost >= 3
    lookup = receipt_lookup(CODE, PEPPER, SALT, real)
    assert re.fullmatch(r"[0-9a-f]{64}", lookup)
    assert lookup == receipt_lookup(CODE, PEPPER, SALT, real)
    assert lookup != receipt_lookup(CODE, PEPPER, SALT, TEST_KDF)

    hashed = hash_password("correct horse battery staple", real)
    assert f"m={real.memory_cost_kib},t={real.time_cost},p={real.parallelism}" in hashed
    assert verify_password(hashed, "correct horse battery staple", real)
    assert not verify_password(hashed, "wrong", real)
