"""The second factor: TOTP codes (RFC 6238), enrolment with a seed sealed for its user,
recovery codes, and checking either at sign-in.

Nothing here writes a code or a seed to a log: the audit lines name users by id only.
"""

from __future__ import annotations

import base64
import enum
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP
from sqlalchemy import delete, select

from grievance.crypto.accounts import open_account_secret, seal_account_secret
from grievance.crypto.secrets import hash_password, verify_password
from grievance.crypto.vault import TamperedCiphertext
from grievance.models import RecoveryCode, Role, User
from grievance.services import notifications
from grievance.services.accounts.throttle import (
    _clients,
    _count_failure,
    account_key,
    locked_until,
)
from grievance.services.context import Context, atomic
from grievance.services.errors import NotAllowed

audit = logging.getLogger("grievance.audit")

#: Roles that must sign in with a second factor (company staff may enrol one).
SECOND_FACTOR_ROLES = frozenset({Role.REVIEWER, Role.SECRETARIAT, Role.ADMIN})

TOTP_DIGITS = 6
TOTP_STEP_SECONDS = 30
#: Codes of the previous and the next time step are accepted too (clock drift).
TOTP_SKEW_STEPS = 1
TOTP_SECRET_BYTES = 20  # 160 bits, RFC 4226's recommendation
TOTP_ISSUER = "Grievance mechanism"
TOTP_FIELD = "totp_secret"
#: A seed shown for enrolment but not yet confirmed with a code (kept by the caller).
PENDING_TOTP_FIELD = "totp_secret_pending"

RECOVERY_CODE_COUNT = 10
#: Crockford's base32: no I, L, O, U; what a person types is read leniently.
RECOVERY_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECOVERY_CODE_CHARS = 16  # 80 bits, salted Argon2id hashes (ASVS 2.6.2)


# -- codes ----------------------------------------------------------------------------------


class SecondFactor(enum.StrEnum):
    TOTP = "totp"
    RECOVERY_CODE = "recovery_code"


def needs_second_factor(user: User) -> bool:
    return user.role in SECOND_FACTOR_ROLES


def has_second_factor(user: User) -> bool:
    return user.totp_secret_enc is not None


def new_recovery_code() -> str:
    code = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_CHARS))
    return "-".join(code[i : i + 4] for i in range(0, RECOVERY_CODE_CHARS, 4))


def normalise_recovery_code(text: str) -> str | None:
    """The 16 characters of a recovery code as typed (any case, spaces or dashes, O for
    0 and I or L for 1), or None if it cannot be one."""
    cleaned = re.sub(r"[\s\-]+", "", text).upper().translate(str.maketrans("OIL", "011"))
    if len(cleaned) != RECOVERY_CODE_CHARS or any(c not in RECOVERY_ALPHABET for c in cleaned):
        return None
    return cleaned


def normalise_totp_code(text: str) -> str | None:
    """The six digits of a TOTP code as typed (spaces allowed, any script's digits)."""
    typed = re.sub(r"\s+", "", text)
    if len(typed) != TOTP_DIGITS or not typed.isdecimal():
        return None
    return "".join(str(int(char)) for char in typed)


def totp_step(moment: datetime) -> int:
    return int(moment.timestamp()) // TOTP_STEP_SECONDS


def totp_code(secret: bytes, step: int) -> str:
    """The code of one time step (RFC 6238: SHA-1, six digits, 30 seconds)."""
    return _totp(secret).generate(step * TOTP_STEP_SECONDS).decode("ascii")


def _totp(secret: bytes) -> TOTP:
    return TOTP(secret, TOTP_DIGITS, SHA1(), TOTP_STEP_SECONDS)  # noqa: S303 - RFC 6238


# -- signing in -----------------------------------------------------------------------------


def verify_second_factor(
    ctx: Context, user: User, code: str, client_key: str
) -> SecondFactor | None:
    """Which second factor `code` is (a TOTP code or an unused recovery code), or None,
    counting a failure on the same pair as passwords. The caller commits either way."""
    key = account_key(ctx, user.email)
    if locked_until(ctx, key, client_key) is not None:
        audit.info("second factor refused: user %d is locked for %s", user.id, _clients(client_key))
        return None
    digits = normalise_totp_code(code)
    if digits is not None and verify_totp(ctx, user, digits):
        return SecondFactor.TOTP
    if digits is None and use_recovery_code(ctx, user, code):
        return SecondFactor.RECOVERY_CODE
    audit.info("second factor failed: user %d from %s", user.id, _clients(client_key))
    _count_failure(ctx, key, client_key, f"user {user.id}")
    return None


# -- enrolment and recovery codes -----------------------------------------------------------


@dataclass(frozen=True)
class TotpEnrolment:
    """A seed to show for enrolment: the caller keeps `sealed` until a code confirms it."""

    sealed: bytes
    secret_base32: str
    provisioning_uri: str


def _base32(secret: bytes) -> str:
    return base64.b32encode(secret).decode("ascii").rstrip("=")


def begin_totp_enrolment(ctx: Context, user: User, sealed: bytes | None = None) -> TotpEnrolment:
    """A new seed, generated here, sealed for this user only; or the pending one again
    (`sealed`), so that reloading the page does not change what the app was given."""
    secret = None
    if sealed is not None:
        try:
            secret = open_account_secret(ctx.keyring, user.id, PENDING_TOTP_FIELD, sealed)
        except TamperedCiphertext:  # not this user's, or tampered with: start again
            secret = None
    if secret is None:
        secret = secrets.token_bytes(TOTP_SECRET_BYTES)
        sealed = seal_account_secret(ctx.keyring, user.id, PENDING_TOTP_FIELD, secret)
    assert sealed is not None
    uri = _totp(secret).get_provisioning_uri(user.email, TOTP_ISSUER)
    return TotpEnrolment(sealed=sealed, secret_base32=_base32(secret), provisioning_uri=uri)


@atomic
def confirm_totp_enrolment(ctx: Context, user: User, sealed: bytes, code: str) -> list[str] | None:
    """Enrol the pending seed if `code` is one of its codes: returns the new recovery codes
    (shown once), or None if the code is wrong (nothing changes)."""
    user = _lock_user(ctx, user)
    if has_second_factor(user):
        raise NotAllowed("the user has a second factor already")
    try:
        secret = open_account_secret(ctx.keyring, user.id, PENDING_TOTP_FIELD, sealed)
    except TamperedCiphertext:  # tampered with, or another user's
        return None
    digits = normalise_totp_code(code)
    step = _matching_step(secret, digits, totp_step(ctx.now()), None) if digits else None
    if step is None:
        return None
    enrol_totp_secret(ctx, user, secret, last_step=step)
    notifications.tell_user(ctx, user, notifications.SECOND_FACTOR_ADDED)
    return _issue_recovery_codes(ctx, user)


def enrol_totp_secret(ctx: Context, user: User, secret: bytes, last_step: int | None) -> None:
    """Store a seed, sealed with the key ring (the demo loader enrols its accounts here)."""
    user.totp_secret_enc = seal_account_secret(ctx.keyring, user.id, TOTP_FIELD, secret)
    user.totp_last_step = last_step
    audit.info("user %d enrolled a second factor", user.id)


def totp_secret(ctx: Context, user: User) -> bytes | None:
    if user.totp_secret_enc is None:
        return None
    return open_account_secret(ctx.keyring, user.id, TOTP_FIELD, user.totp_secret_enc)


def _matching_step(secret: bytes, digits: str, now_step: int, last_step: int | None) -> int | None:
    """The time step (now, or one either side) whose code `digits` is, never one at or
    before `last_step`: a code signs in once. Every candidate is compared in constant time."""
    found = None
    for step in range(now_step - TOTP_SKEW_STEPS, now_step + TOTP_SKEW_STEPS + 1):
        same = hmac.compare_digest(totp_code(secret, step), digits)
        if same and (last_step is None or step > last_step) and found is None:
            found = step
    return found


def verify_totp(ctx: Context, user: User, digits: str) -> bool:
    user = _lock_user(ctx, user)
    secret = totp_secret(ctx, user)
    if secret is None:
        return False
    step = _matching_step(secret, digits, totp_step(ctx.now()), user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    ctx.session.flush()
    return True


def totp_code_reused(ctx: Context, user: User, code: str) -> bool:
    """Whether `code` is the user's code of a time step that has signed in already (a
    code is good once): they should wait for the next one. Only ever asked after the
    code was refused, so it tells nothing a refusal did not."""
    digits = normalise_totp_code(code)
    secret = totp_secret(ctx, user)
    if digits is None or secret is None or user.totp_last_step is None:
        return False
    now_step = totp_step(ctx.now())
    used = [
        step
        for step in range(now_step - TOTP_SKEW_STEPS, now_step + TOTP_SKEW_STEPS + 1)
        if hmac.compare_digest(totp_code(secret, step), digits)
    ]
    return bool(used) and all(step <= user.totp_last_step for step in used)


def _lock_user(ctx: Context, user: User) -> User:
    """The user's row lock (PostgreSQL), reloaded: two requests with one code, or one
    recovery code, cannot both be let in."""
    return ctx.session.execute(
        select(User)
        .where(User.id == user.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def new_recovery_codes(ctx: Context, user: User) -> list[str]:
    """Ten new recovery codes (the old ones stop working); only their hashes are kept.
    The user is told (a security notice)."""
    notifications.tell_user(ctx, user, notifications.RECOVERY_CODES_RENEWED)
    return _issue_recovery_codes(ctx, user)


def _issue_recovery_codes(ctx: Context, user: User) -> list[str]:
    ctx.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    now = ctx.now()
    for code in codes:
        normalised = normalise_recovery_code(code)
        assert normalised is not None
        ctx.session.add(
            RecoveryCode(
                user_id=user.id, code_hash=hash_password(normalised, ctx.kdf), created_at=now
            )
        )
    ctx.session.flush()
    audit.info("user %d has %d new recovery codes", user.id, len(codes))
    return codes


def unused_recovery_codes(ctx: Context, user: User) -> int:
    return len(
        ctx.session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def use_recovery_code(ctx: Context, user: User, text: str) -> bool:
    """Spend an unused recovery code: each works once."""
    code = normalise_recovery_code(text)
    if code is None:
        return False
    user = _lock_user(ctx, user)
    unused = ctx.session.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).all()
    for row in unused:
        if verify_password(row.code_hash, code, ctx.kdf):
            row.used_at = ctx.now()
            ctx.session.flush()
            audit.warning("user %d used a recovery code; %d left", user.id, len(unused) - 1)
            notifications.tell_user(ctx, user, notifications.RECOVERY_CODE_USED)
            return True
    return False
