"""The deadline sweep: remind the assigned reviewers when a share of a time limit has
passed, escalate to the secretariat when it is breached (R04, R10).

Exactly once, whatever happens:
- each reminder and escalation is a `DeadlineNotice` row, unique per deadline and kind;
- candidates come from indexes that seek to what is due, oldest first, so the cost
  follows the due rows and a worker back after days catches up in order;
- each deadline is handled in its own transaction that locks its case first and the
  deadline second (the order every other change uses), both `SKIP LOCKED` on
  PostgreSQL: two workers never take the same deadline, and never deadlock.

This is a job, not a request: it commits as it goes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, literal, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute

from grievance.models import (
    Assignment,
    Case,
    Deadline,
    DeadlineNotice,
    DeadlineState,
    NoticeKind,
    RemedyAction,
    User,
)
from grievance.models.base import UTCDateTime
from grievance.models.mechanism import secretariat_membership
from grievance.services import caselog, company_deadlines, deadlines, notifications
from grievance.services.actors import SYSTEM
from grievance.services.context import Context

log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    reminders: int = 0
    escalations: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class _Kind:
    notice: NoticeKind
    event: str
    time_column: str  # when it is due
    mark: str  # when it was done

    def time(self) -> InstrumentedAttribute[datetime]:
        column: InstrumentedAttribute[datetime] = getattr(Deadline, self.time_column)
        return column

    def done(self) -> InstrumentedAttribute[datetime | None]:
        column: InstrumentedAttribute[datetime | None] = getattr(Deadline, self.mark)
        return column


REMINDER = _Kind(NoticeKind.REMINDER, "deadline_reminder", "remind_at", "reminded_at")
ESCALATION = _Kind(NoticeKind.ESCALATION, "deadline_escalated", "due_at", "escalated_at")


def _due(kind: _Kind, now: datetime) -> list[ColumnElement[bool]]:
    # Matches the indexes ix_deadline_reminder_due and ix_deadline_escalation_due.
    return [
        Deadline.state == DeadlineState.OPEN,
        kind.done().is_(None),
        Deadline.paused_at.is_(None),
        kind.time() <= now,
    ]


def sweep_deadlines(ctx: Context, *, batch_size: int = 500) -> SweepResult:
    """Send every reminder, then every escalation, that is due now."""
    result = SweepResult()
    for kind in (REMINDER, ESCALATION):
        _sweep(ctx, kind, batch_size, result)
    return result


def _sweep(ctx: Context, kind: _Kind, batch_size: int, result: SweepResult) -> None:
    now = ctx.now()
    after: tuple[datetime, int] | None = None
    while True:
        query = (
            select(Deadline.id, Deadline.case_id, kind.time())
            .where(*_due(kind, now))
            .order_by(kind.time(), Deadline.id)
            .limit(batch_size)
        )
        if after is not None:
            # keyset: past what this pass has seen (rows skipped because another worker
            # holds them are not seen again in this pass)
            query = query.where(
                tuple_(kind.time(), Deadline.id)
                > tuple_(literal(after[0], UTCDateTime()), literal(after[1]))
            )
        candidates = ctx.session.execute(query).all()
        ctx.session.commit()  # end the read; each deadline gets its own transaction
        if not candidates:
            return
        for deadline_id, case_id, when in candidates:
            if _handle(ctx, kind, deadline_id, case_id, now):
                if kind is REMINDER:
                    result.reminders += 1
                else:
                    result.escalations += 1
            else:
                result.skipped += 1
            after = (when, deadline_id)


def _handle(ctx: Context, kind: _Kind, deadline_id: int, case_id: int, now: datetime) -> bool:
    """One deadline in one transaction; True if this worker sent its notice."""
    session = ctx.session
    try:
        with session.begin_nested():
            sent = _notify(ctx, kind, deadline_id, case_id, now)
    except IntegrityError:
        # The notice exists: another worker sent it. Nothing more to do.
        log.info("sweep: %s of deadline %s was already sent", kind.notice, deadline_id)
        sent = False
    session.commit()  # ends the transaction, and releases the locks
    return sent


def _notify(ctx: Context, kind: _Kind, deadline_id: int, case_id: int, now: datetime) -> bool:
    session = ctx.session
    case = session.scalar(
        select(Case)
        .where(Case.id == case_id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    if case is None:  # another worker (or a reviewer) holds the case: the next sweep
        return False
    deadline = session.scalar(
        select(Deadline)
        .where(Deadline.id == deadline_id, *_due(kind, now))
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    if deadline is None:  # done meanwhile, or no longer due
        return False
    session.add(DeadlineNotice(deadline_id=deadline.id, kind=kind.notice, created_at=now))
    session.flush()  # the unique constraint speaks here, before anything else is written
    setattr(deadline, kind.mark, now)
    recipients = _recipients(ctx, case, kind)
    notifications.notify(ctx, recipients, kind.event, case=case, deadline_id=deadline.id)
    company = _company_of(ctx, deadline)
    if company is not None:  # a remedy action of a company: its users are told too
        notifications.notify(
            ctx, notifications.company_users(ctx, company), kind.event, case=case,
            deadline_id=deadline.id,
        )  # fmt: skip
    caselog.append(
        session,
        case,
        kind.event,
        SYSTEM,
        now,
        {"code": deadline.code, "due_at": deadline.due_at, "notified": recipients},
    )
    session.flush()
    return True


def _company_of(ctx: Context, deadline: Deadline) -> int | None:
    """The company whose deadline it is, if any: a company's own (to respond, an
    obligation), or a remedy action of a company."""
    own = company_deadlines.company_of_code(deadline.code)
    if own is not None:
        return own
    if not deadline.code.startswith(deadlines.REMEDY_ACTION_PREFIX):
        return None
    action_id = deadline.code.removeprefix(deadlines.REMEDY_ACTION_PREFIX)
    if not action_id.isdigit():
        return None
    return ctx.session.scalar(
        select(RemedyAction.company_id).where(RemedyAction.id == int(action_id))
    )


def _recipients(ctx: Context, case: Case, kind: _Kind) -> list[int]:
    reviewers = list(
        ctx.session.scalars(
            select(Assignment.reviewer_id)
            .where(Assignment.case_id == case.id, Assignment.ended_at.is_(None))
            .order_by(Assignment.reviewer_id)
        )
    )
    if kind is REMINDER and reviewers:
        return reviewers
    secretariat = ctx.session.scalars(
        select(User.id)
        .join(secretariat_membership, secretariat_membership.c.user_id == User.id)
        .where(secretariat_membership.c.mechanism_id == case.mechanism_id, User.active.is_(True))
        .order_by(User.id)
    )
    return sorted(set(reviewers) | set(secretariat))
