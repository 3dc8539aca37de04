"""The stages of an intake as tables, and one short handler per stage.

    START → LANGUAGE → ANONYMITY → CONSENT → STATEMENT → LOCATION → COMPANY → FILING → FILED

`TABLES` says, for each stage, the question it sends, the numbered answers it takes and
what each stands for, the keyword (and its digit) that ends it with nothing to add, and
the stage a good answer leads to. `HANDLERS` says what an answer does to the conversation
(store the value, then `advance` to the next stage's question). Asking is read from the
table alone (`ask`); a wrong answer gets CHOOSE_NUMBER and the question again (`again`).
The questions put once a case is filed (the satisfaction check) are tables too
(`QUESTIONS`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from intake.sms.dialogue.model import (
    Action,
    AddMessageToCase,
    Conversation,
    DialogueConfig,
    Draft,
    FileCase,
    LanguageMenu,
    RecordPlanAnswer,
    RecordSatisfaction,
    Reply,
    Result,
    Stage,
    fresh,
    language_of,
)
from intake.sms.dialogue.reading import choice, detect_language, tells_a_story
from intake.sms.keywords import DONE_DIGIT, SKIP_DIGIT, Keyword
from intake.sms.texts import Text

#: Between the parts of a statement, as filed.
STATEMENT_JOINER = "\n\n"
#: The digit sent instead of a keyword that ends a stage (the texts show it).
ENDING_DIGITS: Mapping[Keyword, str] = {Keyword.DONE: DONE_DIGIT, Keyword.SKIP: SKIP_DIGIT}


@dataclass(frozen=True)
class Table:
    """One stage of an intake, as data."""

    #: What asking the stage sends; None: nothing (START welcomes instead, FILING waits).
    question: Text | None = None
    #: Asked instead of `question` when the statement already has a part (the first
    #: message told the story).
    question_kept: Text | None = None
    #: The numbered language menu (`Conversation.menu`) follows the question; its numbers
    #: are the answers, and so is a message written in one of its languages.
    menu: bool = False
    #: A number sent -> the answer it stands for; any other message is a wrong answer.
    choices: Mapping[int, str] = field(default_factory=dict)
    #: The keyword that, like its digit (`ENDING_DIGITS`), ends the stage with nothing
    #: more: DONE (the statement is finished) or SKIP (no answer, kept empty).
    ending: Keyword | None = None
    #: Where an answer leads.
    next: Stage | None = None
    #: A silence of `DialogueConfig.statement_pause` ends the stage as `ending` does, once
    #: the statement has a part (`tick`).
    pause: bool = False
    #: An intake that expires here is filed with what it holds, if it holds a statement
    #: (the person told what happened and chose who may know); elsewhere it is closed.
    file_on_expiry: bool = False


TABLES: Mapping[Stage, Table] = {
    # No question: the first message gets the welcome in the language its script tells
    # (on to ANONYMITY), or else the language menu.
    Stage.START: Table(next=Stage.LANGUAGE),
    # Then the welcome, or back where the LANGUAGE keyword was sent.
    Stage.LANGUAGE: Table(
        question=Text.LANGUAGE_PROMPT,
        menu=True,
        next=Stage.ANONYMITY,
    ),
    Stage.ANONYMITY: Table(
        question=Text.ANONYMITY,
        choices={1: "anonymous", 2: "confidential", 3: "open"},
        next=Stage.CONSENT,
    ),
    # To publish a summary; the identity goes to the companies only for "open".
    Stage.CONSENT: Table(
        question=Text.CONSENT_PUBLISH,
        choices={1: "yes", 2: "no"},
        next=Stage.STATEMENT,
    ),
    # Every other message is one more part of the statement.
    Stage.STATEMENT: Table(
        question=Text.STATEMENT,
        question_kept=Text.STATEMENT_KEPT,
        ending=Keyword.DONE,
        next=Stage.LOCATION,
        pause=True,
        file_on_expiry=True,
    ),
    Stage.LOCATION: Table(
        question=Text.LOCATION,
        ending=Keyword.SKIP,
        next=Stage.COMPANY,
        file_on_expiry=True,
    ),
    Stage.COMPANY: Table(
        question=Text.COMPANY,
        ending=Keyword.SKIP,
        next=Stage.FILING,
        file_on_expiry=True,
    ),
    # The caller files the case (`FileCase`, then `filed`); messages meanwhile wait.
    Stage.FILING: Table(next=Stage.FILED),
    # Every message goes to the case; asked again (START), the stage answers HELP.
    Stage.FILED: Table(question=Text.HELP),
}


#: The answers the filing service may refuse (a text too long), by the stage that asks for
#: them: the `Conversation` field that keeps each, also the filing's field of that name.
ANSWERS: Mapping[Stage, str] = {Stage.LOCATION: "location", Stage.COMPANY: "companies"}


@dataclass(frozen=True)
class Check:
    """A question put to someone whose case is filed, answered by a number; any other
    message still goes to the case."""

    question: Text
    choices: Mapping[int, str]
    #: The action that records an answer: from the case's reference and the answer.
    record: Callable[[str, str], Action]
    thanks: Text


SATISFACTION = "satisfaction"
REMEDY_PLAN = "remedy_plan"
#: `Conversation.question` -> the question it is.
QUESTIONS: Mapping[str, Check] = {
    SATISFACTION: Check(
        question=Text.SATISFACTION_ASK,
        choices={1: "yes", 2: "partly", 3: "no"},
        record=RecordSatisfaction,
        thanks=Text.SATISFACTION_THANKS,
    ),
    # the consultation on a remedy plan before its approval (services.remedy_plan)
    REMEDY_PLAN: Check(
        question=Text.REMEDY_PLAN_ASK,
        choices={1: "agree", 2: "disagree", 3: "talk"},
        record=RecordPlanAnswer,
        thanks=Text.SATISFACTION_THANKS,
    ),
}

ANONYMITY_CHOICES = tuple(TABLES[Stage.ANONYMITY].choices.values())  # answers 1, 2, 3
SATISFACTION_CHOICES = tuple(QUESTIONS[SATISFACTION].choices.values())  # answers 1, 2, 3


@dataclass(frozen=True)
class Answer:
    """One message, read against the table of the stage it answers."""

    text: str
    keyword: Keyword | None
    #: The message as a menu number (`reading.choice`), if it is one.
    number: int | None
    table: Table

    @property
    def chosen(self) -> str | None:
        """What the number stands for in the table, or None for a wrong answer."""
        return self.table.choices.get(self.number) if self.number is not None else None

    @property
    def ends(self) -> bool:
        """Whether this is the stage's ending keyword, or its digit."""
        ending = self.table.ending
        if ending is None:
            return False
        return self.keyword is ending or self.number == int(ENDING_DIGITS[ending])


# -- moving through the stages -------------------------------------------------------------


def ask(state: Conversation, config: DialogueConfig) -> Result:
    """The question of the state's stage, as its table has it."""
    if state.stage is Stage.START:
        return first(state, "", config)
    table = TABLES[state.stage]
    question = table.question_kept if table.question_kept and state.statement else table.question
    actions: list[Action] = [Reply(question, language_of(state, config))] if question else []
    if table.menu:
        actions.append(LanguageMenu(state.menu or tuple(config.languages)))
    return state, actions


def again(state: Conversation, config: DialogueConfig) -> Result:
    """A wrong answer: CHOOSE_NUMBER, then the question again."""
    return state, [Reply(Text.CHOOSE_NUMBER, language_of(state, config)), *ask(state, config)[1]]


def advance(state: Conversation, config: DialogueConfig) -> Result:
    """On to the stage the table leads to, and its question."""
    stage = TABLES[state.stage].next
    assert stage is not None
    return ask(replace(state, stage=stage), config)


def pausing(state: Conversation) -> bool:
    """Whether a silence would end the stage now (`Table.pause`)."""
    return TABLES[state.stage].pause and bool(state.statement) and not state.opted_out


def first(state: Conversation, text: str, config: DialogueConfig) -> Result:
    """First contact: the language from the script if sure, else a menu."""
    keep = (text,) if text and tells_a_story(text, config) else ()
    state = replace(fresh(state, Stage.START), statement=keep)
    detected = detect_language(text, config.languages)
    if len(detected) == 1:
        return welcome(replace(state, language=detected[0]), config)
    if state.language is not None:  # known from before (NEW, an expired intake)
        return welcome(state, config)
    codes = detected or tuple(config.languages)
    state = replace(state, stage=Stage.LANGUAGE, menu=codes, resume=None)
    return state, [Reply(Text.WELCOME_MENU, config.default_language), LanguageMenu(codes)]


def welcome(state: Conversation, config: DialogueConfig) -> Result:
    state, actions = ask(replace(state, stage=Stage.ANONYMITY), config)
    return state, [Reply(Text.WELCOME, language_of(state, config)), *actions]


def file(state: Conversation) -> Result:
    """What the intake gathered, to be filed by the caller."""
    draft = Draft(
        handle=state.handle,
        language=language_of(state),
        anonymity=state.anonymity or "anonymous",
        consents=dict(state.consents),
        statement=STATEMENT_JOINER.join(state.statement),
        location=state.location,
        companies=state.companies,
    )
    return replace(state, stage=Stage.FILING, waiting=()), [FileCase(draft)]


# -- one handler per stage -------------------------------------------------------------------

Handler = Callable[[Conversation, Answer, DialogueConfig], Result]


def _start(state: Conversation, answer: Answer, config: DialogueConfig) -> Result:
    return first(state, answer.text, config)


def _language(state: Conversation, answer: Answer, config: DialogueConfig) -> Result:
    chosen: str | None
    if answer.number is not None and 1 <= answer.number <= len(state.menu):
        chosen = state.menu[answer.number - 1]
    else:  # written in the language itself
        detected = detect_language(answer.text, state.menu or config.languages)
        chosen = detected[0] if len(detected) == 1 else None
    if chosen is None:
        return again(state, config)
    state = replace(state, language=chosen, menu=())
    if state.resume is not None and state.resume not in (Stage.START, Stage.LANGUAGE):
        return ask(replace(state, stage=state.resume, resume=None), config)
    return welcome(replace(state, resume=None), config)


def _anonymity(state: Conversation, answer: Answer, config: DialogueConfig) -> Result:
    if answer.chosen is None:
        return again(state, config)
    return advance(replace(state, anonymity=answer.chosen), config)


def _consent(state: Conversation, answer: Answer, config: DialogueConfig) -> Result:
    if answer.chosen is None:
        return again(state, config)
    consents = {
        "publish_summary": answer.chosen == "yes",
        "share_identity_with_company": state.anonymity == "open",
    }
    return advance(replace(state, consents=consents), config)


def _statement(state: Conversation, answer: Answer, config: DialogueConfig) -> Result:
    if answer.ends:
        return advance(state, config) if state.statement else ask(state, config)
    if len(STATEMENT_JOINER.join((*state.statement, answer.text))) > config.max_statement_chars:
        return advance(state, config)  # full: this message is not added
    first_part = not state.statement
    state = replace(state, statement=(*state.statement, answer.text))
    return state, [Reply(Text.STATEMENT_MORE, language_of(state, config))] if first_part else []


def _location(state: Conversation, answer: Answer, config: DialogueConfig) -> Result:
    return advance(replace(state, location="" if answer.ends else answer.text), config)


def _company(state: Conversation, answer: Answer, config: DialogueConfig) -> Result:
    return file(replace(state, companies="" if answer.ends else answer.text))


def _filing(state: Conversation, answer: Answer, config: DialogueConfig) -> Result:
    return replace(state, waiting=(*state.waiting, answer.text)), []


def _filed(state: Conversation, answer: Answer, config: DialogueConfig) -> Result:
    if state.case_reference is None:  # pragma: no cover - FILED always has a case
        return first(fresh(state, Stage.START), answer.text, config)
    language = language_of(state, config)
    check = QUESTIONS.get(state.question) if state.question else None
    if check is not None and answer.number is not None:
        response = check.choices.get(answer.number)
        if response is None:
            return state, [Reply(Text.CHOOSE_NUMBER, language)]
        return replace(state, question=None), [
            check.record(state.case_reference, response),
            Reply(check.thanks, language),
        ]
    return state, [
        AddMessageToCase(state.case_reference, answer.text),
        Reply(Text.MESSAGE_SENT, language),
    ]


HANDLERS: Mapping[Stage, Handler] = {
    Stage.START: _start,
    Stage.LANGUAGE: _language,
    Stage.ANONYMITY: _anonymity,
    Stage.CONSENT: _consent,
    Stage.STATEMENT: _statement,
    Stage.LOCATION: _location,
    Stage.COMPANY: _company,
    Stage.FILING: _filing,
    Stage.FILED: _filed,
}


def answer(
    state: Conversation, text: str, keyword: Keyword | None, config: DialogueConfig
) -> Result:
    """What a message (not a keyword the machine answers) does at the state's stage."""
    reading = Answer(text, keyword, choice(text), TABLES[state.stage])
    return HANDLERS[state.stage](state, reading, config)
