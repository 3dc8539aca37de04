"""Passwords: normalising addresses and passwords, the rules of a new password (ASVS 2.1),
temporary passwords, and the user's own change of password.

Nothing here writes an e-mail address or a password to a log.
"""

from __future__ import annotations

import enum
import logging
import re
import secrets
import unicodedata

from grievance.crypto.secrets import hash_password, verify_password
from grievance.models import User
from grievance.services import notifications
from grievance.services.context import Context, atomic
from grievance.services.errors import ServiceError

audit = logging.getLogger("grievance.audit")

# -- rules ----------------------------------------------------------------------------------

#: ASVS 2.1.1 and 2.1.2: at least 12 characters, up to 128 (spaces counted once).
PASSWORD_MIN = 12
PASSWORD_MAX = 128

TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
TEMPORARY_GROUPS = 5  # 5 groups of 4: about 99 bits

#: Among the most common passwords of 12 characters or more (breach corpora), and the
#: names of this system; compared without case, spaces, dashes and dots.
COMMON_PASSWORDS = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678901234",
        "123456789123",
        "1234567891011",
        "123123123123",
        "111111111111",
        "000000000000",
        "121212121212",
        "qwertyuiopas",
        "qwertyuiopasdfghjkl",
        "qwertyuiop123",
        "qwerty123456",
        "qwertyqwerty",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "zaq12wsxcde3",
        "asdfghjkl123",
        "abcdefghijkl",
        "abc123abc123",
        "abcd12345678",
        "password1234",
        "password12345",
        "password123456",
        "passwordpassword",
        "passw0rd1234",
        "p4ssw0rd1234",
        "mypassword123",
        "iloveyou1234",
        "iloveyouiloveyou",
        "letmein12345",
        "welcome12345",
        "welcome123456",
        "administrator",
        "administrator1",
        "administrator123",
        "adminadmin123",
        "changeme1234",
        "football1234",
        "baseball1234",
        "princess1234",
        "sunshine1234",
        "superman1234",
        "monkey123456",
        "dragon123456",
        "trustno1trustno1",
        "correcthorsebatterystaple",
        "demopassword",
        "grievancemechanism",
        "complaintsmechanism",
    }
)


# -- errors ---------------------------------------------------------------------------------


class PasswordProblem(enum.StrEnum):
    WRONG_CURRENT = "wrong_current"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    IS_EMAIL = "is_email"
    TOO_COMMON = "too_common"
    UNCHANGED = "unchanged"


class PasswordRejected(ServiceError):
    """A new password breaks a rule, or the current one was wrong; `problem` says which."""

    def __init__(self, problem: PasswordProblem) -> None:
        self.problem = problem
        super().__init__(f"password rejected: {problem.value}")


# -- normalisation and pure rules -----------------------------------------------------------

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(email: str) -> str:
    return unicodedata.normalize("NFC", email.strip()).lower()


def normalise_password(password: str) -> str:
    """NFKC, so that the same password typed on another keyboard or system still matches
    (NIST SP 800-63B 5.1.1.2); nothing else is changed, spaces and emoji included."""
    return unicodedata.normalize("NFKC", password)


def _password_length(password: str) -> int:
    return len(re.sub(r"\s+", " ", password))


def password_problem(
    password: str, email: str, current: str | None = None
) -> PasswordProblem | None:
    """What is wrong with a new password, or None. No composition rules (ASVS 2.1.9)."""
    password = normalise_password(password)
    if len(password) > PASSWORD_MAX:
        return PasswordProblem.TOO_LONG
    if _password_length(password) < PASSWORD_MIN:
        return PasswordProblem.TOO_SHORT
    folded = password.casefold()
    address = normalise_email(email).casefold()
    local = address.split("@", 1)[0]
    if address in folded or folded == local:
        return PasswordProblem.IS_EMAIL
    squeezed = re.sub(r"[\s.\-_]+", "", folded)
    if squeezed in COMMON_PASSWORDS or len(set(squeezed)) <= 2:
        return PasswordProblem.TOO_COMMON
    if current is not None and normalise_password(current) == password:
        return PasswordProblem.UNCHANGED
    return None


def new_temporary_password() -> str:
    return "-".join(
        "".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(4))
        for _ in range(TEMPORARY_GROUPS)
    )


# -- changing one's password ----------------------------------------------------------------


@atomic
def change_password(ctx: Context, user: User, current: str, new: str) -> None:
    """The user's own change: the current password is required (ASVS 2.1.5). Every other
    session of the user ends; the caller starts the current one again."""
    if not verify_password(user.password_hash, normalise_password(current), ctx.kdf):
        audit.info("password change refused: user %d gave a wrong current password", user.id)
        raise PasswordRejected(PasswordProblem.WRONG_CURRENT)
    problem = password_problem(new, user.email, current)
    if problem is not None:
        raise PasswordRejected(problem)
    now = ctx.now()
    user.password_hash = hash_password(normalise_password(new), ctx.kdf)
    user.password_changed_at = now
    user.must_change_password = False
    user.sessions_valid_after = now
    audit.info("user %d changed their password", user.id)
    notifications.tell_user(ctx, user, notifications.PASSWORD_CHANGED)
