"""The SMS channel's rows, sealed: inbound messages and one conversation per number.

The phone number and the texts are sealed with a key derived from the key ring
(`grievance.crypto.derived`), bound to the row and the field; rows are found by the
number's HMAC, the handle.

- `record_inbound` is all the webhook does: one INSERT of the sealed message, unique by
  Twilio's `MessageSid` (a retry, to this worker or another, records nothing); once
  read the row is emptied (`mark_read`), kept a while to recognise late retries, then
  deleted (`forget_read_inbound`).
- `lock_conversation` finds (or makes) a number's conversation under its row lock;
  `load_state` and `save_state` open and seal the `dialogue.Conversation` it keeps.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from grievance.crypto import derived
from grievance.models import Channel, InboundSms, SmsConversation
from grievance.services import contacts
from grievance.services.context import Context
from intake.sms import dialogue, store
from intake.sms.dialogue import Conversation, DialogueConfig
from intake.sms.twilio import parse_address

# The SMS channel logs under one name, whichever of its modules writes the line.
log = logging.getLogger("intake.sms.conversations")

_INFO = b"grievance/sms/v1"
#: How long a read inbound row is kept to recognise Twilio's retries of it (hours, at most).
KEEP_READ_INBOUND = timedelta(days=7)


def _seal(ctx: Context, associated: str, value: str) -> bytes:
    return derived.seal(ctx.keyring, _INFO, associated, value.encode())


def _open(ctx: Context, associated: str, blob: bytes) -> str:
    return derived.open_sealed(ctx.keyring, _INFO, associated, blob).decode()


def _inbound_ad(sid: str, name: str) -> str:
    return f"grievance/v1|inbound_sms={sid}|field={name}"


def _conversation_ad(handle: str, name: str) -> str:
    return f"grievance/v1|sms_conversation={handle}|field={name}"


# -- inbound messages --------------------------------------------------------------------


def record_inbound(ctx: Context, *, provider_sid: str, sender: str, to: str, body: str) -> bool:
    """Record one inbound message for the worker; False if it was recorded before (a
    retried webhook) or does not come from a phone number."""
    parsed = parse_address(sender)
    if parsed is None:
        log.info("sms: a message from a sender that is not a phone number was ignored")
        return False
    channel, number = parsed
    provider_sid = provider_sid[:64]  # Twilio's are 34 characters; the column holds 64
    values = {
        "provider_sid": provider_sid,
        "handle": contacts.phone_handle(ctx, number),
        "channel": channel,
        "address_enc": _seal(ctx, _inbound_ad(provider_sid, "address"), number),
        "body_enc": _seal(ctx, _inbound_ad(provider_sid, "body"), body),
        "to_number": to.strip()[:40],
        "received_at": ctx.now(),
    }
    # One statement, no savepoint: the unique MessageSid makes a retry insert nothing.
    connection = ctx.session.connection()
    result = connection.execute(_insert_once(connection.dialect.name), values)
    return bool(result.rowcount)


@lru_cache(maxsize=2)
def _insert_once(dialect: str) -> Any:
    """INSERT … ON CONFLICT (provider_sid) DO NOTHING, built once (its compilation cached)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(InboundSms).on_conflict_do_nothing(index_elements=["provider_sid"])


def inbound_number(ctx: Context, inbound: InboundSms) -> str:
    return _open(ctx, _inbound_ad(inbound.provider_sid, "address"), inbound.address_enc)


def inbound_body(ctx: Context, inbound: InboundSms) -> str:
    return _open(ctx, _inbound_ad(inbound.provider_sid, "body"), inbound.body_enc)


def mark_read(ctx: Context, inbound: InboundSms) -> None:
    """Read: the number and the text go; the row stays to recognise retries."""
    inbound.processed_at = ctx.now()
    inbound.body_enc = b""
    inbound.address_enc = b""


def forget_read_inbound(ctx: Context, older_than: timedelta = KEEP_READ_INBOUND) -> int:
    """Delete inbound rows read longer ago than Twilio could still retry them (their text
    was emptied when read; the row only recognised retries). A job."""
    result = ctx.session.execute(
        delete(InboundSms).where(
            InboundSms.processed_at.is_not(None),
            InboundSms.processed_at < ctx.now() - older_than,
        )
    )
    ctx.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# -- conversations -----------------------------------------------------------------------


def lock_conversation(
    ctx: Context, handle: str, channel: Channel, number: str, mechanism_id: int
) -> SmsConversation | None:
    """The number's conversation, locked; made if new. None if another worker has it."""
    statement = (
        select(SmsConversation)
        .where(SmsConversation.handle == handle)
        .execution_options(populate_existing=True)
    )
    if ctx.session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    row = ctx.session.scalar(statement)
    if row is not None:
        return row
    exists_locked = ctx.session.scalar(
        select(func.count()).select_from(SmsConversation).where(SmsConversation.handle == handle)
    )
    if exists_locked:
        return None
    now = ctx.now()
    row = SmsConversation(
        handle=handle,
        channel=channel,
        mechanism_id=mechanism_id,
        address_enc=_seal(ctx, _conversation_ad(handle, "address"), number),
        state_enc=b"",
        stage=dialogue.Stage.START.value,
        created_at=now,
        updated_at=now,
    )
    try:
        with ctx.session.begin_nested():
            ctx.session.add(row)
    except IntegrityError:
        return None  # another worker made it just now; it takes these messages
    row.state_enc = _seal(
        ctx, _conversation_ad(handle, "state"), store.dump(Conversation(handle)).decode()
    )
    return row


def number(ctx: Context, row: SmsConversation) -> str:
    """The phone number the conversation answers."""
    return _open(ctx, _conversation_ad(row.handle, "address"), row.address_enc)


def keep_number(ctx: Context, row: SmsConversation, value: str) -> None:
    """Answer `value` from now on (the handle's number, written another way)."""
    if value != number(ctx, row):
        row.address_enc = _seal(ctx, _conversation_ad(row.handle, "address"), value)


def load_state(ctx: Context, row: SmsConversation) -> Conversation:
    return store.load(
        row.handle, _open(ctx, _conversation_ad(row.handle, "state"), row.state_enc).encode()
    )


def save_state(
    ctx: Context, row: SmsConversation, state: Conversation, config: DialogueConfig
) -> None:
    row.state_enc = _seal(ctx, _conversation_ad(row.handle, "state"), store.dump(state).decode())
    row.stage = state.stage.value
    row.due_at = next_due(state, config)
    row.updated_at = ctx.now()


def next_due(state: Conversation, config: DialogueConfig) -> datetime | None:
    """When silence next changes something for this conversation (see `dialogue.tick`)."""
    times = (
        [min(piece.arrived for piece in state.pieces) + config.piece_wait] if state.pieces else []
    )
    if state.last_activity is not None:
        if dialogue.pausing(state):
            times.append(state.last_activity + config.statement_pause)
        if state.stage in dialogue.INTAKE_STAGES:
            times.append(state.last_activity + config.expire_after)
    return min(times) if times else None
