"""Notifications: what a named staff user must know, in their inbox and by e-mail.

Every reminder and escalation of a time limit, assignment, urgent case, message from a
complainant, company report, decision waiting for the second reviewer, company deadline,
contested decision and security notice becomes a `StaffNotification` row of each user it
concerns, written by the service that made the change, in its transaction. Each user
chooses how they hear of them by e-mail (`EmailMode`): at once, in a daily digest, or
for urgent cases only; notifications about an urgent case (`queue.is_urgent`) and
security notices (ASVS 2.2.3) are e-mailed at once whatever the choice. The mails carry
no case content (see `grievance.services.mailbox`).

The inbox (`inbox`) is read newest first in keyset pages; a notification about a case
shows the case's reference only while the user still has a part in it (a reviewer taken
off a case sees that something happened, not which case).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from grievance.models import (
    Assignment,
    Case,
    Deadline,
    EmailMode,
    Involvement,
    Role,
    StaffNotification,
    User,
)
from grievance.models.mechanism import secretariat_membership
from grievance.policies import default_policy
from grievance.services import mailbox, queue
from grievance.services.context import Context
from grievance.services.errors import Code, InvalidInput

audit = logging.getLogger("grievance.audit")

# -- the kinds ----------------------------------------------------------------------------

CASE_ASSIGNED = "case_assigned"  # a reviewer was put on a case
URGENT_CASE = "urgent_case"  # a reviewer was put on an urgent case
REVIEWER_NEEDED = "reviewer_needed"  # to the secretariat: routing left a role empty
DEADLINE_REMINDER = "deadline_reminder"  # a share of a time limit has passed
DEADLINE_ESCALATED = "deadline_escalated"  # a time limit was missed
MESSAGE_FROM_COMPLAINANT = "message_from_complainant"
COMPANY_REPORTED = "company_reported"  # a company reported on a remedy action
DECISION_WAITING = "decision_waiting"  # for the second reviewer's confirmation
COMPANY_CASE = "company_case"  # a company was named in a case
COMPANY_DEADLINE = "company_deadline"  # a remedy action of the company has a due date
CASE_CONTESTED = "case_contested"  # a decision was appealed
REMEDY_DISPUTED = "remedy_disputed"  # the complainant disputes a remedy action
EFFECTIVENESS_REVIEW = "effectiveness_review"  # the mechanism's yearly review is due

PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a kind, not a password
PASSWORD_RESET = "password_reset"  # noqa: S105 - by an administrator
SECOND_FACTOR_ADDED = "second_factor_added"
SECOND_FACTOR_REMOVED = "second_factor_removed"
RECOVERY_CODE_USED = "recovery_code_used"
RECOVERY_CODES_RENEWED = "recovery_codes_renewed"
NEW_DEVICE = "new_device"  # signed in from a browser that never signed in to the account

#: Security notices: e-mailed at once in every mode (ASVS 2.2.3).
SECURITY_KINDS = frozenset(
    {
        PASSWORD_CHANGED,
        PASSWORD_RESET,
        SECOND_FACTOR_ADDED,
        SECOND_FACTOR_REMOVED,
        RECOVERY_CODE_USED,
        RECOVERY_CODES_RENEWED,
        NEW_DEVICE,
    }
)
CASE_KINDS = frozenset(
    {
        CASE_ASSIGNED,
        URGENT_CASE,
        REVIEWER_NEEDED,
        DEADLINE_REMINDER,
        DEADLINE_ESCALATED,
        MESSAGE_FROM_COMPLAINANT,
        COMPANY_REPORTED,
        DECISION_WAITING,
        COMPANY_CASE,
        COMPANY_DEADLINE,
        CASE_CONTESTED,
        REMEDY_DISPUTED,
    }
)
KINDS = CASE_KINDS | SECURITY_KINDS | {EFFECTIVENESS_REVIEW}

PAGE_SIZE = 50
#: The unread count stops here ("99+"): no exact count of a long list on every page.
UNREAD_CAP = 99


# -- telling ------------------------------------------------------------------------------


def notify(
    ctx: Context,
    user_ids: Iterable[int],
    kind: str,
    *,
    case: Case | None = None,
    deadline_id: int | None = None,
    task_id: int | None = None,
    once_unread: bool = False,
) -> list[int]:
    """Tell each active user of `user_ids` (in id order): a notification each, and the
    e-mail their choice calls for, in the caller's transaction. `once_unread`: not again
    to a user who has not read the last one of this kind about this case. Returns the ids
    of the users told."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification {kind!r}")
    wanted = sorted(set(user_ids))
    if not wanted:
        return []
    session = ctx.session
    users = session.scalars(
        select(User).where(User.id.in_(wanted), User.active.is_(True)).order_by(User.id)
    ).all()
    urgent = kind in SECURITY_KINDS or kind == URGENT_CASE
    if case is not None and not urgent:
        urgent = queue.is_urgent(case, ctx.case_policy(case))
    told = []
    for user in users:
        if once_unread and _unread(ctx, user.id, kind, case):
            continue
        row = StaffNotification(
            user_id=user.id,
            kind=kind,
            case_id=case.id if case is not None else None,
            deadline_id=deadline_id,
            task_id=task_id,
            created_at=ctx.now(),
            urgent=urgent,
            digest_pending=user.email_mode is EmailMode.DIGEST,
        )
        session.add(row)
        session.flush()  # a unique constraint (one per deadline) speaks here
        if urgent or user.email_mode is EmailMode.IMMEDIATE:
            row.mail_id = mailbox.queue_for_user(ctx, user, kind, row.case_id).id
        told.append(user.id)
    return told


def _unread(ctx: Context, user_id: int, kind: str, case: Case | None) -> bool:
    query = select(StaffNotification.id).where(
        StaffNotification.user_id == user_id,
        StaffNotification.kind == kind,
        StaffNotification.read_at.is_(None),
    )
    if case is not None:
        query = query.where(StaffNotification.case_id == case.id)
    return ctx.session.scalar(query.limit(1)) is not None


def tell_user(ctx: Context, user: User, kind: str) -> None:
    """A security notice to one user (at once, by e-mail too)."""
    assert kind in SECURITY_KINDS
    notify(ctx, [user.id], kind)


def reviewers_of(ctx: Context, case: Case) -> list[int]:
    """The reviewers on the case now."""
    return list(
        ctx.session.scalars(
            select(Assignment.reviewer_id)
            .where(Assignment.case_id == case.id, Assignment.ended_at.is_(None))
            .order_by(Assignment.reviewer_id)
        )
    )


def secretariat_of(ctx: Context, mechanism_id: int) -> list[int]:
    """The active secretariat users of a mechanism."""
    return list(
        ctx.session.scalars(
            select(User.id)
            .join(secretariat_membership, secretariat_membership.c.user_id == User.id)
            .where(secretariat_membership.c.mechanism_id == mechanism_id, User.active.is_(True))
            .order_by(User.id)
        )
    )


def company_users(ctx: Context, company_id: int) -> list[int]:
    """The active users of a company."""
    return list(
        ctx.session.scalars(
            select(User.id)
            .where(User.company_id == company_id, User.active.is_(True))
            .order_by(User.id)
        )
    )


def tell_reviewers(
    ctx: Context, case: Case, kind: str, *, but: int | None = None, once_unread: bool = False
) -> list[int]:
    """Every reviewer on the case (but one: who acted), or its secretariat when it has
    no reviewer now."""
    reviewers = [user_id for user_id in reviewers_of(ctx, case) if user_id != but]
    if not reviewers and not reviewers_of(ctx, case):
        reviewers = secretariat_of(ctx, case.mechanism_id)
    return notify(ctx, reviewers, kind, case=case, once_unread=once_unread)


# -- the inbox ----------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxRow:
    id: int
    kind: str
    created_at: datetime
    read: bool
    urgent: bool
    #: The case's reference, while the user still has a part in the case; None otherwise.
    reference: str | None
    #: The case is one of theirs no more (a reference is hidden then).
    case_gone: bool
    #: The time limit's code, for reminders and escalations.
    deadline_code: str | None
    mechanism_id: int | None


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    #: The id to continue below, or None on the last page.
    next_before: int | None


def inbox(
    ctx: Context,
    user: User,
    *,
    before: int | None = None,
    unread_only: bool = False,
    limit: int = PAGE_SIZE,
) -> InboxPage:
    """The user's notifications, newest first, `limit` at a time below `before`."""
    query = (
        select(
            StaffNotification.id,
            StaffNotification.kind,
            StaffNotification.created_at,
            StaffNotification.read_at,
            StaffNotification.urgent,
            StaffNotification.case_id,
            Case.reference,
            Case.mechanism_id,
            Deadline.code,
        )
        .outerjoin(Case, Case.id == StaffNotification.case_id)
        .outerjoin(Deadline, Deadline.id == StaffNotification.deadline_id)
        .where(StaffNotification.user_id == user.id)
        .order_by(StaffNotification.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(StaffNotification.id < before)
    if unread_only:
        query = query.where(StaffNotification.read_at.is_(None))
    found = ctx.session.execute(query).all()
    page = found[:limit]
    reach = in_reach(ctx, user, {row.case_id for row in page if row.case_id is not None})
    rows = [
        InboxRow(
            id=row.id,
            kind=row.kind,
            created_at=row.created_at,
            read=row.read_at is not None,
            urgent=row.urgent,
            reference=row.reference if row.case_id in reach else None,
            case_gone=row.case_id is not None and row.case_id not in reach,
            deadline_code=row.code,
            mechanism_id=row.mechanism_id,
        )
        for row in page
    ]
    return InboxPage(rows, page[-1].id if len(found) > limit else None)


def in_reach(ctx: Context, user: User, case_ids: set[int]) -> set[int]:
    """Which of the cases the user has a part in now (`actors.acts_on_case`, for many
    cases in one query)."""
    if not case_ids:
        return set()
    if user.role is Role.REVIEWER:
        query = select(Assignment.case_id).where(
            Assignment.case_id.in_(case_ids),
            Assignment.reviewer_id == user.id,
            Assignment.ended_at.is_(None),
        )
    elif user.role is Role.SECRETARIAT:
        query = (
            select(Case.id)
            .join(
                secretariat_membership,
                secretariat_membership.c.mechanism_id == Case.mechanism_id,
            )
            .where(Case.id.in_(case_ids), secretariat_membership.c.user_id == user.id)
        )
    elif user.role is Role.COMPANY and user.company_id is not None:
        query = select(Involvement.case_id).where(
            Involvement.case_id.in_(case_ids),
            Involvement.company_id == user.company_id,
            Involvement.superseded_at.is_(None),
        )
    else:
        return set()
    return set(ctx.session.scalars(query))


def unread_count(ctx: Context, user_id: int) -> int:
    """How many are unread, counted up to UNREAD_CAP + 1 (shown as "99+")."""
    unread = (
        select(StaffNotification.id)
        .where(StaffNotification.user_id == user_id, StaffNotification.read_at.is_(None))
        .limit(UNREAD_CAP + 1)
        .subquery()
    )
    return int(ctx.session.scalar(select(func.count()).select_from(unread)) or 0)


def own(ctx: Context, user: User, notification_id: int) -> StaffNotification | None:
    """The user's own notification, or None (whether another's exists or not)."""
    return ctx.session.scalar(
        select(StaffNotification).where(
            StaffNotification.id == notification_id, StaffNotification.user_id == user.id
        )
    )


def mark_read(ctx: Context, user: User, notification_id: int) -> StaffNotification | None:
    notification = own(ctx, user, notification_id)
    if notification is not None and notification.read_at is None:
        notification.read_at = ctx.now()
        ctx.session.flush()
    return notification


def mark_all_read(ctx: Context, user: User, up_to: int) -> int:
    """Everything up to the newest the user was shown (what came since stays unread)."""
    result = ctx.session.execute(
        update(StaffNotification)
        .where(
            StaffNotification.user_id == user.id,
            StaffNotification.read_at.is_(None),
            StaffNotification.id <= up_to,
        )
        .values(read_at=ctx.now())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def email_languages() -> tuple[str, ...]:
    return tuple(language.code for language in default_policy().language)


def set_preferences(ctx: Context, user: User, mode: EmailMode, language: str) -> None:
    """How and in which language the user is e-mailed. Security notices and urgent cases
    still go at once."""
    if language not in email_languages():
        raise InvalidInput({"language": Code.UNKNOWN})
    user.email_mode = mode
    user.language = language
    ctx.session.flush()
    audit.info("user %d chose e-mails %s in %s", user.id, mode.value, language)
