"""Staff accounts: creation, sign-in with a password and a second factor (a TOTP code or
a recovery code), throttling that cannot be used to lock an account's owner out, password
changes, an administrator's reset, deactivation.

No Flask here: the web layer (`grievance/web/auth.py`) keeps the session and the device
cookie and calls these. Nothing here writes an e-mail address, a password or a code to a
log: the audit lines (logger `grievance.audit`) name users by id only.

Throttling (ASVS 2.2.1, OWASP "device cookies"): failures count per pair of an account
key (an HMAC of the e-mail address, so unknown addresses count alike and nothing in the
table names anyone) and a client key: `UNTRUSTED_CLIENTS` for every client without a
device cookie for that account, or the id of the device cookie that a browser received
when it signed in to that account before. Five failures within 15 minutes lock the pair
for 15 minutes; each further five failures before the pair has been quiet for a day
double the lock, up to a day. An attacker's failures lock the untrusted pair only: the
owner on a known device signs in as before.
"""

from __future__ import annotations

import base64
import enum
import functools
import hmac
import logging
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2.exceptions import InvalidHashError
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP
from sqlalchemy import and_, delete, or_, select
from sqlalchemy.exc import IntegrityError

from grievance.config import KdfParameters
from grievance.crypto.accounts import open_account_secret, seal_account_secret
from grievance.crypto.secrets import hash_password, password_hasher, verify_password
from grievance.crypto.vault import TamperedCiphertext
from grievance.models import Company, LoginThrottle, Mechanism, RecoveryCode, Role, User
from grievance.services.actors import Actor
from grievance.services.context import Context, atomic
from grievance.services.errors import NotAllowed, ServiceError

audit = logging.getLogger("grievance.audit")

# -- rules ----------------------------------------------------------------------------------

#: ASVS 2.1.1 and 2.1.2: at least 12 characters, up to 128 (spaces counted once).
PASSWORD_MIN = 12
PASSWORD_MAX = 128
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

TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
TEMPORARY_GROUPS = 5  # 5 groups of 4: about 99 bits

#: The client key of every client without a device cookie for the account.
UNTRUSTED_CLIENTS = "untrusted"
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
FIRST_LOCK = timedelta(minutes=15)
LONGEST_LOCK = timedelta(hours=24)
#: A pair that was locked is forgiven (counts from zero) after this long without a failure.
FORGIVEN_AFTER = timedelta(hours=24)

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


class AccountProblem(enum.StrEnum):
    EMAIL_INVALID = "email_invalid"
    EMAIL_TAKEN = "email_taken"
    NAME_MISSING = "name_missing"
    ROLE_INVALID = "role_invalid"
    COMPANY_REQUIRED = "company_required"
    COMPANY_NOT_ALLOWED = "company_not_allowed"
    MECHANISM_REQUIRED = "mechanism_required"
    MECHANISM_NOT_ALLOWED = "mechanism_not_allowed"


class AccountRejected(ServiceError):
    """A new account breaks a rule; `problems` maps each form field to what is wrong."""

    def __init__(self, problems: dict[str, AccountProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{name}: {p.value}" for name, p in problems.items()))


class SecondFactor(enum.StrEnum):
    TOTP = "totp"
    RECOVERY_CODE = "recovery_code"


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


def needs_second_factor(user: User) -> bool:
    return user.role in SECOND_FACTOR_ROLES


def has_second_factor(user: User) -> bool:
    return user.totp_secret_enc is not None


def new_temporary_password() -> str:
    return "-".join(
        "".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(4))
        for _ in range(TEMPORARY_GROUPS)
    )


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


@functools.lru_cache(maxsize=4)
def _dummy_hash(kdf: KdfParameters) -> str:
    """A hash to verify against when there is no account: the same work either way."""
    return hash_password(secrets.token_urlsafe(24), kdf)


# -- creating accounts ----------------------------------------------------------------------


@dataclass(frozen=True)
class NewAccount:
    user: User
    #: Shown once to whoever created the account; the user must change it at sign-in.
    temporary_password: str


def _require_admin(actor: Actor, *, system_too: bool = False) -> None:
    allowed = {Role.ADMIN, Role.SYSTEM} if system_too else {Role.ADMIN}
    if actor.role not in allowed:
        raise NotAllowed(f"{actor.role} may not manage staff accounts")


@atomic
def create_user(
    ctx: Context,
    actor: Actor,
    *,
    email: str,
    display_name: str,
    role: Role,
    company: Company | None = None,
    mechanisms: Sequence[Mechanism] = (),
) -> NewAccount:
    """A staff account with a temporary password (shown once; changed at first sign-in).
    A company user belongs to one company, a secretariat user to one or more mechanisms."""
    _require_admin(actor, system_too=True)
    address = normalise_email(email)
    name = display_name.strip()
    problems: dict[str, AccountProblem] = {}
    if not EMAIL_PATTERN.match(address) or len(address) > 254:
        problems["email"] = AccountProblem.EMAIL_INVALID
    elif ctx.session.scalar(select(User.id).where(User.email == address)) is not None:
        problems["email"] = AccountProblem.EMAIL_TAKEN
    if not name or len(name) > 120:
        problems["display_name"] = AccountProblem.NAME_MISSING
    if role not in (Role.REVIEWER, Role.COMPANY, Role.SECRETARIAT, Role.ADMIN):
        problems["role"] = AccountProblem.ROLE_INVALID
    if role is Role.COMPANY and company is None:
        problems["company"] = AccountProblem.COMPANY_REQUIRED
    if role is not Role.COMPANY and company is not None:
        problems["company"] = AccountProblem.COMPANY_NOT_ALLOWED
    if role is Role.SECRETARIAT and not mechanisms:
        problems["mechanisms"] = AccountProblem.MECHANISM_REQUIRED
    if role is not Role.SECRETARIAT and mechanisms:
        problems["mechanisms"] = AccountProblem.MECHANISM_NOT_ALLOWED
    if problems:
        raise AccountRejected(problems)
    temporary = new_temporary_password()
    user = User(
        email=address,
        display_name=name,
        role=role,
        password_hash=hash_password(temporary, ctx.kdf),
        company=company,
        mechanisms=list(mechanisms),
        must_change_password=True,
        created_at=ctx.now(),
    )
    ctx.session.add(user)
    try:
        ctx.session.flush()
    except IntegrityError:  # the same address, created at the same moment elsewhere
        raise AccountRejected({"email": AccountProblem.EMAIL_TAKEN}) from None
    audit.info("user %s created user %d (%s)", actor.user_id or "system", user.id, role.value)
    return NewAccount(user=user, temporary_password=temporary)


# -- signing in -----------------------------------------------------------------------------


def account_key(ctx: Context, email: str) -> str:
    """The account's throttling key: an HMAC of the normalised address, for any address."""
    return ctx.vault.lookup_hash("staff-account", normalise_email(email))


def find_user(ctx: Context, email: str) -> User | None:
    return ctx.session.scalar(select(User).where(User.email == normalise_email(email)))


def authenticate(ctx: Context, email: str, password: str, client_key: str) -> User | None:
    """The user whose address and password these are, if the pair (account, client) is not
    locked; None otherwise, counting a failure. Unknown addresses, inactive accounts,
    wrong passwords and locks look alike, and cost the same (a dummy hash is verified
    when there is no account). The caller commits either way."""
    key = account_key(ctx, email)
    user = find_user(ctx, email)
    password = normalise_password(password)
    locked = locked_until(ctx, key, client_key) is not None
    stored = user.password_hash if user is not None else _dummy_hash(ctx.kdf)
    matches = verify_password(stored, password, ctx.kdf) and len(password) <= PASSWORD_MAX
    if locked or user is None or not user.active or not matches:
        who = f"user {user.id}" if user is not None else "an unknown account"
        if locked:
            audit.info("sign-in refused: %s is locked for %s", who, _clients(client_key))
        else:
            audit.info("sign-in failed: password of %s from %s", who, _clients(client_key))
            _count_failure(ctx, key, client_key, who)
        return None
    try:
        if password_hasher(ctx.kdf).check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password, ctx.kdf)
            audit.info("password hash of user %d renewed with the current parameters", user.id)
    except InvalidHashError:  # pragma: no cover - it verified, so it parses
        pass
    return user


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


def complete_sign_in(ctx: Context, user: User, client_key: str) -> None:
    """Every factor checked: the pair's failures are forgotten, the time noted."""
    _forget_failures(ctx, account_key(ctx, user.email), client_key)
    user.last_login_at = ctx.now()
    audit.info("user %d signed in from %s", user.id, _clients(client_key))


def end_sessions(ctx: Context, user: User) -> None:
    """Every session of the user that began before now is void (sign-out, everywhere)."""
    user.sessions_valid_after = ctx.now()
    audit.info("user %d signed out", user.id)


def session_is_valid(user: User, signed_in_at: datetime) -> bool:
    """A session may go on while its user is active and nothing voided it since."""
    if not user.active:
        return False
    return user.sessions_valid_after is None or signed_in_at >= user.sessions_valid_after


def _clients(client_key: str) -> str:
    return "untrusted clients" if client_key == UNTRUSTED_CLIENTS else "a known device"


# -- throttling -----------------------------------------------------------------------------


def _throttle(ctx: Context, key: str, client_key: str) -> LoginThrottle | None:
    return ctx.session.scalar(
        select(LoginThrottle)
        .where(LoginThrottle.account_key == key, LoginThrottle.client_key == client_key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def locked_until(ctx: Context, key: str, client_key: str) -> datetime | None:
    """When the pair's lock ends, if it is locked now."""
    row = _throttle(ctx, key, client_key)
    if row is None or row.locked_until is None or row.locked_until <= ctx.now():
        return None
    return row.locked_until


def lock_duration(failures: int) -> timedelta:
    """The lock after `failures` failures (a multiple of MAX_FAILURES): 15 minutes, then
    doubling with each further five, up to a day."""
    level = max(failures // MAX_FAILURES - 1, 0)
    return min(FIRST_LOCK * (1 << min(level, 16)), LONGEST_LOCK)


def _count_failure(ctx: Context, key: str, client_key: str, who: str) -> None:
    now = ctx.now()
    row = _throttle(ctx, key, client_key)
    if row is None:
        try:
            with ctx.session.begin_nested():
                row = LoginThrottle(
                    account_key=key, client_key=client_key, failures=0, window_started_at=now
                )
                ctx.session.add(row)
        except IntegrityError:  # another request made it first: count on theirs
            row = _throttle(ctx, key, client_key)
            assert row is not None
    if row.locked_until is None:
        if now - row.window_started_at >= FAILURE_WINDOW:
            row.failures, row.window_started_at = 0, now
    elif now - row.locked_until >= FORGIVEN_AFTER:
        row.failures, row.window_started_at, row.locked_until = 0, now, None
    row.failures += 1
    if row.failures % MAX_FAILURES == 0:
        duration = lock_duration(row.failures)
        row.locked_until = now + duration
        row.window_started_at = now
        audit.warning(
            "sign-in locked for %d minutes after %d failures: %s from %s",
            duration // timedelta(minutes=1),
            row.failures,
            who,
            _clients(client_key),
        )
    ctx.session.flush()


def purge_throttles(ctx: Context) -> int:
    """A job: forget the throttle rows that no longer change anything, that is, unlocked
    ones whose window has passed and locks forgiven long ago (the next failure would
    start from zero either way). What is left is only what still protects an account."""
    now = ctx.now()
    result = ctx.session.execute(
        delete(LoginThrottle).where(
            or_(
                and_(
                    LoginThrottle.locked_until.is_(None),
                    LoginThrottle.window_started_at <= now - FAILURE_WINDOW,
                ),
                LoginThrottle.locked_until <= now - FORGIVEN_AFTER,
            )
        )
    )
    ctx.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def _forget_failures(ctx: Context, key: str, client_key: str) -> None:
    ctx.session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.account_key == key, LoginThrottle.client_key == client_key
        )
    )


# -- the second factor ----------------------------------------------------------------------


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
    return new_recovery_codes(ctx, user)


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
    """Ten new recovery codes (the old ones stop working); only their hashes are kept."""
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
            return True
    return False


# -- passwords and administration -----------------------------------------------------------


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


@atomic
def admin_reset_password(
    ctx: Context, actor: Actor, user: User, *, remove_second_factor: bool = False
) -> str:
    """An administrator's reset: a temporary password (returned, shown once to the
    administrator), to be changed at the next sign-in; every session of the user ends and
    the account's locks are lifted.

    The second factor stays unless `remove_second_factor`: the temporary password alone,
    however it travels to the user, does not open an account protected by a second factor
    (ASVS 2.5.6, 2.5.7). An administrator removes it only for someone who lost both their
    authenticator and their recovery codes, after checking who they are; the user then
    enrols again right after signing in."""
    _require_admin(actor)
    if actor.user_id == user.id:
        raise NotAllowed("administrators change their own password on their account page")
    temporary = new_temporary_password()
    now = ctx.now()
    user.password_hash = hash_password(temporary, ctx.kdf)
    user.password_changed_at = now
    user.must_change_password = True
    user.sessions_valid_after = now
    if remove_second_factor:
        user.totp_secret_enc = None
        user.totp_last_step = None
        ctx.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    ctx.session.execute(
        delete(LoginThrottle).where(LoginThrottle.account_key == account_key(ctx, user.email))
    )
    audit.warning(
        "user %d reset the password of user %d (second factor %s)",
        actor.user_id,
        user.id,
        "removed" if remove_second_factor else "kept",
    )
    return temporary


@atomic
def set_active(ctx: Context, actor: Actor, user: User, active: bool) -> None:
    """Deactivate (every session ends at its next request) or reactivate an account."""
    _require_admin(actor)
    if actor.user_id == user.id:
        raise NotAllowed("administrators cannot deactivate themselves")
    user.active = active
    if not active:
        user.sessions_valid_after = ctx.now()
    audit.warning(
        "user %d %s user %d", actor.user_id, "reactivated" if active else "deactivated", user.id
    )


def deactivate(ctx: Context, actor: Actor, user: User) -> None:
    set_active(ctx, actor, user, False)


def reactivate(ctx: Context, actor: Actor, user: User) -> None:
    set_active(ctx, actor, user, True)
