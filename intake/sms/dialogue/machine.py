"""The machine around the stages: a message in (`step`), silence (`tick`), results coming
back (`filed`, `refused`, `attached`, `status_reply`), a question put after filing
(`ask_satisfaction`).

Keywords come before any stage: `ALWAYS` (STOP, HELP) even after STOP; then, unless the
person said STOP, `KEYWORDS`, STATUS with a code, a receipt code; anything else is an
answer to the stage (`stages.answer`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from grievance.services.texts import normalise, text_problem
from intake.sms.dialogue.model import (
    INTAKE_STAGES,
    Action,
    AddMessageToCase,
    AttachByReceipt,
    Conversation,
    DialogueConfig,
    HeldPiece,
    Inbound,
    OptIn,
    OptOut,
    Reply,
    Result,
    SendStatus,
    Stage,
    fresh,
    language_of,
)
from intake.sms.dialogue.reading import receipt_code
from intake.sms.dialogue.stages import (
    ANSWERS,
    QUESTIONS,
    SATISFACTION,
    TABLES,
    advance,
    answer,
    ask,
    file,
    first,
    pausing,
)
from intake.sms.keywords import Keyword, keyword_of, leading_keyword
from intake.sms.texts import Text


def step(state: Conversation, inbound: Inbound, now: datetime, config: DialogueConfig) -> Result:
    """One inbound message. Never raises on any text."""
    actions: list[Action] = []
    state, texts = _receive_piece(state, inbound, now, config)
    for text in texts:
        quiet = keyword_of(text) is Keyword.STOP  # no farewell to someone saying STOP
        state = _expire_if_silent(state, now, config, actions, quiet=quiet)
        state, more = _handle(state, text, config)
        actions.extend(more)
        state = replace(state, last_activity=now)
    return state, actions


def tick(state: Conversation, now: datetime, config: DialogueConfig) -> Result:
    """What silence does: pieces waited for long enough are joined, a paused statement
    is taken as finished, an unfinished intake expires. Run by the scheduler."""
    actions: list[Action] = []
    state, texts = _flush_pieces(state, now, config)
    for text in texts:
        state, more = _handle(state, text, config)
        actions.extend(more)
    if state.last_activity is None:
        return state, actions
    silence = now - state.last_activity
    if state.stage in INTAKE_STAGES and silence >= config.expire_after:
        state = _expire_if_silent(state, now, config, actions)
    elif pausing(state) and silence >= config.statement_pause:
        state, more = advance(state, config)
        actions.extend(more)
    return state, actions


def filed(state: Conversation, case_reference: str, receipt_code: str) -> Result:
    """The case of the FileCase action is filed: show the code once, add what waited."""
    actions: list[Action] = [AddMessageToCase(case_reference, text) for text in state.waiting]
    if not state.opted_out:
        actions.insert(
            0,
            Reply(
                Text.FILED,
                language_of(state),
                {"reference": case_reference, "code": _grouped(receipt_code)},
            ),
        )
    return fresh(state, Stage.FILED, case_reference=case_reference), actions


def refused(state: Conversation, reasons: Mapping[Stage, Reply]) -> Result:
    """The caller could not file the intake: the filing service refused the answers of
    these stages (`ANSWERS`), each with a reply that says why. They are dropped (an intake
    that expires is filed without them), and the first of them is asked for again, after
    its reason; the intake goes on from there."""
    stage = min(reasons, key=list(Stage).index)
    dropped: dict[str, Any] = {ANSWERS[refused_stage]: "" for refused_stage in reasons}
    state = replace(state, stage=stage, **dropped)
    question = TABLES[stage].question
    if state.opted_out or question is None:
        return state, []
    return state, [reasons[stage], Reply(question, language_of(state))]


def attached(state: Conversation, case_reference: str | None) -> Result:
    """The result of AttachByReceipt: the case the code opened, or None."""
    language = language_of(state)
    if state.opted_out:
        return state, []
    if case_reference is None:
        return state, [Reply(Text.UNKNOWN_CODE, language)]
    state = fresh(state, Stage.FILED, case_reference=case_reference)
    return state, [Reply(Text.ATTACHED, language, {"reference": case_reference})]


def status_reply(language: str, case_reference: str, stage_words: str, due: str | None) -> Reply:
    """The answer to SendStatus: the stage in plain words (`texts.stage_words`) and the
    next time limit, formatted by the caller in the person's language."""
    params = {"reference": case_reference, "stage": stage_words}
    if due is None:
        return Reply(Text.STATUS, language, params)
    return Reply(Text.STATUS_DUE, language, {**params, "due": due})


def can_ask(state: Conversation) -> bool:
    """Whether a question may be put now: not to someone who said STOP, and not in the
    middle of telling a new complaint (the number would answer the intake instead)."""
    return not state.opted_out and state.stage not in (*INTAKE_STAGES, Stage.FILING)


def ask_satisfaction(state: Conversation, case_reference: str, language: str) -> Result:
    """The satisfaction check of a closed case (asked by the scheduler): the next 1, 2 or
    3 answers it; anything else still goes to the reviewers. Nothing if `can_ask` is not."""
    return ask_question(state, case_reference, language, SATISFACTION)


def ask_question(state: Conversation, case_reference: str, language: str, key: str) -> Result:
    """A question of `QUESTIONS` put about a filed case (the satisfaction check, the
    remedy plan): the next numbered answer answers it; anything else still goes to the
    reviewers. Nothing if `can_ask` is not."""
    if not can_ask(state):
        return state, []
    state = replace(
        fresh(state, Stage.FILED, case_reference=case_reference),
        language=state.language or language,
        question=key,
    )
    question = QUESTIONS[key].question
    return state, [Reply(question, language_of(state), {"reference": case_reference})]


def _grouped(code: str) -> str:
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


# -- pieces of one long SMS --------------------------------------------------------------------


def _receive_piece(
    state: Conversation, inbound: Inbound, now: datetime, config: DialogueConfig
) -> tuple[Conversation, list[str]]:
    piece = inbound.piece
    if piece is None or piece.total <= 1 or not 1 <= piece.part <= piece.total:
        state, texts = _flush_pieces(state, now, config)
        return state, [*texts, inbound.text]
    held = tuple(
        held
        for held in state.pieces
        if not (held.reference == piece.reference and held.part == piece.part)
    )
    held += (HeldPiece(piece.reference, piece.part, piece.total, inbound.text, now),)
    state = replace(state, pieces=held)
    return _flush_pieces(state, now, config)


def _flush_pieces(
    state: Conversation, now: datetime, config: DialogueConfig
) -> tuple[Conversation, list[str]]:
    """Join every complete (or waited-for) message, in the order of its first piece."""
    groups: dict[int, list[HeldPiece]] = {}
    for held in state.pieces:
        groups.setdefault(held.reference, []).append(held)
    ready: list[tuple[datetime, str]] = []
    kept: list[HeldPiece] = []
    for pieces in groups.values():
        total = max(held.total for held in pieces)
        first = min(held.arrived for held in pieces)
        complete = {held.part for held in pieces} >= set(range(1, total + 1))
        if complete or now - first >= config.piece_wait:
            text = "".join(held.text for held in sorted(pieces, key=lambda held: held.part))
            ready.append((first, text))
        else:
            kept.extend(pieces)
    ready.sort(key=lambda item: item[0])
    return replace(state, pieces=tuple(kept)), [text for _, text in ready]


# -- silence -----------------------------------------------------------------------------------


def _expire_if_silent(
    state: Conversation,
    now: datetime,
    config: DialogueConfig,
    actions: list[Action],
    *,
    quiet: bool = False,
) -> Conversation:
    if (
        state.stage not in INTAKE_STAGES
        or state.last_activity is None
        or now - state.last_activity < config.expire_after
    ):
        return state
    if TABLES[state.stage].file_on_expiry and state.statement:
        state, more = file(state)
        actions.extend(more)
        return state
    if not state.opted_out and not quiet:
        actions.append(Reply(Text.EXPIRED, language_of(state, config)))
    return fresh(state, Stage.FILED if state.case_reference else Stage.START)


# -- keywords, then the stage --------------------------------------------------------------------

KeywordHandler = Callable[[Conversation, DialogueConfig], Result]


def _stop(state: Conversation, config: DialogueConfig) -> Result:
    if state.opted_out:
        return state, []
    reply = Reply(Text.STOPPED, language_of(state, config))
    return replace(state, opted_out=True), [OptOut(state.handle), reply]


def _help(state: Conversation, config: DialogueConfig) -> Result:
    language = language_of(state, config)
    return state, [Reply(Text.HELP, language), Reply(Text.ATTACH_HINT, language)]


def _start(state: Conversation, config: DialogueConfig) -> Result:
    return ask(state, config)  # the stage's question again (the welcome, at START)


def _new(state: Conversation, config: DialogueConfig) -> Result:
    if state.language is None:
        return first(fresh(state, Stage.START), "", config)
    state, actions = ask(fresh(state, Stage.ANONYMITY), config)
    return state, [Reply(Text.NEW, language_of(state, config)), *actions]


def _language(state: Conversation, config: DialogueConfig) -> Result:
    resume = state.resume if state.stage is Stage.LANGUAGE else state.stage
    state = replace(state, stage=Stage.LANGUAGE, menu=tuple(config.languages), resume=resume)
    return ask(state, config)


def _status(state: Conversation, config: DialogueConfig) -> Result:
    language = language_of(state, config)
    if state.case_reference:
        return state, [SendStatus(language, case_reference=state.case_reference)]
    return state, [Reply(Text.STATUS_NEED_CODE, language)]


#: Answered at any stage, also after STOP.
ALWAYS: Mapping[Keyword, KeywordHandler] = {Keyword.STOP: _stop, Keyword.HELP: _help}
#: Answered at any stage, unless the person said STOP (then START opts back in).
KEYWORDS: Mapping[Keyword, KeywordHandler] = {
    Keyword.START: _start,
    Keyword.NEW: _new,
    Keyword.LANGUAGE: _language,
    Keyword.STATUS: _status,
}


def _handle(state: Conversation, text: str, config: DialogueConfig) -> Result:
    if text_problem(text) is not None:
        # A control character (NUL ...): the services would refuse it, so nothing of it
        # is kept; the person is asked to send it again.
        if state.opted_out:
            return state, []
        return state, [Reply(Text.UNREADABLE, language_of(state, config))]
    text = normalise(text)  # and nothing visible is nothing
    keyword = keyword_of(text)
    if keyword is not None and keyword in ALWAYS:
        return ALWAYS[keyword](state, config)
    if state.opted_out:
        return _opted_out(state, text, keyword, config)
    if keyword is not None and keyword in KEYWORDS:
        return KEYWORDS[keyword](state, config)
    lead = leading_keyword(text)
    if lead is not None and lead[0] is Keyword.STATUS:  # STATUS and a receipt code
        code = receipt_code(lead[1])
        language = language_of(state, config)
        if code is not None:
            return state, [SendStatus(language, receipt_code=code)]
        return state, [Reply(Text.STATUS_NEED_CODE, language)]
    code = receipt_code(text)
    if code is not None and state.stage is not Stage.STATEMENT:  # else part of the story
        return state, [AttachByReceipt(code, state.handle)]
    if not text:
        return state, []
    return answer(state, text, keyword, config)


def _opted_out(
    state: Conversation, text: str, keyword: Keyword | None, config: DialogueConfig
) -> Result:
    """After STOP nothing is sent until START. Words for an open case still reach it."""
    if keyword is Keyword.START:
        reply = Reply(Text.STARTED, language_of(state, config))
        return replace(state, opted_out=False), [OptIn(state.handle), reply]
    if not text:
        return state, []
    if state.stage is Stage.FILED and state.case_reference:
        return state, [AddMessageToCase(state.case_reference, text)]
    if state.stage is Stage.FILING:
        return replace(state, waiting=(*state.waiting, text)), []
    return state, []
