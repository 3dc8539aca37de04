"""Sign-in throttling that cannot be used to lock an account's owner out.

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

import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.exc import IntegrityError

from grievance.models import LoginThrottle
from grievance.services.accounts.passwords import normalise_email
from grievance.services.context import Context

audit = logging.getLogger("grievance.audit")

#: The client key of every client without a device cookie for the account.
UNTRUSTED_CLIENTS = "untrusted"
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
FIRST_LOCK = timedelta(minutes=15)
LONGEST_LOCK = timedelta(hours=24)
#: A pair that was locked is forgiven (counts from zero) after this long without a failure.
FORGIVEN_AFTER = timedelta(hours=24)


def account_key(ctx: Context, email: str) -> str:
    """The account's throttling key: an HMAC of the normalised address, for any address."""
    return ctx.vault.lookup_hash("staff-account", normalise_email(email))


def _clients(client_key: str) -> str:
    return "untrusted clients" if client_key == UNTRUSTED_CLIENTS else "a known device"


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
