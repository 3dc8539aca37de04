"""The pure rules of staff accounts: passwords (ASVS 2.1), recovery and temporary codes,
lock durations."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from grievance.services.accounts import (
    PASSWORD_MAX,
    RECOVERY_ALPHABET,
    PasswordProblem,
    lock_duration,
    new_recovery_code,
    new_temporary_password,
    normalise_email,
    normalise_recovery_code,
    password_problem,
)

EMAIL = "Anouk.Verbeek@example.org"


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery stapler",
        "zeven kikkers op een rij",
        "ünïcödé wörds ok",
        "🔥🔥 granite quarry 🔥",
        "abcabcabcabc",  # 12 characters, though weak, is long enough and not listed
        ("granite quarry " * 9)[: PASSWORD_MAX - 1] + "q",
    ],
)
def test_good_passwords_pass(password):
    assert password_problem(password, EMAIL) is None


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short words", PasswordProblem.TOO_SHORT),
        ("eleven char", PasswordProblem.TOO_SHORT),
        ("a      b     c     d", PasswordProblem.TOO_SHORT),  # spaces count once
        ("p" * PASSWORD_MAX + "q", PasswordProblem.TOO_LONG),
        ("anouk.verbeek@example.org", PasswordProblem.IS_EMAIL),
        ("ANOUK.VERBEEK@EXAMPLE.ORG!!", PasswordProblem.IS_EMAIL),
        ("anouk.verbeek", PasswordProblem.IS_EMAIL),
        ("password1234", PasswordProblem.TOO_COMMON),
        ("correct horse battery staple", PasswordProblem.TOO_COMMON),
        ("Password 1234", PasswordProblem.TOO_COMMON),
        ("qwerty123456", PasswordProblem.TOO_COMMON),
        ("demo-password", PasswordProblem.TOO_COMMON),
        ("aaaaaaaaaaaaaaaa", PasswordProblem.TOO_COMMON),
        ("abababababababab", PasswordProblem.TOO_COMMON),
    ],
)
def test_bad_passwords_are_refused_with_their_reason(password, problem):
    assert password_problem(password, EMAIL) is problem


def test_the_new_password_must_differ_from_the_current_one():
    current = "the old granite quarry"
    assert password_problem(current, EMAIL, current) is PasswordProblem.UNCHANGED
    assert password_problem("a new granite quarry", EMAIL, current) is None


def test_passwords_are_compared_after_nfkc():
    composed = "caf\u00e9 au lait, twice"
    decomposed = "cafe\u0301 au lait, twice"
    assert password_problem(decomposed, EMAIL, composed) is PasswordProblem.UNCHANGED


def test_email_addresses_are_normalised():
    assert normalise_email("  Anouk.Verbeek@Example.ORG ") == "anouk.verbeek@example.org"


def test_recovery_codes_are_80_random_bits_read_leniently():
    codes = {new_recovery_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert re.fullmatch(rf"[{RECOVERY_ALPHABET}]{{4}}(-[{RECOVERY_ALPHABET}]{{4}}){{3}}", code)
        assert normalise_recovery_code(code) == code.replace("-", "")
    assert normalise_recovery_code("abcd efgh jkmn pqrs") == "ABCDEFGHJKMNPQRS"
    assert normalise_recovery_code("oooo-iiii-llll-0000") == "0000111111110000"
    assert normalise_recovery_code("ABCD-EFGH-JKMN-PQR") is None
    assert normalise_recovery_code("ABCD-EFGH-JKMN-PQRU") is None  # U is not in the alphabet
    assert normalise_recovery_code("123456") is None


def test_temporary_passwords_are_long_and_random():
    passwords = {new_temporary_password() for _ in range(200)}
    assert len(passwords) == 200
    for password in passwords:
        assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){4}", password)


def test_locks_double_from_fifteen_minutes_up_to_a_day():
    assert lock_duration(5) == timedelta(minutes=15)
    assert lock_duration(10) == timedelta(minutes=30)
    assert lock_duration(15) == timedelta(hours=1)
    assert lock_duration(20) == timedelta(hours=2)
    assert lock_duration(35) == timedelta(hours=16)
    assert lock_duration(40) == timedelta(hours=24)
    assert lock_duration(5000) == timedelta(hours=24)
