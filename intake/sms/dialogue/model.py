"""What the SMS dialogue works on: the conversation it keeps, the message it reads, the
actions it returns. Data only."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from intake.sms.texts import Text

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
class RecordPlanAnswer:
    """The person answered on the remedy plan: "agree", "disagree" or "talk"."""

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
    | OptOut | OptIn | RecordSatisfaction | RecordPlanAnswer
)  # fmt: skip
#: Actions that send something to the person.
OUTBOUND = (Reply, LanguageMenu, SendStatus)
Result = tuple[Conversation, list[Action]]


# -- a conversation's own helpers --------------------------------------------------------


def language_of(state: Conversation, config: DialogueConfig | None = None) -> str:
    """The language to answer in: the person's, else the default one."""
    if state.language:
        return state.language
    return config.default_language if config else "en"


def fresh(state: Conversation, stage: Stage, case_reference: str | None = None) -> Conversation:
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
