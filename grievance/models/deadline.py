"""Deadlines as rows (DESIGN invariant 5): the scheduler sweeps only what is due."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grievance.models.base import Base, enum_type


class DeadlineState(enum.StrEnum):
    OPEN = "open"
    MET = "met"
    MISSED = "missed"
    WAIVED = "waived"


class NoticeKind(enum.StrEnum):
    REMINDER = "reminder"
    ESCALATION = "escalation"


class Deadline(Base):
    __tablename__ = "deadline"
    __table_args__ = (
        sa.Index("ix_deadline_state_due_at", "state", "due_at"),
        # The sweep seeks straight to what is due (equality on the first three columns, a
        # range on the time): its cost follows the due rows, not the total.
        sa.Index("ix_deadline_reminder_due", "state", "reminded_at", "paused_at", "remind_at"),
        sa.Index("ix_deadline_escalation_due", "state", "escalated_at", "paused_at", "due_at"),
        # The satisfaction checks seek to their own code's open rows by reminder time.
        sa.Index("ix_deadline_code_state_remind_at", "code", "state", "remind_at"),
        # The secretariat's overview (services/overview.py) seeks to its mechanisms' open
        # deadlines by due time, not through every mechanism's.
        sa.Index("ix_deadline_mechanism_state_due_at", "mechanism_id", "state", "due_at"),
        sa.Index(
            "uq_deadline_open_code",
            "case_id",
            "code",
            unique=True,
            sqlite_where=sa.text("state = 'open'"),
            postgresql_where=sa.text("state = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), index=True)
    #: The case's mechanism (it never changes), filled from the case when a deadline is
    #: written without it (`_fill_mechanism`): the overview's index.
    mechanism_id: Mapped[int | None] = mapped_column(sa.ForeignKey("mechanism.id"))
    #: The time limit's code in the policy, e.g. "acknowledge".
    code: Mapped[str] = mapped_column(sa.String(40))
    opened_at: Mapped[datetime]
    due_at: Mapped[datetime]
    #: When the assigned reviewers are reminded (a share of the time, from the policy).
    remind_at: Mapped[datetime]
    reminded_at: Mapped[datetime | None]
    #: When the breach was escalated to the secretariat.
    escalated_at: Mapped[datetime | None]
    #: Days added by extensions, each with its reasons in the case log.
    extended_days: Mapped[int] = mapped_column(default=0)
    state: Mapped[DeadlineState] = mapped_column(enum_type(DeadlineState))
    closed_at: Mapped[datetime | None]
    #: Set while the clock is paused (waiting for the complainant).
    paused_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(sa.Text, default="")

    notices: Mapped[list[DeadlineNotice]] = relationship(back_populates="deadline")


@sa.event.listens_for(Deadline, "before_insert")
def _fill_mechanism(_mapper: object, connection: sa.Connection, target: Deadline) -> None:
    if target.mechanism_id is None:
        target.mechanism_id = connection.scalar(
            sa.text('SELECT mechanism_id FROM "case" WHERE id = :id'), {"id": target.case_id}
        )


class DeadlineNotice(Base):
    """A reminder or escalation, recorded once per deadline by a constraint."""

    __tablename__ = "deadline_notice"
    __table_args__ = (sa.UniqueConstraint("deadline_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deadline_id: Mapped[int] = mapped_column(sa.ForeignKey("deadline.id"))
    kind: Mapped[NoticeKind] = mapped_column(enum_type(NoticeKind))
    created_at: Mapped[datetime]

    deadline: Mapped[Deadline] = relationship(back_populates="notices")


class TaskState(enum.StrEnum):
    OPEN = "open"
    DONE = "done"


class MechanismTask(Base):
    """A mechanism's own recurring duty, such as the yearly effectiveness review (R24)."""

    __tablename__ = "mechanism_task"
    __table_args__ = (
        sa.Index(
            "uq_mechanism_task_open",
            "mechanism_id",
            "kind",
            unique=True,
            sqlite_where=sa.text("state = 'open'"),
            postgresql_where=sa.text("state = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mechanism_id: Mapped[int] = mapped_column(sa.ForeignKey("mechanism.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    state: Mapped[TaskState] = mapped_column(enum_type(TaskState))
    opened_at: Mapped[datetime]
    due_at: Mapped[datetime]
    #: When the secretariat was told it is due (once).
    notified_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    note: Mapped[str] = mapped_column(sa.Text, default="")


class StaffNotification(Base):
    """Something a staff user must know (`grievance.services.notifications`): shown in
    their inbox, e-mailed at once or in the day's digest as they chose."""

    __tablename__ = "staff_notification"
    __table_args__ = (
        sa.Index("ix_staff_notification_user_id_read_at", "user_id", "read_at"),
        # The inbox: a user's notifications, newest first, in keyset pages.
        sa.Index("ix_staff_notification_user_id_id", "user_id", "id"),
        # The digest job seeks to what waits for a digest, by user and time.
        sa.Index(
            "ix_staff_notification_digest_pending",
            "user_id",
            "created_at",
            sqlite_where=sa.text("digest_pending"),
            postgresql_where=sa.text("digest_pending"),
        ),
        sa.Index(
            "uq_staff_notification_deadline",
            "user_id",
            "deadline_id",
            "kind",
            unique=True,
            sqlite_where=sa.text("deadline_id IS NOT NULL"),
            postgresql_where=sa.text("deadline_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    kind: Mapped[str] = mapped_column(sa.String(40))
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case.id"), index=True)
    deadline_id: Mapped[int | None] = mapped_column(sa.ForeignKey("deadline.id"))
    task_id: Mapped[int | None] = mapped_column(sa.ForeignKey("mechanism_task.id"))
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
    #: About an urgent case, or a security notice: e-mailed at once in every mode.
    urgent: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: Waits for the day's digest (the user chose one when it was made).
    digest_pending: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: The e-mail that told of it at once, and the digest that listed it.
    mail_id: Mapped[int | None] = mapped_column(sa.ForeignKey("mail_outbox.id"))
    digest_mail_id: Mapped[int | None] = mapped_column(sa.ForeignKey("mail_outbox.id"))


class SatisfactionQuestion(Base):
    """The satisfaction check put to one complainant (R21): asked once per deadline and
    complainant (a constraint: two workers at once ask once), on their channel."""

    __tablename__ = "satisfaction_question"
    __table_args__ = (sa.UniqueConstraint("deadline_id", "complainant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), index=True)
    complainant_id: Mapped[int] = mapped_column(sa.ForeignKey("complainant.id"))
    deadline_id: Mapped[int] = mapped_column(sa.ForeignKey("deadline.id"))
    #: "sms" or "whatsapp" when texted; "web" when it waits on the follow-up page;
    #: "email" when it waits there and the complainant was told so by e-mail.
    channel: Mapped[str] = mapped_column(sa.String(16))
    asked_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
