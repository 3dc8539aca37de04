"""An account's life: created by an administrator with a temporary password, signed in to
(the password; the second factor is `second_factor.verify_second_factor`), its sessions,
an administrator's password reset, deactivation and reactivation.
"""

from __future__ import annotations

import enum
import functools
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from argon2.exceptions import InvalidHashError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from grievance.config import KdfParameters
from grievance.crypto.secrets import hash_password, password_hasher, verify_password
from grievance.models import (
    Assignment,
    Company,
    LoginThrottle,
    Mechanism,
    RecoveryCode,
    Role,
    User,
)
from grievance.services import notifications
from grievance.services.accounts.passwords import (
    EMAIL_PATTERN,
    PASSWORD_MAX,
    new_temporary_password,
    normalise_email,
    normalise_password,
)
from grievance.services.accounts.throttle import (
    UNTRUSTED_CLIENTS,
    _clients,
    _count_failure,
    _forget_failures,
    account_key,
    locked_until,
)
from grievance.services.actors import Actor
from grievance.services.context import Context, atomic
from grievance.services.errors import NotAllowed, ServiceError

audit = logging.getLogger("grievance.audit")

# -- errors ---------------------------------------------------------------------------------


class AccountProblem(enum.StrEnum):
    EMAIL_INVALID = "email_invalid"
    EMAIL_TAKEN = "email_taken"
    NAME_MISSING = "name_missing"
    ROLE_INVALID = "role_invalid"
    COMPANY_REQUIRED = "company_required"
    COMPANY_NOT_ALLOWED = "company_not_allowed"
    MECHANISM_REQUIRED = "mechanism_required"
    MECHANISM_NOT_ALLOWED = "mechanism_not_allowed"
    REVIEWER_HAS_CASES = "reviewer_has_cases"
    OWN_ROLE = "own_role"


class AccountRejected(ServiceError):
    """A new account breaks a rule; `problems` maps each form field to what is wrong."""

    def __init__(self, problems: dict[str, AccountProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{name}: {p.value}" for name, p in problems.items()))


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
    problems.update(_scope_problems(name, role, company, mechanisms))
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


def _scope_problems(
    name: str, role: Role, company: Company | None, mechanisms: Sequence[Mechanism]
) -> dict[str, AccountProblem]:
    """What is wrong with an account's name, role and what it belongs to."""
    problems: dict[str, AccountProblem] = {}
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
    return problems


@atomic
def update_user(
    ctx: Context,
    actor: Actor,
    user: User,
    *,
    display_name: str,
    role: Role,
    company: Company | None = None,
    mechanisms: Sequence[Mechanism] = (),
) -> bool:
    """An administrator changes a user's name, role, company or mechanisms; whether
    anything changed. A new role or scope ends the user's sessions (they sign in again
    with what they may do now; a role that needs a second factor asks for one then). A
    reviewer still on cases keeps the role until those cases are handed over, and an
    administrator never changes their own role."""
    _require_admin(actor)
    name = display_name.strip()
    problems = _scope_problems(name, role, company, mechanisms)
    if role is not user.role and actor.user_id == user.id:
        problems["role"] = AccountProblem.OWN_ROLE
    elif role is not user.role and user.role is Role.REVIEWER:
        active = ctx.session.scalar(
            select(Assignment.id)
            .where(Assignment.reviewer_id == user.id, Assignment.ended_at.is_(None))
            .limit(1)
        )
        if active is not None:
            problems["role"] = AccountProblem.REVIEWER_HAS_CASES
    if problems:
        raise AccountRejected(problems)
    scope_changed = (
        role is not user.role
        or company is not user.company
        or {m.id for m in mechanisms} != {m.id for m in user.mechanisms}
    )
    changed = scope_changed or name != user.display_name
    user.display_name = name
    user.role = role
    user.company = company
    user.mechanisms = list(mechanisms)
    if scope_changed:
        user.sessions_valid_after = ctx.now()
    ctx.session.flush()
    if changed:
        audit.warning(
            "user %d changed user %d (role %s%s)",
            actor.user_id,
            user.id,
            role.value,
            ", scope changed" if scope_changed else "",
        )
    return changed


# -- signing in -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _dummy_hash(kdf: KdfParameters) -> str:
    """A hash to verify against when there is no account: the same work either way."""
    return hash_password(secrets.token_urlsafe(24), kdf)


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


def complete_sign_in(ctx: Context, user: User, client_key: str) -> None:
    """Every factor checked: the pair's failures are forgotten, the time noted."""
    _forget_failures(ctx, account_key(ctx, user.email), client_key)
    if client_key == UNTRUSTED_CLIENTS and user.last_login_at is not None:
        # a browser that never signed in to this account (not the first sign-in ever)
        notifications.tell_user(ctx, user, notifications.NEW_DEVICE)
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


# -- administration -------------------------------------------------------------------------


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
    notifications.tell_user(ctx, user, notifications.PASSWORD_RESET)
    if remove_second_factor:
        notifications.tell_user(ctx, user, notifications.SECOND_FACTOR_REMOVED)
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
