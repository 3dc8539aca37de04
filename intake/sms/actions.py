"""Carrying out what the dialogue returns, through the services: filing
(`services.filing`), messages to the reviewers (`services.messages`), a new phone linked
(`services.contacts`), the satisfaction answer (`services.remedy`), opt-outs and replies
(`services.outbox`). Results go back to the dialogue (`dialogue.filed`, `attached`,
`status_reply`), and the actions they return are carried out in turn.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import lru_cache

from babel.dates import format_date
from babel.support import NullTranslations, Translations
from sqlalchemy import delete, select

from grievance.config import PROJECT_ROOT
from grievance.models import (
    Anonymity,
    Case,
    Channel,
    Complainant,
    ConsultationAnswer,
    ContactChannel,
    Mechanism,
    SmsConversation,
)
from grievance.models.case import ENDED_STAGES
from grievance.services import (
    contacts,
    deadlines,
    filing,
    messages,
    outbox,
    remedy,
    remedy_plan,
)
from grievance.services.actors import SYSTEM, Actor
from grievance.services.context import Context
from grievance.services.errors import Code, InvalidInput, ServiceError
from intake.sms import dialogue, rows, texts
from intake.sms.dialogue import (
    AddMessageToCase,
    AttachByReceipt,
    Conversation,
    FileCase,
    LanguageMenu,
    OptIn,
    OptOut,
    RecordPlanAnswer,
    RecordSatisfaction,
    Reply,
    SendStatus,
)
from intake.sms.texts import Text

# The SMS channel logs under one name, whichever of its modules writes the line.
log = logging.getLogger("intake.sms.conversations")

LOCALES = PROJECT_ROOT / "locales"
#: Receipt codes tried from one number within an hour (each costs an Argon2id hash).
MAX_CODE_ATTEMPTS = 5
CODE_WINDOW = timedelta(hours=1)
#: The stage that asks again for an answer the filing service refused, by its field.
REASKED = {field: stage for stage, field in dialogue.ANSWERS.items()}
#: What the SMS says of the filing service's refusal of an answer, by its code.
REFUSAL_TEXTS = {Code.TOO_LONG: Text.TOO_LONG, Code.INVALID_CHARACTER: Text.UNREADABLE}
#: Texts that go even to a number that said STOP: its confirmation, and HELP.
DESPITE_OPT_OUT = frozenset({Text.STOPPED, Text.HELP, Text.ATTACH_HINT})


@dataclass
class Processed:
    """What a run of the worker did: messages read, conversations run, cases filed."""

    messages: int = 0
    conversations: int = 0
    filed: list[str] | None = None


@lru_cache(maxsize=64)
def translations(language: str) -> NullTranslations:
    return Translations.load(str(LOCALES), [language], domain="messages")


def carry_out(
    ctx: Context,
    row: SmsConversation,
    mechanism: Mechanism,
    state: Conversation,
    actions: list[dialogue.Action],
    report: Processed,
) -> Conversation:
    """Do the actions in order, each result's own actions first; the state they leave."""
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
        elif isinstance(action, RecordPlanAnswer):
            _record_plan_answer(ctx, row, action)
        pending[:0] = more
    return state


def _send(ctx: Context, row: SmsConversation, text: str, *, despite_opt_out: bool = False) -> None:
    outbox.queue(
        ctx,
        channel=row.channel,
        address=rows.number(ctx, row),
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
                    contact_address=rows.number(ctx, row),
                    consents=dict(draft.consents),
                ),
            ),
            SYSTEM,
        )
    except InvalidInput as error:
        reasons = _refusal(error, draft.language)
        if reasons is None:
            # Nothing the person can mend by text; never lose the words.
            log.error("sms: filing refused (%s); the conversation keeps it", error)
            return state, []
        return dialogue.refused(state, reasons)
    row.case_id = filed.case.id
    row.complainant_id = filed.complainant.id
    assert report.filed is not None
    report.filed.append(filed.case.reference)
    return dialogue.filed(state, filed.case.reference, filed.receipt_code)


def _refusal(error: InvalidInput, language: str) -> dict[dialogue.Stage, Reply] | None:
    """The filing service's refusal as the SMS says it, by the stage that asks for the
    refused answer again; None when an answer the person cannot send again is refused."""
    reasons: dict[dialogue.Stage, Reply] = {}
    for field, code in error.errors.items():
        stage = REASKED.get(field)
        text = REFUSAL_TEXTS.get(code)
        if stage is None or text is None:
            return None
        numbers = {name: str(value) for name, value in error.limits.get(field, {}).items()}
        reasons[stage] = Reply(text, language, numbers)
    return reasons


def _to_reviewers(ctx: Context, row: SmsConversation, action: AddMessageToCase) -> None:
    case = ctx.session.scalar(select(Case).where(Case.reference == action.case_reference))
    complainant = ctx.session.get(Complainant, row.complainant_id) if row.complainant_id else None
    if case is None or complainant is None or complainant.case_id != case.id:
        log.warning("sms: a message for a case this number is no longer linked to was dropped")
        return
    try:
        messages.add_message(
            ctx, case, Actor.for_complainant(complainant), action.text, row.channel
        )
    except InvalidInput as refused:  # the dialogue keeps nothing the service refuses
        log.warning("sms: a message for the reviewers was refused (%s) and dropped", refused)


def _record_satisfaction(ctx: Context, row: SmsConversation, action: RecordSatisfaction) -> None:
    case = ctx.session.scalar(select(Case).where(Case.reference == action.case_reference))
    complainant = ctx.session.get(Complainant, row.complainant_id) if row.complainant_id else None
    if case is None or complainant is None or complainant.case_id != case.id:
        log.warning("sms: a satisfaction answer for a case this number is not linked to")
        return
    remedy.record_satisfaction(
        ctx, case, Actor.for_complainant(complainant), remedy.Satisfaction(action.response)
    )


def _record_plan_answer(ctx: Context, row: SmsConversation, action: RecordPlanAnswer) -> None:
    """The answer on a remedy plan (`services.remedy_plan.answer`), by SMS."""
    case = ctx.session.scalar(select(Case).where(Case.reference == action.case_reference))
    complainant = ctx.session.get(Complainant, row.complainant_id) if row.complainant_id else None
    if case is None or complainant is None or complainant.case_id != case.id:
        log.warning("sms: a plan answer for a case this number is not linked to")
        return
    try:
        remedy_plan.answer(
            ctx,
            case,
            Actor.for_complainant(complainant),
            ConsultationAnswer(action.response),
            "sms",
        )
    except ServiceError:  # the plan changed since the question: the reviewers ask again
        log.warning("sms: a plan answer came for a plan no longer waiting for it")


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
            ctx, case, found, Actor.for_complainant(found), row.channel, rows.number(ctx, row)
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
