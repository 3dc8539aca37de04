"""The SMS intake's stage tables (`intake.sms.dialogue.stages`): complete, consistent with
the texts and the models, and what the dialogue does with them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from grievance.models import Anonymity
from grievance.services.filing import Filing
from grievance.services.remedy import Satisfaction
from intake.sms import dialogue
from intake.sms.dialogue import (
    HANDLERS,
    INTAKE_STAGES,
    QUESTIONS,
    SATISFACTION,
    TABLES,
    Conversation,
    DialogueConfig,
    FileCase,
    Inbound,
    LanguageMenu,
    Reply,
    Stage,
    step,
)
from intake.sms.dialogue.stages import ENDING_DIGITS
from intake.sms.texts import DIGIT_PARAMS, TEXTS, Text, msgid

HANDLE = "hmac-of-the-number"
CONFIG = DialogueConfig()
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
ORDER = [
    Stage.START,
    Stage.LANGUAGE,
    Stage.ANONYMITY,
    Stage.CONSENT,
    Stage.STATEMENT,
    Stage.LOCATION,
    Stage.COMPANY,
    Stage.FILING,
    Stage.FILED,
]
CHOOSING = [stage for stage in ORDER if TABLES[stage].choices]
ENDING = [stage for stage in ORDER if TABLES[stage].ending is not None]


def at(stage: Stage, **fields: Any) -> Conversation:
    """A conversation in English at `stage`, with what the earlier stages gathered."""
    return Conversation(
        handle=HANDLE,
        stage=stage,
        language="en",
        anonymity="open",
        consents={"publish_summary": True, "share_identity_with_company": True},
        **fields,
    )


def send(state: Conversation, text: str) -> tuple[Conversation, list[object]]:
    return step(state, Inbound(text, HANDLE), T0, CONFIG)


# -- the tables themselves ------------------------------------------------------------------


def test_every_stage_has_a_table_and_a_handler():
    assert set(TABLES) == set(Stage)
    assert set(HANDLERS) == set(Stage)


def test_the_stages_lead_from_start_to_filed_each_once_in_order():
    walk, stage = [Stage.START], TABLES[Stage.START].next
    while stage is not None:
        assert stage not in walk, stage
        walk.append(stage)
        stage = TABLES[stage].next
    assert walk == ORDER
    assert set(ORDER[1:-2]) == INTAKE_STAGES  # what expires: the questions before filing


def test_every_intake_stage_asks_a_question_that_is_a_text():
    for stage in INTAKE_STAGES:
        assert TABLES[stage].question is not None, stage
    asked = [text for table in TABLES.values() for text in (table.question, table.question_kept)]
    for check in QUESTIONS.values():
        asked += [check.question, check.thanks]
    for text in asked:
        assert text is None or text in TEXTS, text


@pytest.mark.parametrize(
    "choices",
    [TABLES[stage].choices for stage in CHOOSING] + [check.choices for check in QUESTIONS.values()],
)
def test_choices_are_numbered_from_one(choices):
    assert list(choices) == list(range(1, len(choices) + 1))
    assert len(set(choices.values())) == len(choices)


def test_each_question_offers_its_numbers():
    questions = [(TABLES[stage].question, TABLES[stage].choices) for stage in CHOOSING]
    questions += [(check.question, check.choices) for check in QUESTIONS.values()]
    for question, choices in questions:
        assert question is not None
        english = msgid(TEXTS[question])
        for number in choices:
            assert str(number) in english, (question, number)


def test_the_answers_are_what_the_models_take():
    assert set(TABLES[Stage.ANONYMITY].choices.values()) == {choice.value for choice in Anonymity}
    assert set(QUESTIONS[SATISFACTION].choices.values()) == {s.value for s in Satisfaction}
    assert set(TABLES[Stage.CONSENT].choices.values()) == {"yes", "no"}


def test_an_ending_is_shown_by_the_digit_that_ends_the_stage():
    assert ENDING == [Stage.STATEMENT, Stage.LOCATION, Stage.COMPANY]
    for stage in ENDING:
        table = TABLES[stage]
        assert table.ending is not None
        assert table.question is not None
        name = table.ending.value  # "done", "skip": the placeholder the texts show
        assert DIGIT_PARAMS[name] == ENDING_DIGITS[table.ending]
        assert f"%({name})s" in msgid(TEXTS[table.question]), stage


def test_only_the_intake_pauses_or_files_when_it_expires():
    for stage, table in TABLES.items():
        if table.pause or table.file_on_expiry:
            assert stage in INTAKE_STAGES, stage


# -- the dialogue follows them --------------------------------------------------------------


@pytest.mark.parametrize("stage", sorted(INTAKE_STAGES | {Stage.FILED}))
def test_start_asks_the_question_of_the_table(stage):
    table = TABLES[stage]
    state, actions = send(at(stage), "START")
    assert state.stage is stage
    assert actions[0] == Reply(table.question, "en")
    assert [type(action) for action in actions[1:]] == ([LanguageMenu] if table.menu else [])


def test_a_kept_statement_is_asked_for_with_the_other_question():
    _, actions = send(at(Stage.STATEMENT, statement=("They locked us in",)), "START")
    assert actions == [Reply(TABLES[Stage.STATEMENT].question_kept, "en")]


@pytest.mark.parametrize(
    ("stage", "number"),
    [(stage, number) for stage in CHOOSING for number in TABLES[stage].choices],
)
def test_every_choice_leads_to_the_next_stage(stage, number):
    table = TABLES[stage]
    state, actions = send(at(stage), str(number))
    assert state.stage is table.next
    assert actions == [Reply(TABLES[state.stage].question, "en")]
    chosen = table.choices[number]
    if stage is Stage.ANONYMITY:
        assert state.anonymity == chosen
    else:
        assert state.consents["publish_summary"] is (chosen == "yes")


@pytest.mark.parametrize("stage", CHOOSING)
@pytest.mark.parametrize("text", ["0", "9", "maybe later", "۴"])
def test_a_wrong_answer_asks_the_question_again(stage, text):
    state, actions = send(at(stage), text)
    assert state.stage is stage
    assert actions == [Reply(Text.CHOOSE_NUMBER, "en"), Reply(TABLES[stage].question, "en")]


@pytest.mark.parametrize("stage", ENDING)
def test_the_ending_digit_leads_to_the_next_stage(stage):
    table = TABLES[stage]
    assert table.ending is not None
    state, actions = send(at(stage, statement=("No pay",)), ENDING_DIGITS[table.ending])
    assert state.stage is table.next
    if table.next is Stage.FILING:
        assert [type(action) for action in actions] == [FileCase]
    else:
        assert actions == [Reply(TABLES[state.stage].question, "en")]


# -- a refused filing ------------------------------------------------------------------------


def _filing_state(**fields: Any) -> Conversation:
    """What `file` leaves: the intake at FILING, its answers kept."""
    base = {"statement": ("It happened.",), "location": "L" * 600, "companies": "Acme"}
    return at(Stage.FILING, **{**base, **fields})


def test_a_refused_answer_is_dropped_and_asked_for_again_after_its_reason() -> None:
    too_long = Reply(Text.TOO_LONG, "en", {"max": "500"})
    state, actions = dialogue.refused(_filing_state(), {Stage.LOCATION: too_long})
    assert state.stage is Stage.LOCATION
    assert (state.location, state.companies) == ("", "Acme")
    assert state.statement == ("It happened.",)
    assert actions == [too_long, Reply(Text.LOCATION, "en")]
    # the intake goes on from there, and files the new answer
    state, actions = step(state, Inbound("Gazipur", HANDLE), T0, CONFIG)
    state, actions = step(state, Inbound("Acme", HANDLE), T0, CONFIG)
    (filed,) = actions
    assert isinstance(filed, FileCase)
    assert (filed.draft.location, filed.draft.companies) == ("Gazipur", "Acme")


def test_the_first_refused_answer_is_asked_for_first_and_every_refused_one_dropped() -> None:
    reasons = {
        Stage.COMPANY: Reply(Text.TOO_LONG, "en", {"max": "500"}),
        Stage.LOCATION: Reply(Text.TOO_LONG, "en", {"max": "400"}),
    }
    state, actions = dialogue.refused(_filing_state(companies="C" * 600), reasons)
    assert (state.stage, state.location, state.companies) == (Stage.LOCATION, "", "")
    assert actions == [reasons[Stage.LOCATION], Reply(Text.LOCATION, "en")]


def test_a_refusal_sends_nothing_after_stop() -> None:
    too_long = Reply(Text.TOO_LONG, "en", {"max": "500"})
    state, actions = dialogue.refused(_filing_state(opted_out=True), {Stage.LOCATION: too_long})
    assert (state.stage, state.location, actions) == (Stage.LOCATION, "", [])


def test_the_answers_a_filing_may_refuse_are_fields_of_the_conversation_and_the_filing() -> None:
    for stage, name in dialogue.ANSWERS.items():
        assert TABLES[stage].question is not None
        assert name in Conversation.__dataclass_fields__
        assert name in Filing.__dataclass_fields__


def test_a_statement_is_full_at_the_limit_the_filing_counts_with_its_joints() -> None:
    """The parts are filed joined by a blank line: a part that would take the joined text
    over the limit is not added (the filing would refuse it)."""
    config = DialogueConfig(max_statement_chars=10)
    state = at(Stage.STATEMENT, statement=("abcd",))
    state, _ = step(state, Inbound("efgh", HANDLE), T0, config)  # "abcd\n\nefgh": 10
    assert state.statement == ("abcd", "efgh")
    state = at(Stage.STATEMENT, statement=("abcde",))
    state, actions = step(state, Inbound("fghij", HANDLE), T0, config)  # would be 12
    assert state.statement == ("abcde",)
    assert state.stage is Stage.LOCATION
    assert actions == [Reply(Text.LOCATION, "en")]
