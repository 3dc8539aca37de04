"""The SMS and WhatsApp channel: inbound messages in, the dialogue run, its actions done.

- `record_inbound` is all the webhook does: one INSERT of the sealed message, unique by
  Twilio's `MessageSid` (a retry, to this worker or another, records nothing).
- `process_inbound` (the worker, or the simulator) reads what waits, number by number in
  the order it came, under the conversation's row lock (`SKIP LOCKED` on PostgreSQL, so
  several workers share numbers and never run one number's messages twice or out of
  order), runs `dialogue.step` and carries out its actions through the services: filing
  (`services.filing`), messages to the reviewers (`services.messages`), a new phone
  linked (`services.contacts`), opt-outs and replies (`services.outbox`).
- `tick_conversations` (the worker) lets silence do what it does (`dialogue.tick`).
- `ask_satisfaction` (the scheduler's satisfaction job) texts the satisfaction check;
  `ask_remedy_plan` (the remedy plan job) the question on a remedy plan.

The phone number is sealed in the inbound row, the conversation and each outbox row
(`grievance.crypto.derived`) and in the case once filed (the vault); rows are found by
its HMAC, the handle. No log line carries a number, a handle or a text.

This module is the channel's entry point; the rows and their sealing are in `rows.py`,
carrying out the dialogue's actions in `actions.py`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from grievance.config import Settings
from grievance.models import (
    Case,
    Channel,
    Complainant,
    ContactChannel,
    InboundSms,
    Mechanism,
    SmsConversation,
)
from grievance.services import contacts, filing, outbox
from grievance.services.context import Context
from intake.sms import dialogue, rows
from intake.sms.actions import (
    CODE_WINDOW,
    DESPITE_OPT_OUT,
    LOCALES,
    MAX_CODE_ATTEMPTS,
    Processed,
    carry_out,
    translations,
)
from intake.sms.dialogue import DialogueConfig, Inbound, Piece
from intake.sms.rows import KEEP_READ_INBOUND, forget_read_inbound, next_due, record_inbound

__all__ = [
    "CODE_WINDOW",
    "DESPITE_OPT_OUT",
    "KEEP_READ_INBOUND",
    "LOCALES",
    "MAX_CODE_ATTEMPTS",
    "Processed",
    "SmsSettings",
    "ask_remedy_plan",
    "ask_satisfaction",
    "dialogue_config",
    "forget_read_inbound",
    "next_due",
    "pending_handles",
    "piece_of",
    "process_inbound",
    "record_inbound",
    "sms_mechanism",
    "tick_conversations",
    "translations",
]

log = logging.getLogger(__name__)

#: "(2/3) …": a phone or carrier numbering the parts of a long SMS it could not join.
_PIECE_MARK = re.compile(r"^\s*\((\d)/(\d)\)\s*")


# -- configuration -------------------------------------------------------------------


@dataclass(frozen=True)
class SmsSettings:
    mechanism_code: str | None = None
    expire_after: timedelta = timedelta(hours=24)

    @classmethod
    def from_settings(cls, settings: Settings) -> SmsSettings:
        return cls(
            mechanism_code=settings.sms_mechanism,
            expire_after=timedelta(hours=settings.sms_conversation_expiry_hours),
        )


def sms_mechanism(ctx: Context, sms: SmsSettings) -> Mechanism | None:
    statement = select(Mechanism).order_by(Mechanism.id).limit(1)
    if sms.mechanism_code:
        statement = select(Mechanism).where(Mechanism.code == sms.mechanism_code)
    return ctx.session.scalar(statement)


def dialogue_config(ctx: Context, mechanism: Mechanism, sms: SmsSettings) -> DialogueConfig:
    offered = ctx.policy(mechanism).languages
    languages = tuple(code for code in dialogue.LANGUAGES if code in offered)
    return DialogueConfig(
        languages=languages or ("en",),
        expire_after=sms.expire_after,
        max_statement_chars=filing.STATEMENT_MAX,
    )


def piece_of(body: str) -> tuple[Piece | None, str]:
    """A leading "(2/3)" numbers a part of a long SMS: the piece, and the text without it."""
    match = _PIECE_MARK.match(body)
    if match is None:
        return None, body
    part, total = int(match.group(1)), int(match.group(2))
    if not 1 <= part <= total or total < 2:
        return None, body
    return Piece(reference=total, part=part, total=total), body[match.end() :]


# -- the worker's part ---------------------------------------------------------------


def pending_handles(ctx: Context, limit: int = 200) -> Sequence[str]:
    """The numbers with messages waiting, the longest-waiting first."""
    found = ctx.session.execute(
        select(InboundSms.handle, func.min(InboundSms.id).label("first"))
        .where(InboundSms.processed_at.is_(None))
        .group_by(InboundSms.handle)
        .order_by("first")
        .limit(limit)
    ).all()
    ctx.session.commit()
    return [row.handle for row in found]


def process_inbound(
    ctx: Context, sms: SmsSettings, *, handles: Iterable[str] | None = None
) -> Processed:
    """Run the dialogue over every waiting message. A job: commits number by number."""
    report = Processed(filed=[])
    mechanism = sms_mechanism(ctx, sms)
    if mechanism is None:
        return report  # nothing to file with yet; the messages wait
    mechanism_id = mechanism.id
    for handle in list(handles) if handles is not None else pending_handles(ctx):
        try:
            done = _process_handle(ctx, sms, mechanism_id, handle, report)
        except Exception:
            ctx.session.rollback()
            log.exception("sms: a conversation could not be processed; its messages wait")
            continue
        if done:
            report.conversations += 1
        ctx.session.commit()
    return report


def _process_handle(
    ctx: Context, sms: SmsSettings, mechanism_id: int, handle: str, report: Processed
) -> bool:
    first = ctx.session.scalar(
        select(InboundSms)
        .where(InboundSms.handle == handle, InboundSms.processed_at.is_(None))
        .order_by(InboundSms.id)
        .limit(1)
    )
    if first is None:
        return False
    number = rows.inbound_number(ctx, first)
    row = rows.lock_conversation(ctx, handle, first.channel, number, mechanism_id)
    if row is None:
        return False
    mechanism = ctx.session.get_one(Mechanism, row.mechanism_id)
    config = dialogue_config(ctx, mechanism, sms)
    state = rows.load_state(ctx, row)
    inbound_rows = ctx.session.scalars(
        select(InboundSms)
        .where(InboundSms.handle == handle, InboundSms.processed_at.is_(None))
        .order_by(InboundSms.id)
    ).all()
    for inbound in inbound_rows:
        body = rows.inbound_body(ctx, inbound)
        row.channel = inbound.channel
        rows.keep_number(ctx, row, rows.inbound_number(ctx, inbound))
        piece, text = piece_of(body)
        state, actions = dialogue.step(state, Inbound(text, handle, piece), ctx.now(), config)
        state = carry_out(ctx, row, mechanism, state, actions, report)
        rows.mark_read(ctx, inbound)
        report.messages += 1
    rows.save_state(ctx, row, state, config)
    return True


def tick_conversations(
    ctx: Context, sms: SmsSettings, *, limit: int = 200, handle: str | None = None
) -> int:
    """What silence does, for the conversations whose time has come (only the one of
    `handle`, if given: the simulator's clock runs ahead of everyone else's). A job."""
    statement = (
        select(SmsConversation.id)
        .where(SmsConversation.due_at <= ctx.now())
        .order_by(SmsConversation.due_at)
        .limit(limit)
    )
    if handle is not None:
        statement = statement.where(SmsConversation.handle == handle)
    ids = ctx.session.scalars(statement).all()
    ctx.session.commit()
    report = Processed(filed=[])
    ticked = 0
    for conversation_id in ids:
        locking = select(SmsConversation).where(SmsConversation.id == conversation_id)
        if ctx.session.get_bind().dialect.name == "postgresql":
            locking = locking.with_for_update(skip_locked=True)
        row = ctx.session.scalar(locking.execution_options(populate_existing=True))
        if row is None or row.due_at is None or row.due_at > ctx.now():
            ctx.session.commit()
            continue
        try:
            mechanism = ctx.session.get_one(Mechanism, row.mechanism_id)
            config = dialogue_config(ctx, mechanism, sms)
            state, actions = dialogue.tick(rows.load_state(ctx, row), ctx.now(), config)
            state = carry_out(ctx, row, mechanism, state, actions, report)
            rows.save_state(ctx, row, state, config)
            ctx.session.commit()
            ticked += 1
        except Exception:
            ctx.session.rollback()
            log.exception("sms: a conversation could not be ticked")
    return ticked


# -- the satisfaction check ----------------------------------------------------------


def ask_satisfaction(ctx: Context, case: Case, complainant: Complainant) -> bool:
    """Text the satisfaction check to a complainant with a phone contact; False when it
    cannot go by text (no phone, STOP, an intake under way): it waits on the follow-up
    page then. Part of the scheduler's satisfaction job (`services.satisfaction`)."""
    return _ask(ctx, case, complainant, dialogue.SATISFACTION)


def ask_remedy_plan(ctx: Context, case: Case, complainant: Complainant) -> bool:
    """Text the question on the remedy plan (agree, disagree, talk) to a complainant with
    a phone contact; False as `ask_satisfaction`. Part of the scheduler's remedy plan job
    (`services.remedy_plan.text_due`)."""
    return _ask(ctx, case, complainant, dialogue.REMEDY_PLAN)


def _ask(ctx: Context, case: Case, complainant: Complainant, key: str) -> bool:
    if (
        complainant.contact_channel not in contacts.PHONE_CONTACTS
        or complainant.contact_enc is None
        or complainant.phone_lookup is None
        or outbox.is_opted_out(ctx, complainant.phone_lookup)
    ):
        return False
    number = ctx.vault.open(
        case.id, f"complainant.{complainant.id}.contact", complainant.contact_enc
    )
    channel = (
        Channel.WHATSAPP if complainant.contact_channel is ContactChannel.WHATSAPP else Channel.SMS
    )
    row = rows.lock_conversation(ctx, complainant.phone_lookup, channel, number, case.mechanism_id)
    if row is None:
        return False  # a worker is reading this number's messages right now
    state = rows.load_state(ctx, row)
    state, actions = dialogue.ask_question(state, case.reference, complainant.language, key)
    if not actions:
        return False
    row.channel = channel
    row.case_id = case.id
    row.complainant_id = complainant.id
    mechanism = ctx.session.get_one(Mechanism, row.mechanism_id)
    state = carry_out(ctx, row, mechanism, state, actions, Processed(filed=[]))
    rows.save_state(ctx, row, state, dialogue_config(ctx, mechanism, SmsSettings()))
    return True
