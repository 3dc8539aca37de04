"""Company involvement (OECD: cause, contribute, directly linked), the obligations it
derives, and the remedy actions companies report."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grievance.models.base import Base, enum_type

if TYPE_CHECKING:
    from grievance.models.case import Case
    from grievance.models.company import Company


class InvolvementKind(enum.StrEnum):
    CAUSE = "cause"
    CONTRIBUTE = "contribute"
    LINKED = "linked"


class ObligationStatus(enum.StrEnum):
    OPEN = "open"
    FULFILLED = "fulfilled"
    NOT_FULFILLED = "not_fulfilled"
    SUPERSEDED = "superseded"  # the involvement was reclassified


class Leverage(enum.StrEnum):
    """Whether the company holds leverage over the entity that causes the harm (UNGP 19):
    the policy's conditional obligations follow it."""

    HELD = "held"
    LACKING = "lacking"
    UNKNOWN = "unknown"


class InvolvementProposalState(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class RemedyStatus(enum.StrEnum):
    #: A company's proposal, not in the plan until a reviewer takes it in.
    PROPOSED = "proposed"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    ABANDONED = "abandoned"
    #: A company's proposal the reviewers did not take into the plan.
    DECLINED = "declined"


class ComplainantResponse(enum.StrEnum):
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"


class Involvement(Base):
    """One version of a company's involvement in a case (R18).

    A company named in a case starts unclassified (`kind` is NULL); every
    reclassification supersedes the current row and adds a new version.
    """

    __tablename__ = "involvement"
    __table_args__ = (
        sa.UniqueConstraint("case_id", "company_id", "version"),
        sa.Index(
            "uq_involvement_current",
            "case_id",
            "company_id",
            unique=True,
            sqlite_where=sa.text("superseded_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL"),
        ),
        # The company portal's case list: a company's cases, newest first, in keyset pages.
        sa.Index(
            "ix_involvement_company_current",
            "company_id",
            "case_id",
            sqlite_where=sa.text("superseded_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), index=True)
    company_id: Mapped[int] = mapped_column(sa.ForeignKey("company.id"), index=True)
    kind: Mapped[InvolvementKind | None] = mapped_column(enum_type(InvolvementKind))
    rationale: Mapped[str] = mapped_column(sa.Text, default="")
    leverage: Mapped[Leverage | None] = mapped_column(enum_type(Leverage))
    #: The reclassification trigger from the policy's list (None for a first one).
    trigger: Mapped[str | None] = mapped_column(sa.String(60))
    version: Mapped[int] = mapped_column(default=1)
    #: The reviewer who proposed it; `decided_by_id` is the second, who confirmed it.
    proposed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime]
    superseded_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship(back_populates="involvements")
    #: Loaded with the involvement (a join): pages list a case's companies by name, and
    #: a lazy load would be one query per company (tests/integration/test_query_budgets).
    company: Mapped[Company] = relationship(lazy="joined", innerjoin=True)
    obligations: Mapped[list[Obligation]] = relationship(
        back_populates="involvement", order_by="Obligation.id"
    )


class InvolvementProposal(Base):
    """A classification proposed by one reviewer of the case, waiting for a second one
    (four eyes): confirmed, it becomes the company's current `Involvement`."""

    __tablename__ = "involvement_proposal"
    __table_args__ = (
        sa.Index(
            "uq_involvement_proposal_pending",
            "case_id",
            "company_id",
            unique=True,
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), index=True)
    company_id: Mapped[int] = mapped_column(sa.ForeignKey("company.id"))
    kind: Mapped[InvolvementKind] = mapped_column(enum_type(InvolvementKind))
    leverage: Mapped[Leverage] = mapped_column(enum_type(Leverage))
    rationale: Mapped[str] = mapped_column(sa.Text)
    trigger: Mapped[str | None] = mapped_column(sa.String(60))
    state: Mapped[InvolvementProposalState] = mapped_column(enum_type(InvolvementProposalState))
    proposed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    proposed_at: Mapped[datetime]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(sa.Text, default="")

    company: Mapped[Company] = relationship(lazy="joined", innerjoin=True)


class Obligation(Base):
    """What a company must do, derived from its involvement by the policy tables.

    The company reports it fulfilled or not (`reported_status`, with its reasons); the
    status changes only when a reviewer verifies the report (`services.obligations`)."""

    __tablename__ = "obligation"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), index=True)
    company_id: Mapped[int] = mapped_column(sa.ForeignKey("company.id"), index=True)
    involvement_id: Mapped[int] = mapped_column(sa.ForeignKey("involvement.id"))
    code: Mapped[str] = mapped_column(sa.String(60))
    requirement: Mapped[str] = mapped_column(sa.String(60))
    due_at: Mapped[datetime | None]
    status: Mapped[ObligationStatus] = mapped_column(enum_type(ObligationStatus))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    #: The company's report, waiting for a reviewer's verification.
    reported_status: Mapped[ObligationStatus | None] = mapped_column(
        enum_type(ObligationStatus, "reported_obligationstatus")
    )
    report: Mapped[str] = mapped_column(sa.Text, default="")
    reported_at: Mapped[datetime | None]
    reported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    verified_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    verified_at: Mapped[datetime | None]

    involvement: Mapped[Involvement] = relationship(back_populates="obligations")
    company: Mapped[Company] = relationship()


class RemedyAction(Base):
    """One item of a remedy plan, typed by the remedy vocabulary of the policy."""

    __tablename__ = "remedy_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), index=True)
    company_id: Mapped[int | None] = mapped_column(sa.ForeignKey("company.id"), index=True)
    obligation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("obligation.id"))
    #: The plan the item belongs to (grievance.models.remedy.RemedyPlan).
    plan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("remedy_plan.id"), index=True)
    #: The responsible company's share of the item, in per cent (None: not shared out).
    share_percent: Mapped[int | None]
    #: How many people benefit (groups in `beneficiaries`; never an identity).
    beneficiary_count: Mapped[int | None]
    #: Who put the item forward: a reviewer, or the responsible company.
    proposed_by_role: Mapped[str] = mapped_column(sa.String(16), default="reviewer")
    remedy_type: Mapped[str] = mapped_column(sa.String(40))
    description: Mapped[str] = mapped_column(sa.Text)
    beneficiaries: Mapped[str] = mapped_column(sa.Text, default="")
    due_on: Mapped[date | None]
    agreed_with_complainant: Mapped[bool] = mapped_column(default=False)
    status: Mapped[RemedyStatus] = mapped_column(enum_type(RemedyStatus))
    verified_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    verified_at: Mapped[datetime | None]
    complainant_response: Mapped[ComplainantResponse | None] = mapped_column(
        enum_type(ComplainantResponse)
    )
    complainant_response_at: Mapped[datetime | None]
    #: The channel of the complainant's answer (web, api, sms).
    complainant_response_channel: Mapped[str | None] = mapped_column(sa.String(16))
    created_at: Mapped[datetime]

    company: Mapped[Company | None] = relationship()
