"""The complainant's follow-up sessions (issue #12, item 4), kept on the server.

A session used to be the signed cookie alone, holding the complainant's id: a copy of
the cookie still opened the case after sign-out, and one used every 30 minutes never
expired. Now signing in with a receipt code makes a `FollowupSession` row and gives the
browser a random token (256 bits) for its cookie; the row keeps only the token's SHA-256.
A session ends after `IDLE` without a request, `LIFETIME` after it began, or when it is
ended (sign-out, a new sign-in in the same browser): after that its token opens nothing,
wherever it was copied. The worker deletes ended rows (`purge_sessions`).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select

from grievance.models import Complainant, FollowupSession
from grievance.services.context import Context

IDLE = timedelta(minutes=30)
LIFETIME = timedelta(hours=2)
TOKEN_BYTES = 32


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def _running(row: FollowupSession, now: datetime) -> bool:
    return (
        row.revoked_at is None and now - row.last_seen_at < IDLE and now - row.created_at < LIFETIME
    )


def start_session(ctx: Context, complainant: Complainant) -> str:
    """A new session for the complainant whose receipt code was given; its token, for the
    browser's cookie (never stored)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = ctx.now()
    ctx.session.add(
        FollowupSession(
            token_hash=_digest(token),
            complainant_id=complainant.id,
            created_at=now,
            last_seen_at=now,
        )
    )
    ctx.session.flush()
    return token


def resume_session(ctx: Context, token: str) -> Complainant | None:
    """The complainant of a running session, which this request keeps alive; None when
    the token is unknown or its session ended."""
    row = ctx.session.scalar(
        select(FollowupSession).where(FollowupSession.token_hash == _digest(token))
    )
    now = ctx.now()
    if row is None or not _running(row, now):
        return None
    row.last_seen_at = now
    ctx.session.flush()
    return ctx.session.get(Complainant, row.complainant_id)


def end_session(ctx: Context, token: str) -> None:
    """End the session of this token (sign-out): it opens nothing any more."""
    row = ctx.session.scalar(
        select(FollowupSession).where(FollowupSession.token_hash == _digest(token))
    )
    if row is not None and row.revoked_at is None:
        row.revoked_at = ctx.now()
        ctx.session.flush()


def purge_sessions(ctx: Context) -> int:
    """A job: delete the sessions that ended (ended by hand, silent too long, or too old):
    none of them opens anything any more."""
    now = ctx.now()
    result = ctx.session.execute(
        delete(FollowupSession).where(
            or_(
                FollowupSession.revoked_at.is_not(None),
                FollowupSession.last_seen_at <= now - IDLE,
                FollowupSession.created_at <= now - LIFETIME,
            )
        )
    )
    ctx.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
