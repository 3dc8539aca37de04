"""The SMS dialogue as a pure state machine: no Flask, no database, no clock of its own.

    step(conversation, inbound, now, config) -> (conversation, actions)
    tick(conversation, now, config) -> (conversation, actions)         # the scheduler
    filed / refused / attached / status_reply                         # results coming back

The caller keeps one `Conversation` per phone number (found by the number's HMAC, the
`handle`), stores what `step` returns and carries out the actions in order. Nothing here
holds the number, and the receipt code appears only in the `Reply` that shows it once.

Stages of an intake: START → LANGUAGE (only when the first message does not tell the
language) → ANONYMITY → CONSENT → STATEMENT → LOCATION → COMPANY → FILING (the caller
files the case and calls `filed`) → FILED, where every later message goes to the case.
Each stage is a table (its question, its numbered answers, what ends or skips it, the
next stage) and one short handler (`stages.py`).

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

- `model.py`: the conversation, the inbound message, the actions, the configuration;
- `reading.py`: numbers and receipt codes in any script, the language of a script;
- `stages.py`: the tables of the stages and their handlers;
- `machine.py`: keywords, pieces, silence, and the entry points.
"""

from intake.sms.dialogue.machine import (
    ask_question,
    ask_satisfaction,
    attached,
    can_ask,
    filed,
    refused,
    status_reply,
    step,
    tick,
)
from intake.sms.dialogue.model import (
    INTAKE_STAGES,
    LANGUAGES,
    OUTBOUND,
    Action,
    AddMessageToCase,
    AttachByReceipt,
    Conversation,
    DialogueConfig,
    Draft,
    FileCase,
    HeldPiece,
    Inbound,
    LanguageMenu,
    OptIn,
    OptOut,
    Piece,
    RecordPlanAnswer,
    RecordSatisfaction,
    Reply,
    Result,
    SendStatus,
    Stage,
)
from intake.sms.dialogue.reading import (
    RECEIPT_DIGITS,
    ascii_digits,
    choice,
    detect_language,
    receipt_code,
)
from intake.sms.dialogue.stages import (
    ANONYMITY_CHOICES,
    ANSWERS,
    HANDLERS,
    QUESTIONS,
    REMEDY_PLAN,
    SATISFACTION,
    SATISFACTION_CHOICES,
    TABLES,
    Table,
    pausing,
)

__all__ = [
    "ANONYMITY_CHOICES",
    "ANSWERS",
    "HANDLERS",
    "INTAKE_STAGES",
    "LANGUAGES",
    "OUTBOUND",
    "QUESTIONS",
    "RECEIPT_DIGITS",
    "REMEDY_PLAN",
    "SATISFACTION",
    "SATISFACTION_CHOICES",
    "TABLES",
    "Action",
    "AddMessageToCase",
    "AttachByReceipt",
    "Conversation",
    "DialogueConfig",
    "Draft",
    "FileCase",
    "HeldPiece",
    "Inbound",
    "LanguageMenu",
    "OptIn",
    "OptOut",
    "Piece",
    "RecordPlanAnswer",
    "RecordSatisfaction",
    "Reply",
    "Result",
    "SendStatus",
    "Stage",
    "Table",
    "ascii_digits",
    "ask_question",
    "ask_satisfaction",
    "attached",
    "can_ask",
    "choice",
    "detect_language",
    "filed",
    "pausing",
    "receipt_code",
    "refused",
    "status_reply",
    "step",
    "tick",
]
