"""The SMS dialogue as a pure state machine: no Flask, no database, no clock of its own.

    step(conversation, inbound, now, config) -> (conversation, actions)
    tick(conversation, now, config) -> (conversation, actions)         # the scheduler
    filed / attached / status_reply                                   # results coming back

The caller keeps one `Conversation` per phone number (found by the number's HMAC, the
`handle`), stores what `step` returns and carries out the actions in order. Nothing here
holds the number, and the receipt code appears only in the `Reply` that shows it once.

Stages of an intake: START → LANGUAGE (only when the first message does not tell the
language) → ANONYMITY → CONSENT → STATEMENT → LOCATION → COMPANY → FILING (the caller
files the case and calls `filed`) → FILED, where every later message goes to the case.

Joining rule: in STATEMENT every message is one more part of the statement, until the
person sends 1 (or DONE in their language), or until `config.statement_pause` passes
without a message (the scheduler's `tick` then moves on and asks "where?"). A first
message that already tells the story is kept as the first part. Pieces of one long SMS
delivered as separate webhooks (`Inbound.piece`) are held until all have come, or until
`config.piece_wait` has passed, and joined in their order, whatever order they came in.

Keywords (see `keywords.py`) are whole messages and come before anything else: STOP (and
the carrier words) opts out at once, with one confirmation, and nothing more is sent until
START; HELP always answers, also after STOP; messages sent after STOP to a filed case
still reach the reviewers, silently.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from intake.sms.keywords import DONE_DIGIT, SKIP_DIGIT, Keyword, keyword_of, leading_keyword
from intake.sms.texts import Text

RECEIPT_DIGITS = 16
LANGUAGES = (
    "en", "nl", "bn", "ta", "hi", "ur", "ar", "my", "km",
    "vi", "tr", "es", "fr", "pt", "zh", "id", "sw", "am",
)  # fmt: skip


class Stage(enum.StrEnum):
    START = "start"
    LANGUAGE = "language"
    ANONYMITY = "anonymity"
    CONSENT = "consent"
    STATEMENT = "statement"
    LOCATION = "location"
    COMPANY = "company"
    FILING = "filing"
    FILED = "filed"


#: Stages of an intake in progress: they expire after a silence.
INTAKE_STAGES = frozenset(
    {Stage.LANGUAGE, Stage.ANONYMITY, Stage.CONSENT, Stage.STATEMENT, Stage.LOCATION,
     Stage.COMPANY}
)  # fmt: skip

ANONYMITY_CHOICES = ("anonymous", "confidential", "open")  # answers 1, 2, 3
SATISFACTION_CHOICES = ("yes", "partly", "no")  # answers 1, 2, 3
SATISFACTION = "satisfaction"


@dataclass(frozen=True)
class DialogueConfig:
    languages: tuple[str, ...] = LANGUAGES
    #: The language of the first welcome, before the person's is known.
    default_language: str = "en"
    #: Silence after which an unfinished intake is closed with a polite message.
    expire_after: timedelta = timedelta(hours=24)
    #: Silence after which the statement is taken as finished (by `tick`).
    statement_pause: timedelta = timedelta(minutes=30)
    #: How long the missing pieces of a long SMS are awaited before joining what came.
    piece_wait: timedelta = timedelta(minutes=5)
    #: A first message with at least this many letters is kept as the statement's start.
    story_letters: int = 20
    max_statement_chars: int = 20_000


@dataclass(frozen=True)
class Piece:
    """Where an inbound SMS sits in a concatenated one (from the UDH, when the gateway
    gives it): `part` of `total`, all sharing `reference`."""

    reference: int
    part: int
    total: int


@dataclass(frozen=True)
class Inbound:
    text: str
    #: The HMAC of the phone number: threads messages; never the number itself.
    handle: str
    piece: Piece | None = None


@dataclass(frozen=True)
class HeldPiece:
    reference: int
    part: int
    total: int
    text: str
    arrived: datetime


@dataclass(frozen=True)
class Draft:
    """What the caller files (with `services.filing`), with the contact it holds."""

    handle: str
    language: str
    anonymity: str
    consents: Mapping[str, bool]
    statement: str
    location: str
    companies: str


@dataclass(frozen=True)
class Conversation:
    handle: str
    stage: Stage = Stage.START
    language: str | None = None
    #: The languages the last menu offered, in its order.
    menu: tuple[str, ...] = ()
    #: Where LANGUAGE returns once a language is chosen (after the LANGUAGE keyword).
    resume: Stage | None = None
    anonymity: str | None = None
    consents: Mapping[str, bool] = field(default_factory=dict)
    statement: tuple[str, ...] = ()
    location: str = ""
    companies: str = ""
    #: The case this number's messages go to, once filed or attached.
    case_reference: str | None = None
    #: Messages that came while the case was being filed: added once it is.
    waiting: tuple[str, ...] = ()
    pieces: tuple[HeldPiece, ...] = ()
    last_activity: datetime | None = None
    #: A mirror of the opt-out the caller keeps by handle (see `OptOut`).
    opted_out: bool = False
    #: A question put to the person that a number answers ("satisfaction"), or None.
    question: str | None = None


# -- actions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    text: Text
    language: str
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LanguageMenu:
    """Send `texts.language_menu(codes)` (not translated: each name in its own script)."""

    codes: tuple[str, ...]


@dataclass(frozen=True)
class FileCase:
    draft: Draft


@dataclass(frozen=True)
class AddMessageToCase:
    case_reference: str
    text: str


@dataclass(frozen=True)
class SendStatus:
    """Look the case up (by reference, or by receipt code) and answer with `status_reply`,
    or `Reply(Text.UNKNOWN_CODE)` when the code matches nothing."""

    language: str
    case_reference: str | None = None
    receipt_code: str | None = None


@dataclass(frozen=True)
class AttachByReceipt:
    """Link this handle to the case of `receipt_code`, then call `attached`."""

    receipt_code: str
    handle: str


@dataclass(frozen=True)
class RecordSatisfaction:
    """The person answered the satisfaction check: "yes", "partly" or "no"."""

    case_reference: str
    response: str


@dataclass(frozen=True)
class OptOut:
    """Record the handle as opted out, for every sender (the outbox checks it before each
    send; a 21610 from Twilio records it too)."""

    handle: str


@dataclass(frozen=True)
class OptIn:
    handle: str


Action = (
    Reply | LanguageMenu | FileCase | AddMessageToCase | SendStatus | AttachByReceipt
    | OptOut | OptIn | RecordSatisfaction
)  # fmt: skip
#: Actions that send something to the person.
OUTBOUND = (Reply, LanguageMenu, SendStatus)
Result = tuple[Conversation, list[Action]]


# -- reading a person's input ------------------------------------------------------------


def ascii_digits(text: str) -> str:
    """Digits of any script as ASCII (১২৩ → 123, ٣ → 3, ፫ → 3); other characters kept."""
    out = []
    for char in text:
        value = unicodedata.digit(char, None)
        out.append(str(value) if value is not None else char)
    return "".join(out)


def choice(text: str) -> int | None:
    """A menu answer: a number alone, in any script, with spaces or a dot around it."""
    core = ascii_digits(unicodedata.normalize("NFC", text)).strip().strip(".)(-# ").strip()
    return int(core) if core.isascii() and core.isdigit() and len(core) <= 3 else None


def receipt_code(text: str) -> str | None:
    """The 16 digits when the whole message is a receipt code (spaces and dashes allowed)."""
    core = "".join(ascii_digits(text).split()).replace("-", "").replace(".", "")
    if len(core) == RECEIPT_DIGITS and core.isascii() and core.isdigit():
        return core
    return None


# Scripts that tell a language, by code point range.
_SCRIPTS: tuple[tuple[int, int, tuple[str, ...]], ...] = (
    (0x0980, 0x09FF, ("bn",)),
    (0x0B80, 0x0BFF, ("ta",)),
    (0x0900, 0x097F, ("hi",)),
    (0x0600, 0x06FF, ("ar", "ur")),
    (0x0750, 0x077F, ("ar", "ur")),
    (0xFB50, 0xFDFF, ("ar", "ur")),
    (0xFE70, 0xFEFF, ("ar", "ur")),
    (0x1000, 0x109F, ("my",)),
    (0x1780, 0x17FF, ("km",)),
    (0x1200, 0x139F, ("am",)),
    (0x4E00, 0x9FFF, ("zh",)),
    (0x3400, 0x4DBF, ("zh",)),
)
#: Letters Urdu uses and Arabic does not; and the reverse.
_URDU_ONLY = frozenset("ٹڈڑںےۓھگچپژکی")
_ARABIC_ONLY = frozenset("ةىكيإأآؤئ")


def detect_language(text: str, offered: Sequence[str]) -> tuple[str, ...]:
    """The offered languages the text's script points to: one when sure, two for an
    Arabic-script text that could be Arabic or Urdu, none for Latin or mixed text."""
    counts: dict[tuple[str, ...], int] = {}
    letters = 0
    for char in text:
        if not unicodedata.category(char).startswith("L"):
            continue
        letters += 1
        point = ord(char)
        for low, high, languages in _SCRIPTS:
            if low <= point <= high:
                counts[languages] = counts.get(languages, 0) + 1
                break
    if not counts:
        return ()
    languages, count = max(counts.items(), key=lambda item: item[1])
    if count * 10 < letters * 8:  # under 80 % of the letters: not sure
        return ()
    if languages == ("ar", "ur"):
        urdu = sum(char in _URDU_ONLY for char in text)
        arabic = sum(char in _ARABIC_ONLY for char in text)
        if urdu and not arabic:
            languages = ("ur",)
        elif arabic and not urdu:
            languages = ("ar",)
    return tuple(code for code in languages if code in offered)


def _tells_a_story(text: str, config: DialogueConfig) -> bool:
    letters = [char for char in text if unicodedata.category(char).startswith("L")]
    han = sum(0x3400 <= ord(char) <= 0x9FFF for char in letters)
    return len(letters) >= config.story_letters or han >= config.story_letters // 3


# -- the machine -------------------------------------------------------------------------


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
    state, texts = _flush_pieces(state, now, config, force=False)
    for text in texts:
        state, more = _handle(state, text, config)
        actions.extend(more)
    if state.last_activity is None:
        return state, actions
    silence = now - state.last_activity
    if state.stage in INTAKE_STAGES and silence >= config.expire_after:
        state = _expire_if_silent(state, now, config, actions)
    elif (
        state.stage is Stage.STATEMENT
        and state.statement
        and not state.opted_out
        and silence >= config.statement_pause
    ):
        state, more = _ask(replace(state, stage=Stage.LOCATION), config)
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
                _language(state),
                {"reference": case_reference, "code": _grouped(receipt_code)},
            ),
        )
    return _fresh(state, Stage.FILED, case_reference=case_reference), actions


def attached(state: Conversation, case_reference: str | None) -> Result:
    """The result of AttachByReceipt: the case the code opened, or None."""
    language = _language(state)
    if state.opted_out:
        return state, []
    if case_reference is None:
        return state, [Reply(Text.UNKNOWN_CODE, language)]
    state = _fresh(state, Stage.FILED, case_reference=case_reference)
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
    if not can_ask(state):
        return state, []
    state = replace(
        _fresh(state, Stage.FILED, case_reference=case_reference),
        language=state.language or language,
        question=SATISFACTION,
    )
    reply = Reply(Text.SATISFACTION_ASK, _language(state), {"reference": case_reference})
    return state, [reply]


# -- inside ------------------------------------------------------------------------------


def _language(state: Conversation, config: DialogueConfig | None = None) -> str:
    if state.language:
        return state.language
    return config.default_language if config else "en"


def _grouped(code: str) -> str:
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


def _fresh(state: Conversation, stage: Stage, case_reference: str | None = None) -> Conversation:
    """An empty intake at `stage`, keeping the language, the case and the opt-out."""
    return Conversation(
        handle=state.handle,
        stage=stage,
        language=state.language,
        case_reference=case_reference if case_reference else state.case_reference,
        last_activity=state.last_activity,
        opted_out=state.opted_out,
        pieces=state.pieces,
    )


def _receive_piece(
    state: Conversation, inbound: Inbound, now: datetime, config: DialogueConfig
) -> tuple[Conversation, list[str]]:
    piece = inbound.piece
    if piece is None or piece.total <= 1 or not 1 <= piece.part <= piece.total:
        state, texts = _flush_pieces(state, now, config, force=False)
        return state, [*texts, inbound.text]
    held = tuple(
        held
        for held in state.pieces
        if not (held.reference == piece.reference and held.part == piece.part)
    )
    held += (HeldPiece(piece.reference, piece.part, piece.total, inbound.text, now),)
    state = replace(state, pieces=held)
    return _flush_pieces(state, now, config, force=False)


def _flush_pieces(
    state: Conversation, now: datetime, config: DialogueConfig, *, force: bool
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
        if complete or force or now - first >= config.piece_wait:
            text = "".join(held.text for held in sorted(pieces, key=lambda held: held.part))
            ready.append((first, text))
        else:
            kept.extend(pieces)
    ready.sort(key=lambda item: item[0])
    return replace(state, pieces=tuple(kept)), [text for _, text in ready]


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
    if state.stage in (Stage.STATEMENT, Stage.LOCATION, Stage.COMPANY) and state.statement:
        # They told us what happened and chose who may know: file what we have.
        state, more = _file(state)
        actions.extend(more)
        return state
    if not state.opted_out and not quiet:
        actions.append(Reply(Text.EXPIRED, _language(state, config)))
    return _fresh(state, Stage.FILED if state.case_reference else Stage.START)


def _handle(state: Conversation, text: str, config: DialogueConfig) -> Result:
    text = unicodedata.normalize("NFC", text).strip()
    keyword = keyword_of(text)
    language = _language(state, config)
    if keyword is Keyword.STOP:
        if state.opted_out:
            return state, []
        return replace(state, opted_out=True), [
            OptOut(state.handle),
            Reply(Text.STOPPED, language),
        ]
    if keyword is Keyword.HELP:  # always answered, also after STOP
        return state, [Reply(Text.HELP, language), Reply(Text.ATTACH_HINT, language)]
    if keyword is Keyword.START and state.opted_out:
        return replace(state, opted_out=False), [
            OptIn(state.handle),
            Reply(Text.STARTED, language),
        ]
    if state.opted_out:
        # Nothing is sent. Words for an open case still reach it.
        if not text:
            return state, []
        if state.stage is Stage.FILED and state.case_reference:
            return state, [AddMessageToCase(state.case_reference, text)]
        if state.stage is Stage.FILING:
            return replace(state, waiting=(*state.waiting, text)), []
        return state, []
    if keyword is Keyword.START:
        return _ask(state, config) if state.stage is not Stage.START else _first(state, "", config)
    if keyword is Keyword.NEW:
        if state.language is None:
            return _first(_fresh(state, Stage.START), "", config)
        state, actions = _ask(_fresh(state, Stage.ANONYMITY), config)
        return state, [Reply(Text.NEW, language), *actions]
    if keyword is Keyword.LANGUAGE:
        resume = state.resume if state.stage is Stage.LANGUAGE else state.stage
        codes = tuple(config.languages)
        state = replace(state, stage=Stage.LANGUAGE, menu=codes, resume=resume)
        return state, [Reply(Text.LANGUAGE_PROMPT, language), LanguageMenu(codes)]
    status = _status(state, text, keyword, language)
    if status is not None:
        return state, status
    code = receipt_code(text)
    if code is not None and state.stage is not Stage.STATEMENT:
        return state, [AttachByReceipt(code, state.handle)]
    if not text:
        return state, []
    return _answer(state, text, keyword, config)


def _status(
    state: Conversation, text: str, keyword: Keyword | None, language: str
) -> list[Action] | None:
    if keyword is Keyword.STATUS:
        if state.case_reference:
            return [SendStatus(language, case_reference=state.case_reference)]
        return [Reply(Text.STATUS_NEED_CODE, language)]
    lead = leading_keyword(text)
    if lead is not None and lead[0] is Keyword.STATUS:
        code = receipt_code(lead[1])
        if code is not None:
            return [SendStatus(language, receipt_code=code)]
        return [Reply(Text.STATUS_NEED_CODE, language)]
    return None


def _first(state: Conversation, text: str, config: DialogueConfig) -> Result:
    """First contact: the language from the script if sure, else a menu."""
    keep = (text,) if text and _tells_a_story(text, config) else ()
    state = replace(_fresh(state, Stage.START), statement=keep)
    detected = detect_language(text, config.languages)
    if len(detected) == 1:
        return _welcome(replace(state, language=detected[0]), config)
    if state.language is not None:  # known from before (NEW, an expired intake)
        return _welcome(state, config)
    codes = detected or tuple(config.languages)
    state = replace(state, stage=Stage.LANGUAGE, menu=codes, resume=None)
    return state, [Reply(Text.WELCOME_MENU, config.default_language), LanguageMenu(codes)]


def _welcome(state: Conversation, config: DialogueConfig) -> Result:
    state, actions = _ask(replace(state, stage=Stage.ANONYMITY), config)
    return state, [Reply(Text.WELCOME, _language(state, config)), *actions]


def _ask(state: Conversation, config: DialogueConfig) -> Result:
    """The question of the state's stage."""
    language = _language(state, config)
    stage = state.stage
    if stage is Stage.START:
        return _first(state, "", config)
    if stage is Stage.LANGUAGE:
        menu = state.menu or tuple(config.languages)
        return state, [Reply(Text.LANGUAGE_PROMPT, language), LanguageMenu(menu)]
    if stage is Stage.ANONYMITY:
        return state, [Reply(Text.ANONYMITY, language)]
    if stage is Stage.CONSENT:
        return state, [Reply(Text.CONSENT_PUBLISH, language)]
    if stage is Stage.STATEMENT:
        return state, [Reply(Text.STATEMENT_KEPT if state.statement else Text.STATEMENT, language)]
    if stage is Stage.LOCATION:
        return state, [Reply(Text.LOCATION, language)]
    if stage is Stage.COMPANY:
        return state, [Reply(Text.COMPANY, language)]
    if stage is Stage.FILING:
        return state, []
    return state, [Reply(Text.HELP, language)]  # FILED


def _answer(
    state: Conversation, text: str, keyword: Keyword | None, config: DialogueConfig
) -> Result:
    language = _language(state, config)
    stage = state.stage
    number = choice(text)
    if stage is Stage.START:
        return _first(state, text, config)
    if stage is Stage.LANGUAGE:
        chosen: str | None = None
        if number is not None and 1 <= number <= len(state.menu):
            chosen = state.menu[number - 1]
        else:
            detected = detect_language(text, state.menu or config.languages)
            chosen = detected[0] if len(detected) == 1 else None
        if chosen is None:
            return state, [Reply(Text.CHOOSE_NUMBER, language), *_ask(state, config)[1]]
        state = replace(state, language=chosen, menu=())
        if state.resume is not None and state.resume not in (Stage.START, Stage.LANGUAGE):
            return _ask(replace(state, stage=state.resume, resume=None), config)
        return _welcome(replace(state, resume=None), config)
    if stage is Stage.ANONYMITY:
        if number is None or not 1 <= number <= len(ANONYMITY_CHOICES):
            return state, [Reply(Text.CHOOSE_NUMBER, language), *_ask(state, config)[1]]
        anonymity = ANONYMITY_CHOICES[number - 1]
        return _ask(replace(state, stage=Stage.CONSENT, anonymity=anonymity), config)
    if stage is Stage.CONSENT:
        if number not in (1, 2):
            return state, [Reply(Text.CHOOSE_NUMBER, language), *_ask(state, config)[1]]
        consents = {
            "publish_summary": number == 1,
            "share_identity_with_company": state.anonymity == "open",
        }
        return _ask(replace(state, stage=Stage.STATEMENT, consents=consents), config)
    if stage is Stage.STATEMENT:
        if keyword is Keyword.DONE or number == int(DONE_DIGIT):
            if not state.statement:
                return _ask(state, config)
            return _ask(replace(state, stage=Stage.LOCATION), config)
        if sum(map(len, state.statement)) + len(text) > config.max_statement_chars:
            return _ask(replace(state, stage=Stage.LOCATION), config)
        first = not state.statement
        state = replace(state, statement=(*state.statement, text))
        return state, [Reply(Text.STATEMENT_MORE, language)] if first else []
    if stage in (Stage.LOCATION, Stage.COMPANY):
        skipped = keyword is Keyword.SKIP or number == int(SKIP_DIGIT)
        if stage is Stage.LOCATION:
            state = replace(state, stage=Stage.COMPANY, location="" if skipped else text)
            return _ask(state, config)
        return _file(replace(state, companies="" if skipped else text))
    if stage is Stage.FILING:
        return replace(state, waiting=(*state.waiting, text)), []
    # FILED
    if state.case_reference is None:  # pragma: no cover - FILED always has a case
        return _first(_fresh(state, Stage.START), text, config)
    if state.question == SATISFACTION and number is not None:
        if not 1 <= number <= len(SATISFACTION_CHOICES):
            return state, [Reply(Text.CHOOSE_NUMBER, language)]
        response = SATISFACTION_CHOICES[number - 1]
        return replace(state, question=None), [
            RecordSatisfaction(state.case_reference, response),
            Reply(Text.SATISFACTION_THANKS, language),
        ]
    return state, [
        AddMessageToCase(state.case_reference, text),
        Reply(Text.MESSAGE_SENT, language),
    ]


def _file(state: Conversation) -> Result:
    draft = Draft(
        handle=state.handle,
        language=_language(state),
        anonymity=state.anonymity or "anonymous",
        consents=dict(state.consents),
        statement="\n\n".join(state.statement),
        location=state.location,
        companies=state.companies,
    )
    return replace(state, stage=Stage.FILING, waiting=()), [FileCase(draft)]
