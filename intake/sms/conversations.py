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

The phone number is sealed in the inbound row, the conversation and each outbox row
(`grievance.crypto.derived`) and in the case once filed (the vault); rows are found by
its HMAC, the handle. No log line carries a number, a handle or a text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from babel.dates import format_date
from babel.support import NullTranslations, Translations
from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from grievance.config import PROJECT_ROOT, Settings
from grievance.crypto import derived
from grievance.models import (
    Anonymity,
    Case,
    Channel,
    Complainant,
    ContactChannel,
    InboundSms,
    Mechanism,
    SmsConversation,
)
from grievance.models.case import ENDED_STAGES
from grievance.services import contacts, deadlines, filing, messages, outbox, remedy
from grievance.services.actors import SYSTEM, Actor
from grievance.services.context import Context
from grievance.services.errors import InvalidInput
from intake.sms import dialogue, store, texts
from intake.sms.dialogue import (
    AddMessageToCase,
    AttachByReceipt,
    Conversation,
    DialogueConfig,
    FileCase,
    Inbound,
    LanguageMenu,
    OptIn,
    OptOut,
    Piece,
    RecordSatisfaction,
    Reply,
    SendStatus,
)
from intake.sms.texts import Text
from intake.sms.twilio import parse_address

log = logging.getLogger(__name__)

_INFO = b"grievance/sms/v1"
LOCALES = PROJECT_ROOT / "locales"
#: Receipt codes tried from one number within an hour (each costs an Argon2id hash).
MAX_CODE_ATTEMPTS = 5
CODE_WINDOW = timedelta(hours=1)
#: How long a read inbound row is kept to recognise Twilio's retries of it (hours, at most).
KEEP_READ_INBOUND = timedelta(days=7)
#: Texts that go even to a number that said STOP: its confirmation, and HELP.
DESPITE_OPT_OUT = frozenset({Text.STOPPED, Text.HELP, Text.ATTACH_HINT})
#: "(2/3) …": a phone or carrier numbering the parts of a long SMS it could not join.
_PIECE_MARK = re.compile(r"^\s*\((\d)/(\d)\)\s*")


# -- sealing -------------------------------------------------------------------------


def _seal(ctx: Context, associated: str, value: str) -> bytes:
    return derived.seal(ctx.keyring, _INFO, associated, value.encode())


def _open(ctx: Context, associated: str, blob: bytes) -> str:
    return derived.open_sealed(ctx.keyring, _INFO, associated, blob).decode()


def _inbound_ad(sid: str, name: str) -> str:
    return f"grievance/v1|inbound_sms={sid}|field={name}"


def _conversation_ad(handle: str, name: str) -> str:
    return f"grievance/v1|sms_conversation={handle}|field={name}"


# -- the webhook's part --------------------------------------------------------------


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
    return DialogueConfig(languages=languages or ("en",), expire_after=sms.expire_after)


@lru_cache(maxsize=64)
def translations(language: str) -> NullTranslations:
    return Translations.load(str(LOCALES), [language], domain="messages")


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


@dataclass
class Processed:
    messages: int = 0
    conversations: int = 0
    filed: list[str] | None = None


def pending_handles(ctx: Context, limit: int = 200) -> Sequence[str]:
    """The numbers with messages waiting, the longest-waiting first."""
    rows = ctx.session.execute(
        select(InboundSms.handle, func.min(InboundSms.id).label("first"))
        .where(InboundSms.processed_at.is_(None))
        .group_by(InboundSms.handle)
        .order_by("first")
        .limit(limit)
    ).all()
    ctx.session.commit()
    return [row.handle for row in rows]


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


def _lock_conversation(
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


def _load_state(ctx: Context, row: SmsConversation) -> Conversation:
    return store.load(
        row.handle, _open(ctx, _conversation_ad(row.handle, "state"), row.state_enc).encode()
    )


def _save_state(
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
        if state.stage is dialogue.Stage.STATEMENT and state.statement and not state.opted_out:
            times.append(state.last_activity + config.statement_pause)
        if state.stage in dialogue.INTAKE_STAGES:
            times.append(state.last_activity + config.expire_after)
    return min(times) if times else None


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
    number = _open(ctx, _inbound_ad(first.provider_sid, "address"), first.address_enc)
    row = _lock_conversation(ctx, handle, first.channel, number, mechanism_id)
    if row is None:
        return False
    mechanism = ctx.session.get_one(Mechanism, row.mechanism_id)
    config = dialogue_config(ctx, mechanism, sms)
    state = _load_state(ctx, row)
    inbound_rows = ctx.session.scalars(
        select(InboundSms)
        .where(InboundSms.handle == handle, InboundSms.processed_at.is_(None))
        .order_by(InboundSms.id)
    ).all()
    for inbound in inbound_rows:
        body = _open(ctx, _inbound_ad(inbound.provider_sid, "body"), inbound.body_enc)
        number = _open(ctx, _inbound_ad(inbound.provider_sid, "address"), inbound.address_enc)
        row.channel = inbound.channel
        if number != _open(ctx, _conversation_ad(handle, "address"), row.address_enc):
            row.address_enc = _seal(ctx, _conversation_ad(handle, "address"), number)
        piece, text = piece_of(body)
        state, actions = dialogue.step(state, Inbound(text, handle, piece), ctx.now(), config)
        state = _carry_out(ctx, row, mechanism, state, actions, report)
        inbound.processed_at = ctx.now()
        inbound.body_enc = b""
        inbound.address_enc = b""
        report.messages += 1
    _save_state(ctx, row, state, config)
    return True


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
            state, actions = dialogue.tick(_load_state(ctx, row), ctx.now(), config)
            state = _carry_out(ctx, row, mechanism, state, actions, report)
            _save_state(ctx, row, state, config)
            ctx.session.commit()
            ticked += 1
        except Exception:
            ctx.session.rollback()
            log.exception("sms: a conversation could not be ticked")
    return ticked


# -- actions -------------------------------------------------------------------------


def _carry_out(
    ctx: Context,
    row: SmsConversation,
    mechanism: Mechanism,
    state: Conversation,
    actions: list[dialogue.Action],
    report: Processed,
) -> Conversation:
    pending = list(actions)
    while pending:
        action = pending.pop(0)
        more: list[dialogue.Action] = []
        if isinstance(action, Reply):
            _reply(ctx, row, action)
        elif isinstance(action, LanguageMenu):
            for text in texts.language_menu(action.codes):
                _send(ctx, row, text)
        elif isinstance(action, FileCase):
            state, more = _file(ctx, row, mechanism, state, action, report)
        elif isinstance(action, AddMessageToCase):
            _to_reviewers(ctx, row, action)
        elif isinstance(action, SendStatus):
            more = [_status(ctx, row, action)]
        elif isinstance(action, AttachByReceipt):
            state, more = _attach(ctx, row, state, action)
        elif isinstance(action, OptOut):
            outbox.opt_out(ctx, row.handle, source="keyword")
        elif isinstance(action, OptIn):
            outbox.opt_in(ctx, row.handle)
        elif isinstance(action, RecordSatisfaction):
            _record_satisfaction(ctx, row, action)
        pending[:0] = more
    return state


def _number(ctx: Context, row: SmsConversation) -> str:
    return _open(ctx, _conversation_ad(row.handle, "address"), row.address_enc)


def _send(ctx: Context, row: SmsConversation, text: str, *, despite_opt_out: bool = False) -> None:
    outbox.queue(
        ctx,
        channel=row.channel,
        address=_number(ctx, row),
        handle=row.handle,
        body=text,
        case_id=row.case_id,
        complainant_id=row.complainant_id,
        conversation_id=row.id,
        despite_opt_out=despite_opt_out,
    )


def _reply(ctx: Context, row: SmsConversation, reply: Reply) -> None:
    body = texts.render(reply.text, reply.params, reply.language, translations(reply.language))
    _send(ctx, row, body, despite_opt_out=reply.text in DESPITE_OPT_OUT)


def _file(
    ctx: Context,
    row: SmsConversation,
    mechanism: Mechanism,
    state: Conversation,
    action: FileCase,
    report: Processed,
) -> tuple[Conversation, list[dialogue.Action]]:
    draft = action.draft
    contact = ContactChannel.WHATSAPP if row.channel is Channel.WHATSAPP else ContactChannel.SMS
    try:
        filed = filing.file_case(
            ctx,
            filing.Filing(
                mechanism=mechanism,
                channel=row.channel,
                language=draft.language,
                statement=draft.statement,
                location=draft.location,
                companies=draft.companies,
                complainant=filing.ComplainantDetails(
                    anonymity=Anonymity(draft.anonymity),
                    contact_channel=contact,
                    contact_address=_number(ctx, row),
                    consents=dict(draft.consents),
                ),
            ),
            SYSTEM,
        )
    except InvalidInput as error:
        # Cannot happen with what the dialogue gathers; never lose the words if it does.
        log.error("sms: filing refused (%s); the conversation keeps it", ", ".join(error.errors))
        return state, []
    row.case_id = filed.case.id
    row.complainant_id = filed.complainant.id
    assert report.filed is not None
    report.filed.append(filed.case.reference)
    return dialogue.filed(state, filed.case.reference, filed.receipt_code)


def _to_reviewers(ctx: Context, row: SmsConversation, action: AddMessageToCase) -> None:
    case = ctx.session.scalar(select(Case).where(Case.reference == action.case_reference))
    complainant = ctx.session.get(Complainant, row.complainant_id) if row.complainant_id else None
    if case is None or complainant is None or complainant.case_id != case.id:
        log.warning("sms: a message for a case this number is no longer linked to was dropped")
        return
    messages.add_message(ctx, case, Actor.for_complainant(complainant), action.text, row.channel)


def _record_satisfaction(ctx: Context, row: SmsConversation, action: RecordSatisfaction) -> None:
    case = ctx.session.scalar(select(Case).where(Case.reference == action.case_reference))
    complainant = ctx.session.get(Complainant, row.complainant_id) if row.complainant_id else None
    if case is None or complainant is None or complainant.case_id != case.id:
        log.warning("sms: a satisfaction answer for a case this number is not linked to")
        return
    remedy.record_satisfaction(
        ctx, case, Actor.for_complainant(complainant), remedy.Satisfaction(action.response)
    )


def ask_satisfaction(ctx: Context, case: Case, complainant: Complainant) -> bool:
    """Text the satisfaction check to a complainant with a phone contact; False when it
    cannot go by text (no phone, STOP, an intake under way): it waits on the follow-up
    page then. Part of the scheduler's satisfaction job (`services.satisfaction`)."""
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
    row = _lock_conversation(ctx, complainant.phone_lookup, channel, number, case.mechanism_id)
    if row is None:
        return False  # a worker is reading this number's messages right now
    state = _load_state(ctx, row)
    state, actions = dialogue.ask_satisfaction(state, case.reference, complainant.language)
    if not actions:
        return False
    row.channel = channel
    row.case_id = case.id
    row.complainant_id = complainant.id
    mechanism = ctx.session.get_one(Mechanism, row.mechanism_id)
    state = _carry_out(ctx, row, mechanism, state, actions, Processed(filed=[]))
    _save_state(ctx, row, state, dialogue_config(ctx, mechanism, SmsSettings()))
    return True


def _code_allowed(ctx: Context, row: SmsConversation) -> bool:
    """At most MAX_CODE_ATTEMPTS receipt codes an hour from one number."""
    now = ctx.now()
    if row.code_window_started_at is None or now - row.code_window_started_at >= CODE_WINDOW:
        row.code_window_started_at = now
        row.code_attempts = 0
    row.code_attempts += 1
    return row.code_attempts <= MAX_CODE_ATTEMPTS


def _status(ctx: Context, row: SmsConversation, action: SendStatus) -> dialogue.Action:
    case: Case | None = None
    if action.receipt_code is not None:
        found = (
            filing.find_complainant(ctx, action.receipt_code) if _code_allowed(ctx, row) else None
        )
        case = found.case if found is not None else None
    elif action.case_reference is not None:
        case = ctx.session.scalar(select(Case).where(Case.reference == action.case_reference))
    if case is None:
        return Reply(Text.UNKNOWN_CODE, action.language)
    words = texts.stage_words(case.stage.value, translations(action.language))
    running = [d.due_at for d in deadlines.open_deadlines(ctx.session, case) if d.paused_at is None]
    due = format_date(min(running), format="long", locale=action.language) if running else None
    return dialogue.status_reply(action.language, case.reference, words, due)


def _attach(
    ctx: Context, row: SmsConversation, state: Conversation, action: AttachByReceipt
) -> tuple[Conversation, list[dialogue.Action]]:
    found = filing.find_complainant(ctx, action.receipt_code) if _code_allowed(ctx, row) else None
    if found is None or found.case.identities_erased_at is not None:
        return dialogue.attached(state, None)
    if found.anonymity is Anonymity.ANONYMOUS and found.case.stage in ENDED_STAGES:
        # The case ended and its anonymous complainant's number was forgotten
        # (`contacts.forget_anonymous_phones`): linking would keep it again, for good.
        return dialogue.attached(state, None)
    case = found.case
    if found.phone_lookup != row.handle:
        contacts.link_phone(
            ctx, case, found, Actor.for_complainant(found), row.channel, _number(ctx, row)
        )
    row.case_id = case.id
    row.complainant_id = found.id
    # The old phone (lost, or taken) no longer reaches the case: its conversation goes.
    ctx.session.execute(
        delete(SmsConversation).where(
            SmsConversation.complainant_id == found.id, SmsConversation.id != row.id
        )
    )
    return dialogue.attached(
        replace(state, language=state.language or found.language), case.reference
    )
