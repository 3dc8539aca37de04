"""The remedy plan of a case (R19): its items are `RemedyAction` rows; the plan holds the
complainant's consultation answer and the two reviewers' approval, and the closing
override two reviewers may take with reasons. Companies report progress on their items
in `RemedyReport` rows (evidence files are `Attachment` rows of the item)."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from grievance.models.base import Base, enum_type


class PlanState(enum.StrEnum):
    #: Reviewers draft items and companies propose them.
    DRAFT = "draft"
    #: The complainant was asked about this version of the plan.
    CONSULTING = "consulting"
    #: A reviewer proposed approval; a second one confirms.
    APPROVAL_PROPOSED = "approval_proposed"
    APPROVED = "approved"


class ConsultationAnswer(enum.StrEnum):
    AGREE = "agree"
    DISAGREE = "disagree"
    TALK = "talk"


class RemedyPlan(Base):
    """One case's remedy plan. `version` counts the changes to its items: the complainant's
    answer counts only for the version they were shown (`consulted_version`)."""

    __tablename__ = "remedy_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), unique=True)
    state: Mapped[PlanState] = mapped_column(enum_type(PlanState))
    version: Mapped[int] = mapped_column(default=1)
    consulted_version: Mapped[int | None]
    consultation_asked_at: Mapped[datetime | None]
    consultation_answer: Mapped[ConsultationAnswer | None] = mapped_column(
        enum_type(ConsultationAnswer)
    )
    consultation_channel: Mapped[str | None] = mapped_column(sa.String(16))
    consultation_answered_at: Mapped[datetime | None]
    #: The version the complainant was last asked about by text (the scheduler's job).
    texted_version: Mapped[int | None]
    approval_proposed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    approval_proposed_at: Mapped[datetime | None]
    approval_reason: Mapped[str] = mapped_column(sa.Text, default="")
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    approved_at: Mapped[datetime | None]
    #: Closing with remedy unverified or disputed: the first reviewer's reasons and the
    #: decision proposal they made; the second reviewer's reasons when they confirm.
    override_proposed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    override_proposal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("decision_proposal.id"))
    override_reason: Mapped[str] = mapped_column(sa.Text, default="")
    override_confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    override_second_reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime]


class RemedyReport(Base):
    """A company's report of progress on one of its remedy items."""

    __tablename__ = "remedy_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), index=True)
    remedy_action_id: Mapped[int] = mapped_column(sa.ForeignKey("remedy_action.id"), index=True)
    #: None: an item no company carries out, reported by a reviewer.
    company_id: Mapped[int | None] = mapped_column(sa.ForeignKey("company.id"))
    reported_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    note: Mapped[str] = mapped_column(sa.Text)
    completed: Mapped[bool] = mapped_column(default=False)
    attachment_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
