"""Daily digests: one e-mail a day per user who chose one, listing every notification of
that (UTC) day, made by a job after the day ends. A constraint on (user, day) keeps it to
one whichever worker makes it; a notification is listed once (`digest_mail_id`).

A job, not a request: it commits as it goes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from grievance.models import EmailMode, MailKind, MailMessage, StaffNotification, User
from grievance.services.context import Context
from grievance.services.mailbox import new_row


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def queue_digests(ctx: Context, *, limit: int = 500) -> int:
    """One digest per user who chose one and per (UTC) day before today with
    notifications, each listing every notification of that day. A job: commits."""
    session = ctx.session
    today = _start_of(ctx.now().date())
    first = func.min(StaffNotification.created_at)

    def oldest(user_id: int | None = None) -> list[tuple[int, datetime]]:
        query = select(StaffNotification.user_id, first).where(
            StaffNotification.digest_pending.is_(True), StaffNotification.created_at < today
        )
        if user_id is not None:
            query = query.where(StaffNotification.user_id == user_id)
        rows = session.execute(
            query.group_by(StaffNotification.user_id)
            .order_by(StaffNotification.user_id)
            .limit(limit)
        ).all()
        session.commit()
        return [(row[0], row[1]) for row in rows]

    made = 0
    for user_id, since in oldest():
        while True:
            made += _digest_of_day(ctx, user_id, since.date())
            session.commit()
            later = oldest(user_id)
            if not later:
                break
            since = later[0][1]
    return made


def _digest_of_day(ctx: Context, user_id: int, day: date) -> int:
    session = ctx.session
    window = (
        StaffNotification.user_id == user_id,
        StaffNotification.digest_pending.is_(True),
        StaffNotification.created_at >= _start_of(day),
        StaffNotification.created_at < _start_of(day + timedelta(days=1)),
    )

    def settle(mail_id: int | None) -> None:
        session.execute(
            update(StaffNotification)
            .where(*window)
            .values(digest_pending=False, digest_mail_id=mail_id)
            .execution_options(synchronize_session=False)
        )

    user = session.get(User, user_id)
    if user is None or not user.active or user.email_mode is not EmailMode.DIGEST:
        settle(None)  # no digest any more: they stay in the inbox
        return 0
    try:
        with session.begin_nested():
            row = new_row(
                ctx, MailKind.DIGEST, "digest", user.language, user.email,
                user_id=user.id, digest_day=day,
            )  # fmt: skip
    except IntegrityError:  # another worker made this day's digest
        settle(
            session.scalar(
                select(MailMessage.id).where(
                    MailMessage.user_id == user_id, MailMessage.digest_day == day
                )
            )
        )
        return 0
    settle(row.id)
    return 1
