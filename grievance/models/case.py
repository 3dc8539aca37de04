"""The case aggregate: the grievance, its complainants, reviewers and pending decisions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from grievance.models.base import Base, enum_type

if TYPE_CHECKING:
    from grievance.models.company import Site
    from grievance.models.event import CaseEvent
    from grievance.models.involvement import Involvement
    from grievance.models.mechanism import Mechanism
    from grievance.models.user import User


class Stage(enum.StrEnum):
    """The stages of DESIGN §4; the allowed moves are in `grievance.services.lifecycle`."""

    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    ADMISSIBILITY = "admissibility"
    DIALOGUE = "dialogue"
    INVESTIGATION = "investigation"
    FINDINGS = "findings"
    REMEDY_PLAN = "remedy_plan"
    REMEDY_IMPLEMENTATION = "remedy_implementation"
    REMEDY_VERIFICATION = "remedy_verification"
    APPEAL = "appeal"
    INADMISSIBLE = "inadmissible"
    REFERRED = "referred"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"


#: Stages in which a case has ended (an appeal may still reopen an inadmissible one).
ENDED_STAGES = frozenset({Stage.INADMISSIBLE, Stage.REFERRED, Stage.WITHDRAWN, Stage.CLOSED})


class Channel(enum.StrEnum):
    WEB = "web"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    VOICE = "voice"
    PHONE = "phone"  # a call taken by staff
    LETTER = "letter"
    IN_PERSON = "in_person"
    EMAIL = "email"
    API = "api"


class Anonymity(enum.StrEnum):
    ANONYMOUS = "anonymous"  # nobody knows who they are
    CONFIDENTIAL = "confidential"  # reviewers know, companies do not
    OPEN = "open"  # consented disclosure to the companies


class ComplainantKind(enum.StrEnum):
    """Who files (R03): the person harmed or someone on their behalf, or a notifier."""

    AFFECTED = "affected"
    REPRESENTATIVE = "representative"
    UNION = "union"
    CSO = "cso"
    NOTIFIER = "notifier"


class ContactChannel(enum.StrEnum):
    NONE = "none"  # follow-up only with the receipt code
    SMS = "sms"
    WHATSAPP = "whatsapp"
    EMAIL = "email"
    REPRESENTATIVE = "representative"


class ReprisalRisk(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class AssignmentRole(enum.StrEnum):
    LEAD = "lead"
    SECOND = "second"


class ProposalState(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    WITHDRAWN = "withdrawn"


class ReferenceCounter(Base):
    """The last reference number given per mechanism and year."""

    __tablename__ = "reference_counter"

    mechanism_id: Mapped[int] = mapped_column(sa.ForeignKey("mechanism.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class Case(Base):
    __tablename__ = "case"
    __table_args__ = (
        sa.Index("ix_case_mechanism_id_stage", "mechanism_id", "stage"),
        sa.Index("ix_case_queue", "mechanism_id", "queue_rank", "next_due_at", "id"),
        *(
            sa.CheckConstraint(f"{column} BETWEEN 1 AND 5", name=f"{column}_range")
            for column in (
                "severity_scale",
                "severity_scope",
                "severity_irremediability",
                "severity_likelihood",
            )
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(24), unique=True)
    mechanism_id: Mapped[int] = mapped_column(sa.ForeignKey("mechanism.id"))
    #: The mechanism policy version the case runs under (0: the shipped defaults).
    policy_version: Mapped[int] = mapped_column(default=0)
    channel: Mapped[Channel] = mapped_column(enum_type(Channel))
    language: Mapped[str] = mapped_column(sa.String(16))
    country: Mapped[str | None] = mapped_column(sa.String(2))
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("site.id"), index=True)
    urgent: Mapped[bool] = mapped_column(default=False)
    #: The case has reviewers and none of them reads the case's language (kept by the
    #: case service whenever a reviewer is assigned or unassigned).
    needs_interpreter: Mapped[bool] = mapped_column(default=False)
    #: The case's place in the reviewers' queue, lower first (R16, R17), kept by
    #: `services.queue.refresh_queue_rank` on filing and on every assessment:
    #: ``band * 1000 + (15 - severity) * 10 + (5 - likelihood)``, severity being
    #: scale + scope + irremediability (3-15), likelihood 1-5, and a case not yet assessed
    #: counting as 15 and 5. Band 0: irremediable if delayed (irremediability >= 4, a high
    #: reprisal risk, or urgent and not yet assessed); band 1: not yet assessed, ordinary;
    #: band 2: assessed, the rest. So 0 is an urgent case not yet assessed, 1000 an
    #: ordinary new case, 2124 the mildest assessed one.
    queue_rank: Mapped[int] = mapped_column(default=0)
    #: Since when a role of the case (lead or second) stays empty because no reviewer can
    #: take it, and why (`routing.unrouted_reason`: how many reviewers are full, in
    #: conflict, unavailable or left the case, e.g. "at_capacity:3 conflict:2"); both None
    #: once both roles are filled. Kept by routing, shown to the secretariat.
    unrouted_since: Mapped[datetime | None] = mapped_column(index=True)
    unrouted_reason: Mapped[str | None] = mapped_column(sa.String(200))
    #: The earliest due time of the case's open, running (not paused) deadlines, None
    #: when none runs (kept by the deadline service): the queue's second key.
    next_due_at: Mapped[datetime | None]
    stage: Mapped[Stage] = mapped_column(enum_type(Stage), index=True)
    stage_entered_at: Mapped[datetime]
    received_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    #: Set while the mechanism waits for the complainant: pausable time limits stop.
    clock_paused_at: Mapped[datetime | None]

    severity_scale: Mapped[int | None]
    severity_scope: Mapped[int | None]
    severity_irremediability: Mapped[int | None]
    severity_likelihood: Mapped[int | None]
    reprisal_risk: Mapped[ReprisalRisk | None] = mapped_column(enum_type(ReprisalRisk))

    # The complainant's own words, as written, encrypted under the case's data key.
    statement_enc: Mapped[bytes]
    location_enc: Mapped[bytes | None]
    companies_enc: Mapped[bytes | None]
    occurred_enc: Mapped[bytes | None]

    published: Mapped[bool] = mapped_column(default=False)
    legal_hold: Mapped[bool] = mapped_column(default=False)
    identities_erased_at: Mapped[datetime | None]

    #: The head of the hash chain: how many events, and the last one's hash.
    event_count: Mapped[int] = mapped_column(default=0)
    log_head: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    mechanism: Mapped[Mechanism] = relationship()
    site: Mapped[Site | None] = relationship()
    themes: Mapped[list[CaseTheme]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseTheme.theme"
    )
    complainants: Mapped[list[Complainant]] = relationship(
        back_populates="case", order_by="Complainant.id"
    )
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="case", order_by="Assignment.id"
    )
    involvements: Mapped[list[Involvement]] = relationship(
        back_populates="case", order_by="Involvement.id"
    )
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.seq", viewonly=True
    )

    @property
    def theme_codes(self) -> list[str]:
        return [theme.theme for theme in self.themes]

    @property
    def has_ended(self) -> bool:
        return self.stage in ENDED_STAGES


class CaseTheme(Base):
    __tablename__ = "case_theme"

    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), primary_key=True)
    theme: Mapped[str] = mapped_column(sa.String(40), primary_key=True, index=True)

    case: Mapped[Case] = relationship(back_populates="themes")


class Complainant(Base):
    """A person (or their representative) behind a case. Every identifying field is
    encrypted; the receipt code and the phone number are found again through hashes."""

    __tablename__ = "complainant"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), index=True)
    anonymity: Mapped[Anonymity] = mapped_column(enum_type(Anonymity))
    kind: Mapped[ComplainantKind] = mapped_column(enum_type(ComplainantKind))
    language: Mapped[str] = mapped_column(sa.String(16))
    contact_channel: Mapped[ContactChannel] = mapped_column(enum_type(ContactChannel))
    name_enc: Mapped[bytes | None]
    details_enc: Mapped[bytes | None]
    represents_enc: Mapped[bytes | None]
    contact_enc: Mapped[bytes | None]
    #: HMAC of the normalised phone number, to thread later messages (DESIGN §5).
    phone_lookup: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    #: Argon2id of the receipt code's HMAC under the pepper, with the salt and cost of
    #: its receipt scheme: the lookup key (`services.receipts`).
    receipt_lookup: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: The receipt scheme the code was hashed with; None when no code opens the case
    #: (codes issued before receipt schemes, synthetic cases).
    receipt_scheme_version: Mapped[int | None] = mapped_column(
        sa.ForeignKey("receipt_scheme.version"), index=True
    )
    created_at: Mapped[datetime]
    erased_at: Mapped[datetime | None]
    #: The e-mail address was refused for good (an SMTP 5xx at RCPT): nothing more is
    #: sent to it, and the reviewers see that the channel failed.
    contact_failed_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship(back_populates="complainants")
    consents: Mapped[list[Consent]] = relationship(
        back_populates="complainant", order_by="Consent.id"
    )


class Consent(Base):
    """One consent, asked separately for each use; a withdrawal keeps the record."""

    __tablename__ = "consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    complainant_id: Mapped[int] = mapped_column(sa.ForeignKey("complainant.id"), index=True)
    purpose: Mapped[str] = mapped_column(sa.String(40))
    granted: Mapped[bool]
    recorded_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]

    complainant: Mapped[Complainant] = relationship(back_populates="consents")


class Assignment(Base):
    """A reviewer on a case, as lead or second; ended on recusal or reassignment."""

    __tablename__ = "assignment"
    __table_args__ = (
        sa.Index(
            "uq_assignment_active_role",
            "case_id",
            "role",
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        ),
        sa.Index(
            "uq_assignment_active_reviewer",
            "case_id",
            "reviewer_id",
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        ),
        # The reviewer's workspace queue starts from their current cases
        # (services/workspace.py): an index of exactly those, case id included.
        sa.Index(
            "ix_assignment_active_reviewer",
            "reviewer_id",
            "case_id",
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        ),
        # Routing's load (services/routing.py): each reviewer's open assignments on cases
        # that have not ended, counted from this index alone.
        sa.Index(
            "ix_assignment_open_load",
            "reviewer_id",
            sqlite_where=sa.text("ended_at IS NULL AND case_open"),
            postgresql_where=sa.text("ended_at IS NULL AND case_open"),
        ),
        # Every assignment of a case, ended ones included (who left it: routing).
        sa.Index("ix_assignment_case_id", "case_id"),
        # The reviewer's queue (services/workspace.py) in its order, from the index alone:
        # a page at any depth reads its rows and no more.
        sa.Index(
            "ix_assignment_queue",
            "reviewer_id",
            "queue_rank",
            "next_due_at",
            "case_id",
            sqlite_where=sa.text("ended_at IS NULL AND case_open"),
            postgresql_where=sa.text("ended_at IS NULL AND case_open"),
            postgresql_include=["role"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"))
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    role: Mapped[AssignmentRole] = mapped_column(enum_type(AssignmentRole))
    #: The routing score and its reasons, as recorded in the case log.
    reasons: Mapped[dict[str, Any]] = mapped_column(default=dict)
    assigned_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(sa.String(40))
    #: The case has not ended (`Case.has_ended`): kept by `assignments.place_reviewer` and
    #: `cases` on every stage change, so routing counts loads without reading `case`.
    case_open: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    #: The case's queue keys (`Case.queue_rank`, `Case.next_due_at`), copied at each
    #: flush that changes them (`_mirror_queue_keys`): the queue's order.
    queue_rank: Mapped[int] = mapped_column(default=0, server_default="0")
    next_due_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship(back_populates="assignments")
    reviewer: Mapped[User] = relationship()


@sa.event.listens_for(Session, "after_flush")
def _mirror_queue_keys(session: Session, _context: object) -> None:
    """Copy the queue keys of every case whose `queue_rank` or `next_due_at` this flush
    changed to its current assignments (`Assignment.queue_rank`, `.next_due_at`), whoever
    changed them: the reviewer's queue is read in their order from `ix_assignment_queue`."""
    for item in session.dirty:
        if not isinstance(item, Case):
            continue
        state = sa.inspect(item)
        if not (
            state.attrs.queue_rank.history.has_changes()
            or state.attrs.next_due_at.history.has_changes()
        ):
            continue
        session.connection().execute(
            sa.update(Assignment)
            .where(Assignment.case_id == item.id, Assignment.ended_at.is_(None))
            .values(queue_rank=item.queue_rank, next_due_at=item.next_due_at)
        )


class ReviewerLoad(Base):
    """Changes to a reviewer's load (open assignments on cases that have not ended), one
    row per change: written beside each change in its own transaction, never updated, so
    filings routed at once never wait for each other's reviewers. The worker folds them
    into one row per reviewer (`services.loads`): a load is the sum of its rows."""

    __tablename__ = "reviewer_load"

    id: Mapped[int] = mapped_column(primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    delta: Mapped[int]


class DecisionProposal(Base):
    """A decision that ends or narrows a case, waiting for the second reviewer."""

    __tablename__ = "decision_proposal"
    __table_args__ = (
        sa.Index(
            "uq_decision_proposal_pending",
            "case_id",
            unique=True,
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), index=True)
    to_stage: Mapped[Stage] = mapped_column(enum_type(Stage))
    reason: Mapped[str] = mapped_column(sa.Text)
    #: The language the reasons are written in ("": not known).
    reason_language: Mapped[str] = mapped_column(sa.String(16), default="", server_default="")
    state: Mapped[ProposalState] = mapped_column(enum_type(ProposalState))
    proposed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    proposed_at: Mapped[datetime]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    decided_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship()
