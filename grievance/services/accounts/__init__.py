"""Staff accounts: creation, sign-in with a password and a second factor (a TOTP code or
a recovery code), throttling that cannot be used to lock an account's owner out, password
changes, an administrator's reset, deactivation.

No Flask here: the web layer (`grievance/web/auth.py`) keeps the session and the device
cookie and calls these. Nothing here writes an e-mail address, a password or a code to a
log: the audit lines (logger `grievance.audit`) name users by id only.

The modules, each depending only on those listed before it:

- `passwords`: normalising addresses and passwords, the rules of a new password,
  temporary passwords, the user's own change of password;
- `throttle`: sign-in throttling per (account key, client key), and its purge job;
- `second_factor`: TOTP codes, enrolment, recovery codes, `verify_second_factor`;
- `lifecycle`: creating, finding and authenticating users, sessions, an administrator's
  reset, deactivation and reactivation.

Callers use `from grievance.services import accounts` and `accounts.X`: the public names
are re-exported here. Something that patches a name (a test) patches it in the module
that uses it, not here.
"""

from grievance.services.accounts.lifecycle import (
    AccountProblem,
    AccountRejected,
    NewAccount,
    admin_reset_password,
    authenticate,
    complete_sign_in,
    create_user,
    deactivate,
    end_sessions,
    find_user,
    reactivate,
    session_is_valid,
    set_active,
    update_user,
)
from grievance.services.accounts.passwords import (
    COMMON_PASSWORDS,
    EMAIL_PATTERN,
    PASSWORD_MAX,
    PASSWORD_MIN,
    TEMPORARY_ALPHABET,
    TEMPORARY_GROUPS,
    PasswordProblem,
    PasswordRejected,
    change_password,
    new_temporary_password,
    normalise_email,
    normalise_password,
    password_problem,
)
from grievance.services.accounts.second_factor import (
    PENDING_TOTP_FIELD,
    RECOVERY_ALPHABET,
    RECOVERY_CODE_CHARS,
    RECOVERY_CODE_COUNT,
    SECOND_FACTOR_ROLES,
    TOTP_DIGITS,
    TOTP_FIELD,
    TOTP_ISSUER,
    TOTP_SECRET_BYTES,
    TOTP_SKEW_STEPS,
    TOTP_STEP_SECONDS,
    SecondFactor,
    TotpEnrolment,
    begin_totp_enrolment,
    confirm_totp_enrolment,
    enrol_totp_secret,
    has_second_factor,
    needs_second_factor,
    new_recovery_code,
    new_recovery_codes,
    normalise_recovery_code,
    normalise_totp_code,
    totp_code,
    totp_code_reused,
    totp_secret,
    totp_step,
    unused_recovery_codes,
    use_recovery_code,
    verify_second_factor,
    verify_totp,
)
from grievance.services.accounts.throttle import (
    FAILURE_WINDOW,
    FIRST_LOCK,
    FORGIVEN_AFTER,
    LONGEST_LOCK,
    MAX_FAILURES,
    UNTRUSTED_CLIENTS,
    account_key,
    lock_duration,
    locked_until,
    purge_throttles,
)
from grievance.services.errors import NotAllowed

__all__ = [
    "COMMON_PASSWORDS",
    "EMAIL_PATTERN",
    "FAILURE_WINDOW",
    "FIRST_LOCK",
    "FORGIVEN_AFTER",
    "LONGEST_LOCK",
    "MAX_FAILURES",
    "PASSWORD_MAX",
    "PASSWORD_MIN",
    "PENDING_TOTP_FIELD",
    "RECOVERY_ALPHABET",
    "RECOVERY_CODE_CHARS",
    "RECOVERY_CODE_COUNT",
    "SECOND_FACTOR_ROLES",
    "TEMPORARY_ALPHABET",
    "TEMPORARY_GROUPS",
    "TOTP_DIGITS",
    "TOTP_FIELD",
    "TOTP_ISSUER",
    "TOTP_SECRET_BYTES",
    "TOTP_SKEW_STEPS",
    "TOTP_STEP_SECONDS",
    "UNTRUSTED_CLIENTS",
    "AccountProblem",
    "AccountRejected",
    "NewAccount",
    # raised by the administrators' actions (from grievance.services.errors)
    "NotAllowed",
    "PasswordProblem",
    "PasswordRejected",
    "SecondFactor",
    "TotpEnrolment",
    "account_key",
    "admin_reset_password",
    "authenticate",
    "begin_totp_enrolment",
    "change_password",
    "complete_sign_in",
    "confirm_totp_enrolment",
    "create_user",
    "deactivate",
    "end_sessions",
    "enrol_totp_secret",
    "find_user",
    "has_second_factor",
    "lock_duration",
    "locked_until",
    "needs_second_factor",
    "new_recovery_code",
    "new_recovery_codes",
    "new_temporary_password",
    "normalise_email",
    "normalise_password",
    "normalise_recovery_code",
    "normalise_totp_code",
    "password_problem",
    "purge_throttles",
    "reactivate",
    "session_is_valid",
    "set_active",
    "totp_code",
    "totp_code_reused",
    "totp_secret",
    "totp_step",
    "unused_recovery_codes",
    "update_user",
    "use_recovery_code",
    "verify_second_factor",
    "verify_totp",
]
