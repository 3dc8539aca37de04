"""Two-way messages between complainant and reviewers, the outbox, and attachments."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from grievance.models.base import Base, enum_type
from grievance.models.case import Channel


class Direction(enum.StrEnum):
    FROM_COMPLAINANT = "from_complainant"
    TO_COMPLAINANT = "to_complainant"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Message(Base):
    __tablename__ = "message"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), index=True)
    complainant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("complainant.id"))
    direction: Mapped[Direction] = mapped_column(enum_type(Direction))
    channel: Mapped[Channel] = mapped_column(enum_type(Channel))
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    body_enc: Mapped[bytes]
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class Translation(Base):
    """A reviewer's translation of the statement (no message, no event), of a message, or
    of a decision's reasons (the case-log event that gave them, by its `seq`), kept beside
    the original, which is never changed: who translated, into what, and when."""

    __tablename__ = "translation"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("message.id"))
    #: The case-log event whose reasons this translates (its `seq` in the case's chain).
    event_seq: Mapped[int | None] = mapped_column(default=None)
    language: Mapped[str] = mapped_column(sa.String(16))
    text_enc: Mapped[bytes]
    translator_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime]


class OutboundMessage(Base):
    """The outbox: every SMS or e-mail to a complainant, drained by the scheduler."""

    __tablename__ = "outbound_message"
    __table_args__ = (
        sa.Index("ix_outbound_message_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case.id"), index=True)
    complainant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("complainant.id"))
    message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("message.id"))
    #: The conversation a dialogue reply belongs to (its number is sealed there).
    conversation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("sms_conversation.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[Channel] = mapped_column(enum_type(Channel))
    #: HMAC of the recipient's number: the opt-out is checked by it before each send.
    handle: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    #: The recipient's address and the text, sealed (see `services.outbox`); both are
    #: emptied once the row is final (sent, failed or cancelled).
    address_enc: Mapped[bytes | None]
    body_enc: Mapped[bytes]
    #: Sent even to a number that opted out: the STOP confirmation and HELP answers.
    despite_opt_out: Mapped[bool] = mapped_column(default=False)
    #: How the text goes out: "gsm7" or "ucs2", and in how many segments.
    encoding: Mapped[str | None] = mapped_column(sa.String(8))
    segments: Mapped[int | None]
    status: Mapped[OutboxStatus] = mapped_column(enum_type(OutboxStatus))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    provider_sid: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    last_error_code: Mapped[str | None] = mapped_column(sa.String(16))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class Attachment(Base):
    """A file given with a complaint, a message or a remedy report.

    The name and the content are sealed under the case's data key (DESIGN §5), so
    erasing the case's identities makes them unreadable too. The content is a deferred
    column: lists of attachments never load it.
    """

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("message.id"), index=True)
    remedy_action_id: Mapped[int | None] = mapped_column(sa.ForeignKey("remedy_action.id"))
    #: Evidence a company gave with its report on an obligation (#13): the company's and
    #: the mechanism's, never shown to the complainant.
    obligation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("obligation.id"))
    filename_enc: Mapped[bytes]
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int]
    content_enc: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    uploaded_by_role: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime]


class PendingUpload(Base):
    """A checked file kept while its form comes back with an error, so nothing attached is
    lost. Sealed under a key that only the form holds (in a hidden field); the server
    alone cannot open it. Deleted once filed, or after a day."""

    __tablename__ = "pending_upload"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    filename_enc: Mapped[bytes]
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int]
    content_enc: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
