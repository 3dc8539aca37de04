"""E-mail: the mail outbox the worker drains, and how staff want to hear of notifications.

No mail holds case content (see `grievance.services.mailbox`): a row says what to tell,
to whom and in which language; its text is written when it is sent. The recipient's
address is sealed in the row and emptied once the row is final.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from grievance.models.base import Base, enum_type
from grievance.models.message import OutboxStatus


class EmailMode(enum.StrEnum):
    """When a staff user is e-mailed about their notifications (urgent cases and security
    notices go at once in every mode)."""

    IMMEDIATE = "immediate"
    DIGEST = "digest"
    URGENT_ONLY = "urgent_only"


class MailKind(enum.StrEnum):
    #: One notification to a staff user (`topic`: its kind).
    NOTIFICATION = "notification"
    #: A staff user's notifications of one day (`digest_day`).
    DIGEST = "digest"
    #: A short notice to a complainant who chose e-mail (`topic`: what happened).
    COMPLAINANT = "complainant"


class MailMessage(Base):
    """One e-mail to send: a row of the mail outbox."""

    __tablename__ = "mail_outbox"
    __table_args__ = (
        sa.Index("ix_mail_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        # One digest a day per user, whichever worker makes it.
        sa.UniqueConstraint("user_id", "digest_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MailKind] = mapped_column(enum_type(MailKind))
    #: What happened: a notification's kind, or a complainant notice's topic.
    topic: Mapped[str] = mapped_column(sa.String(40))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case.id"), index=True)
    complainant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("complainant.id"))
    digest_day: Mapped[date | None]
    #: The language the mail is written in (the user's or the complainant's).
    language: Mapped[str] = mapped_column(sa.String(16))
    #: The recipient's address, sealed (`grievance.crypto.derived`); emptied once final.
    address_enc: Mapped[bytes | None]
    status: Mapped[OutboxStatus] = mapped_column(enum_type(OutboxStatus))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    #: What went wrong last: an SMTP reply code or a word ("refused", "interrupted"),
    #: never the server's text (it may name the address).
    last_error: Mapped[str | None] = mapped_column(sa.String(32))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
