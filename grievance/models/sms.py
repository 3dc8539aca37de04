"""SMS and WhatsApp conversations, the inbound messages they are made of, and opt-outs.

A phone number is never stored in clear: rows are found by its `handle`, the HMAC of the
E.164 number under the key ring's HMAC key (the same value as `Complainant.phone_lookup`),
and the number itself is sealed (`grievance.crypto.derived`) where a reply needs it.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from grievance.models.base import Base, enum_type
from grievance.models.case import Channel


class SmsConversation(Base):
    """One phone number's dialogue (`intake.sms.dialogue.Conversation`), sealed."""

    __tablename__ = "sms_conversation"

    id: Mapped[int] = mapped_column(primary_key=True)
    handle: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: The channel of the last message: replies go back on it.
    channel: Mapped[Channel] = mapped_column(enum_type(Channel))
    mechanism_id: Mapped[int] = mapped_column(sa.ForeignKey("mechanism.id"))
    #: The number (E.164), sealed under the conversations' derived key.
    address_enc: Mapped[bytes]
    #: The dialogue's state (the statement so far included), sealed likewise.
    state_enc: Mapped[bytes]
    #: A copy of the state's stage, for counts and the sweep.
    stage: Mapped[str] = mapped_column(sa.String(16))
    #: The case this number's messages go to, once filed or attached.
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case.id"), index=True)
    complainant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("complainant.id"))
    #: When silence next changes something (`dialogue.tick`); None when nothing waits.
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    #: Receipt codes tried from this number in the current hour (they cost an Argon2id
    #: hash each): at most `MAX_CODE_ATTEMPTS` an hour.
    code_attempts: Mapped[int] = mapped_column(default=0)
    code_window_started_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class InboundSms(Base):
    """An inbound message as the webhook received it, until the worker has read it.

    `provider_sid` is unique: a webhook Twilio retries, to this worker or another, finds
    its message already recorded and records nothing. The body is sealed and emptied once
    read; the row stays a while so that late retries are still recognised.
    """

    __tablename__ = "inbound_sms"
    __table_args__ = (sa.Index("ix_inbound_sms_pending", "processed_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_sid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    handle: Mapped[str] = mapped_column(sa.String(64), index=True)
    channel: Mapped[Channel] = mapped_column(enum_type(Channel))
    address_enc: Mapped[bytes]
    body_enc: Mapped[bytes]
    #: The number the person wrote to (ours), to find the mechanism.
    to_number: Mapped[str] = mapped_column(sa.String(40))
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]


class SmsOptOut(Base):
    """A number that said STOP (or that Twilio reported as opted out, error 21610):
    nothing is sent to it until it says START."""

    __tablename__ = "sms_opt_out"

    handle: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    opted_out_at: Mapped[datetime]
    #: "keyword" (the person said STOP) or "provider" (Twilio refused with 21610).
    source: Mapped[str] = mapped_column(sa.String(16))
