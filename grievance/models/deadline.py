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
    #: The time limit's code in the policy, e.g. "acknowledge".
    code: Mapped[str] = mapped_column(sa.String(40))
    opened_at: Mapped[datetime]
    due_at: Mapped[datetime]
    state: Mapped[DeadlineState] = mapped_column(enum_type(DeadlineState))
    closed_at: Mapped[datetime | None]
    #: Set while the clock is paused (waiting for the complainant).
    paused_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(sa.Text, default="")

    notices: Mapped[list[DeadlineNotice]] = relationship(back_populates="deadline")


class DeadlineNotice(Base):
    """A reminder or escalation, recorded once per deadline by a constraint."""

    __tablename__ = "deadline_notice"
    __table_args__ = (sa.UniqueConstraint("deadline_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deadline_id: Mapped[int] = mapped_column(sa.ForeignKey("deadline.id"))
    kind: Mapped[NoticeKind] = mapped_column(enum_type(NoticeKind))
    created_at: Mapped[datetime]

    deadline: Mapped[Deadline] = relationship(back_populates="notices")
