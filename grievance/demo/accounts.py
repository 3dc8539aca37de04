"""The demo accounts' second factor, and how `demo-otp` recognises a demo account.

The demo reviewers, secretariat staff and administrator get an authenticator seed when
the demo is loaded (no recovery codes: `flask --app wsgi grievance demo-otp USER` prints
the current code instead). A demo account is one that `demo-otp` will serve, and only
when all of these hold, so that the command is no way into a real account:

- the app does not run in production (`GRIEVANCE_ENV` is `development` or `test`);
- the e-mail address is one of the demo logins of `grievance/demo/data.toml`;
- the account still has the demo password (`demo-password`), which no password change
  accepts (it is in the accounts service's list of common passwords).
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select

from grievance.crypto.secrets import verify_password
from grievance.demo.data import DEMO_PASSWORD, read_data
from grievance.models import User
from grievance.services import accounts
from grievance.services.context import Context


def demo_emails(data: dict[str, Any]) -> set[str]:
    people = [*data["staff"], *data["reviewer"]]
    return {accounts.normalise_email(entry["email"]) for entry in people}


def enrol_demo_accounts(ctx: Context, data: dict[str, Any]) -> int:
    """Give every demo account whose role needs a second factor an authenticator seed."""
    enrolled = 0
    for user in ctx.session.scalars(select(User).where(User.email.in_(demo_emails(data)))):
        if accounts.needs_second_factor(user) and not accounts.has_second_factor(user):
            secret = secrets.token_bytes(accounts.TOTP_SECRET_BYTES)
            accounts.enrol_totp_secret(ctx, user, secret, last_step=None)
            enrolled += 1
    ctx.session.flush()
    return enrolled


def demo_account(ctx: Context, email: str, *, production: bool) -> User | None:
    """The demo account with this address and a second factor, or None (see above)."""
    if production:
        return None
    address = accounts.normalise_email(email)
    if address not in demo_emails(read_data()):
        return None
    user = accounts.find_user(ctx, address)
    if user is None or not accounts.has_second_factor(user):
        return None
    if not verify_password(user.password_hash, DEMO_PASSWORD, ctx.kdf):
        return None
    return user


def current_code(ctx: Context, user: User) -> str:
    secret = accounts.totp_secret(ctx, user)
    assert secret is not None
    return accounts.totp_code(secret, accounts.totp_step(ctx.now()))
