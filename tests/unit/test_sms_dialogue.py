"""The SMS dialogue, pure: whole conversations, keywords, pieces, expiry, and properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.sms.dialogue import (
    INTAKE_STAGES,
    OUTBOUND,
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
    Stage,
    ask_satisfaction,
    attached,
    can_ask,
    choice,
    detect_language,
    filed,
    receipt_code,
    status_reply,
    step,
    tick,
)
from intake.sms.keywords import CARRIER_WORDS, WORDS, Keyword, fold, keyword_of
from intake.sms.texts import Text

HANDLE = "hmac-of-the-number"
CONFIG = DialogueConfig()
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
CODE = "1234567890123456"


class Phone:
    """Drives the dialogue like the webhook would, a minute between messages."""

    def __init__(self, config: DialogueConfig = CONFIG) -> None:
        self.state = Conversation(handle=HANDLE)
        self.now = T0
        self.config = config
        self.log: list[object] = []

    def send(self, text: str, piece: Piece | None = None, after: timedelta | None = None):
        self.now += after or timedelta(minutes=1)
        self.state, actions = step(self.state, Inbound(text, HANDLE, piece), self.now, self.config)
        self.log.extend(actions)
        return actions

    def tick(self, after: timedelta):
        self.now += after
        self.state, actions = tick(self.state, self.now, self.config)
        self.log.extend(actions)
        return actions


def keys(actions) -> list[object]:
    return [
        action.text if isinstance(action, Reply) else type(action).__name__ for action in actions
    ]


# -- input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1", 1),
        (" ২ ", 2),
        ("٣", 3),
        ("३.", 3),
        ("௧", 1),
        ("၂", 2),
        ("១", 1),
        ("፫", 3),
        ("x", None),
    ],
)
def test_choices_in_any_script(text, number):
    assert choice(text) == number


def test_receipt_codes_in_any_script():
    assert receipt_code("1234 5678 9012 3456") == CODE
    assert receipt_code("১২৩৪-৫৬৭৮-৯০১২-৩৪৫৬") == CODE
    assert receipt_code("١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦") == CODE
    assert receipt_code("१२३४ ५६७८ ९०१२ ३४५६") == CODE
    assert receipt_code("paid 1234567890123456 taka") is None
    assert receipt_code("123") is None


@pytest.mark.parametrize(
    ("text", "languages"),
    [
        ("আমার বেতন তিন মাস দেয়নি", ("bn",)),
        ("எனக்கு சம்பளம் கொடுக்கவில்லை", ("ta",)),
        ("मुझे तीन महीने से वेतन नहीं मिला", ("hi",)),
        ("لم يدفعوا لي الأجر منذ ثلاثة أشهر", ("ar",)),
        ("مجھے تین مہینے سے تنخواہ نہیں ملی", ("ur",)),
        ("مدد", ("ar", "ur")),
        # everyday Urdu writes آ and ئ, which Arabic writes too: still Urdu
        ("آپ کی مدد چاہیے، فیکٹری نے تنخواہ نہیں دی", ("ur",)),
        ("ہمیں تنخواہ نہیں ملی، مالک نے دھمکی دی ہے", ("ur",)),
        # Persian (not offered): never taken for Urdu, whose letters it shares
        ("سه ماه است که حقوق ما را نداده‌اند", ()),
        ("کارفرما به ما پول نپرداخت", ()),
        # Marathi and Nepali (not offered): never taken for Hindi
        ("मला तीन महिने पगार मिळाला नाही", ()),
        ("आम्हाला पगार दिला नाही आणि मालक धमकी देतो", ()),
        ("हामीलाई तीन महिनादेखि तलब दिइएको छैन", ()),
        ("कारखानामा काम गर्ने हामी सबैलाई तलब छैन", ()),
        ("လစာ မရပါ", ("my",)),
        ("ខ្ញុំមិនបានទទួលប្រាក់ខែ", ("km",)),
        ("ደሞዜ አልተከፈለኝም", ("am",)),
        ("工厂三个月没有发工资", ("zh",)),
        ("I was not paid", ()),
        ("Lương không được trả", ()),
    ],
)
def test_script_detection(text, languages):
    assert detect_language(text, CONFIG.languages) == languages


def test_no_keyword_word_means_two_things():
    seen: dict[str, Keyword] = {}
    for keyword, by_language in WORDS.items():
        for words in by_language.values():
            for word in words:
                assert seen.setdefault(fold(word), keyword) == keyword, word
    assert set(WORDS[Keyword.HELP]) == set(CONFIG.languages)


def test_keywords_are_whole_messages():
    assert keyword_of("Stop!") is Keyword.STOP
    assert keyword_of("  quit ") is Keyword.STOP
    assert keyword_of("please stop the overtime") is None
    for word in CARRIER_WORDS[Keyword.STOP]:
        assert keyword_of(word.lower()) is Keyword.STOP


# -- whole conversations ----------------------------------------------------------------------


def test_a_whole_conversation_in_bengali():
    phone = Phone()
    story = "আমাদের কারখানায় তিন মাস ধরে বেতন দেওয়া হয়নি"
    actions = phone.send(story)
    # The script tells the language: no menu; the first message is the start of the story.
    assert keys(actions) == [Text.WELCOME, Text.ANONYMITY]
    assert all(action.language == "bn" for action in actions)
    assert phone.state.statement == (story,)
    assert keys(phone.send("১")) == [Text.CONSENT_PUBLISH]  # Bengali digit one: anonymous
    assert keys(phone.send("২")) == [Text.STATEMENT_KEPT]
    assert phone.send("সুপারভাইজার আমাদের হুমকি দেয়") == []  # added silently
    assert keys(phone.send("শেষ")) == [Text.LOCATION]  # DONE in Bengali
    assert keys(phone.send("গাজীপুর")) == [Text.COMPANY]
    actions = phone.send("০")  # skip, Bengali zero
    assert keys(actions) == ["FileCase"]
    draft = actions[0].draft
    assert draft.language == "bn"
    assert draft.anonymity == "anonymous"
    assert draft.consents == {"publish_summary": False, "share_identity_with_company": False}
    assert draft.statement == story + "\n\nসুপারভাইজার আমাদের হুমকি দেয়"
    assert (draft.location, draft.companies, draft.handle) == ("গাজীপুর", "", HANDLE)
    assert phone.state.stage is Stage.FILING

    phone.send("আরও একটা কথা")  # while the case is being filed
    phone.state, actions = filed(phone.state, "TEX-2026-00042", CODE)
    assert actions[0] == Reply(
        Text.FILED, "bn", {"reference": "TEX-2026-00042", "code": "1234 5678 9012 3456"}
    )
    assert actions[1] == AddMessageToCase("TEX-2026-00042", "আরও একটা কথা")
    assert CODE not in repr(phone.state)  # shown once, never kept

    actions = phone.send("আজ আবার হুমকি দিয়েছে")
    assert actions == [
        AddMessageToCase("TEX-2026-00042", "আজ আবার হুমকি দিয়েছে"),
        Reply(Text.MESSAGE_SENT, "bn"),
    ]


@pytest.mark.parametrize(
    "first",
    [
        "سه ماه است که حقوق ما را نداده‌اند",  # Persian
        "मला तीन महिने पगार मिळाला नाही",  # Marathi
        "हामीलाई तीन महिनादेखि तलब दिइएको छैन",  # Nepali
    ],
)
def test_a_language_not_offered_gets_the_whole_menu_not_a_neighbour(first):
    phone = Phone()
    actions = phone.send(first)
    assert keys(actions) == [Text.WELCOME_MENU, "LanguageMenu"]
    assert actions[1] == LanguageMenu(tuple(CONFIG.languages))
    assert phone.state.language is None


def test_an_urdu_first_message_is_answered_in_urdu():
    phone = Phone()
    actions = phone.send("آپ کی مدد چاہیے، فیکٹری نے تنخواہ نہیں دی")
    assert keys(actions)[0] == Text.WELCOME
    assert phone.state.language == "ur"


def test_a_whole_conversation_in_arabic_with_the_choice_between_arabic_and_urdu():
    phone = Phone()
    actions = phone.send("مرحبا")  # Arabic script, too short to tell Arabic from Urdu
    assert keys(actions) == [Text.WELCOME_MENU, "LanguageMenu"]
    assert actions[1] == LanguageMenu(("ar", "ur"))
    assert phone.state.statement == ()  # a greeting is not a statement
    assert keys(phone.send("١")) == [Text.WELCOME, Text.ANONYMITY]
    assert phone.state.language == "ar"
    assert keys(phone.send("٢")) == [Text.CONSENT_PUBLISH]  # only the reviewers
    assert keys(phone.send("١")) == [Text.STATEMENT]
    assert keys(phone.send("طردوني من العمل لأنني انضممت إلى النقابة")) == [Text.STATEMENT_MORE]
    assert phone.send("وهددوا زملائي أيضا") == []
    assert keys(phone.send("تم")) == [Text.LOCATION]
    assert keys(phone.send("مصنع النسيج في الإسكندرية")) == [Text.COMPANY]
    actions = phone.send("شركة المثال")
    draft = actions[0].draft
    assert (draft.language, draft.anonymity) == ("ar", "confidential")
    assert draft.consents["publish_summary"] is True
    assert draft.companies == "شركة المثال"
    phone.state, actions = filed(phone.state, "TEX-2026-00043", CODE)
    assert keys(actions) == [Text.FILED]
    assert phone.state.stage is Stage.FILED


def test_latin_first_message_gets_the_whole_menu_in_the_default_language():
    phone = Phone()
    actions = phone.send("Hello")
    assert actions == [Reply(Text.WELCOME_MENU, "en"), LanguageMenu(CONFIG.languages)]
    assert keys(phone.send("17")) == [Text.WELCOME, Text.ANONYMITY]
    assert phone.state.language == "sw"


def test_a_wrong_answer_asks_again():
    phone = Phone()
    phone.send("Hello")
    assert keys(phone.send("99")) == [Text.CHOOSE_NUMBER, Text.LANGUAGE_PROMPT, "LanguageMenu"]
    phone.send("1")
    assert keys(phone.send("maybe")) == [Text.CHOOSE_NUMBER, Text.ANONYMITY]
    assert phone.state.stage is Stage.ANONYMITY


def test_open_complaint_consents_to_sharing_identity():
    phone = Phone()
    for text in ("Hello", "1", "3", "1", "They cut our wages", "1", "0"):
        phone.send(text)
    draft = phone.send("0")[0].draft
    assert draft.anonymity == "open"
    assert draft.consents == {"publish_summary": True, "share_identity_with_company": True}


# -- STOP, START, HELP --------------------------------------------------------------------------


def filed_phone() -> Phone:
    phone = Phone()
    for text in ("Hello", "1", "1", "2", "No pay for three months", "1", "0", "0"):
        phone.send(text)
    phone.state, _ = filed(phone.state, "TEX-2026-00001", CODE)
    return phone


STAGE_SCRIPTS = {
    Stage.START: [],
    Stage.LANGUAGE: ["Hello"],
    Stage.ANONYMITY: ["Hello", "1"],
    Stage.CONSENT: ["Hello", "1", "1"],
    Stage.STATEMENT: ["Hello", "1", "1", "2"],
    Stage.LOCATION: ["Hello", "1", "1", "2", "No pay", "1"],
    Stage.COMPANY: ["Hello", "1", "1", "2", "No pay", "1", "Gazipur"],
    Stage.FILING: ["Hello", "1", "1", "2", "No pay", "1", "Gazipur", "0"],
}


@pytest.mark.parametrize("stage", [*STAGE_SCRIPTS, Stage.FILED])
@pytest.mark.parametrize("word", ["STOP", "unsubscribe", "Cancel", "END", "quit", "বন্ধ", "توقف"])
def test_stop_at_any_stage_stops_everything(stage, word):
    if stage is Stage.FILED:
        phone = filed_phone()
    else:
        phone = Phone()
        for text in STAGE_SCRIPTS[stage]:
            phone.send(text)
    assert phone.state.stage is stage
    actions = phone.send(word)
    assert actions == [OptOut(HANDLE), Reply(Text.STOPPED, phone.state.language or "en")]
    for text in ("1", "hello", "STATUS", "NEW", "LANGUAGE", CODE, "STOP", "more words"):
        assert not [a for a in phone.send(text) if isinstance(a, OUTBOUND)], text
    assert not [a for a in phone.tick(timedelta(days=3)) if isinstance(a, OUTBOUND)]
    if phone.state.stage is Stage.FILING:
        phone.state, actions = filed(phone.state, "TEX-2026-00009", CODE)
        assert not [a for a in actions if isinstance(a, Reply)]
    # HELP always answers; START opts back in.
    assert keys(phone.send("HELP")) == [Text.HELP, Text.ATTACH_HINT]
    assert phone.send("START")[:2] == [
        OptIn(HANDLE),
        Reply(Text.STARTED, phone.state.language or "en"),
    ]
    assert not phone.state.opted_out


def test_messages_after_stop_still_reach_the_filed_case_silently():
    phone = filed_phone()
    phone.send("STOP")
    assert phone.send("they fired me today") == [
        AddMessageToCase("TEX-2026-00001", "they fired me today")
    ]


def test_unstop_and_help_in_another_language():
    phone = filed_phone()
    phone.send("quit")
    assert keys(phone.send("unstop")) == ["OptIn", Text.STARTED]
    assert keys(phone.send("MSAADA")) == [Text.HELP, Text.ATTACH_HINT]  # Swahili


# -- keywords -----------------------------------------------------------------------------------


def test_status_without_a_code_on_the_phone_of_the_case():
    phone = filed_phone()
    assert phone.send("status") == [SendStatus("en", case_reference="TEX-2026-00001")]
    assert phone.send("অবস্থা") == [SendStatus("en", case_reference="TEX-2026-00001")]


def test_status_with_a_code_from_any_phone():
    phone = Phone()
    assert phone.send("STATUS 1234 5678 9012 3456") == [SendStatus("en", receipt_code=CODE)]
    assert phone.send("অবস্থা ১২৩৪ ৫৬৭৮ ৯০১২ ৩৪৫৬") == [SendStatus("en", receipt_code=CODE)]
    assert keys(phone.send("status")) == [Text.STATUS_NEED_CODE]
    assert keys(phone.send("status 123")) == [Text.STATUS_NEED_CODE]
    assert phone.state.stage is Stage.START


def test_status_reply():
    assert status_reply("bn", "TEX-1", "words", None) == Reply(
        Text.STATUS, "bn", {"reference": "TEX-1", "stage": "words"}
    )
    assert status_reply("bn", "TEX-1", "words", "1 May").params["due"] == "1 May"


def test_attach_a_new_phone_by_receipt_code():
    phone = Phone()
    assert phone.send("১২৩৪ ৫৬৭৮ ৯০১২ ৩৪৫৬") == [AttachByReceipt(CODE, HANDLE)]
    _, actions = attached(phone.state, None)
    assert keys(actions) == [Text.UNKNOWN_CODE]
    phone.state, actions = attached(phone.state, "TEX-2026-00007")
    assert keys(actions) == [Text.ATTACHED]
    assert phone.state.stage is Stage.FILED
    assert phone.send("hello again")[0] == AddMessageToCase("TEX-2026-00007", "hello again")


def test_new_starts_another_complaint_and_keeps_the_language():
    phone = filed_phone()
    assert keys(phone.send("NEW")) == [Text.NEW, Text.ANONYMITY]
    assert phone.state.stage is Stage.ANONYMITY
    assert phone.state.language == "en"
    for text in ("1", "1", "Second complaint", "1", "0"):
        phone.send(text)
    assert phone.send("0")[0].draft.statement == "Second complaint"
    phone.state, _ = filed(phone.state, "TEX-2026-00002", CODE)
    assert phone.state.case_reference == "TEX-2026-00002"


def test_language_keyword_changes_language_and_comes_back():
    phone = Phone()
    for text in ("Hello", "1", "1"):
        phone.send(text)
    assert phone.state.stage is Stage.CONSENT
    assert keys(phone.send("LANGUAGE")) == [Text.LANGUAGE_PROMPT, "LanguageMenu"]
    actions = phone.send("3")
    assert actions == [Reply(Text.CONSENT_PUBLISH, "bn")]  # the same question, in Bengali
    assert phone.state.stage is Stage.CONSENT
    assert keys(phone.send("ভাষা")) == [Text.LANGUAGE_PROMPT, "LanguageMenu"]
    phone.send("العربية")  # a language may also be chosen by writing in it
    assert phone.state.language == "ar"


@pytest.mark.parametrize(
    ("word", "keyword_text"),
    [("AYUDA", Text.HELP), ("YARDIM", Text.HELP), ("帮助", Text.HELP), ("እርዳታ", Text.HELP)],
)
def test_help_in_other_languages(word, keyword_text):
    assert keys(Phone().send(word))[0] is keyword_text


# -- pieces, pauses, expiry ---------------------------------------------------------------------


def statement_phone() -> Phone:
    phone = Phone()
    for text in STAGE_SCRIPTS[Stage.STATEMENT]:
        phone.send(text)
    return phone


def test_pieces_of_one_sms_are_joined_in_order_whatever_order_they_come_in():
    phone = statement_phone()
    assert phone.send("c part.", Piece(7, 3, 3)) == []
    assert phone.send("A first ", Piece(7, 1, 3)) == []
    assert keys(phone.send("and b ", Piece(7, 2, 3))) == [Text.STATEMENT_MORE]
    assert phone.state.statement == ("A first and b c part.",)
    assert phone.state.pieces == ()


def test_a_missing_piece_is_not_waited_for_forever():
    phone = statement_phone()
    phone.send("one ", Piece(9, 1, 3))
    phone.send("three", Piece(9, 3, 3))
    assert phone.state.statement == ()
    phone.tick(CONFIG.piece_wait)
    assert phone.state.statement == ("one three",)


def test_a_pause_finishes_the_statement():
    phone = statement_phone()
    phone.send("They locked the doors")
    assert phone.tick(timedelta(minutes=5)) == []
    assert keys(phone.tick(CONFIG.statement_pause)) == [Text.LOCATION]
    assert phone.state.stage is Stage.LOCATION


def test_silence_expires_an_unfinished_intake_politely():
    phone = Phone()
    phone.send("Hello")
    phone.send("1")
    assert keys(phone.tick(CONFIG.expire_after)) == [Text.EXPIRED]
    assert phone.state.stage is Stage.START
    assert phone.state.language == "en"


def test_a_message_after_the_silence_gets_the_expiry_then_a_fresh_start():
    phone = Phone()
    phone.send("Hello")
    phone.send("1")
    actions = phone.send("hi", after=CONFIG.expire_after)
    assert keys(actions) == [Text.EXPIRED, Text.WELCOME, Text.ANONYMITY]


def test_an_expired_intake_with_a_statement_is_filed_not_lost():
    phone = statement_phone()
    phone.send("They locked the doors")
    phone.send("1")
    actions = phone.tick(CONFIG.expire_after)
    assert keys(actions) == ["FileCase"]
    assert actions[0].draft.statement == "They locked the doors"


def test_a_filed_case_does_not_expire():
    phone = filed_phone()
    assert phone.tick(timedelta(days=400)) == []
    assert keys(phone.send("still here", after=timedelta(days=400))) == [
        "AddMessageToCase",
        Text.MESSAGE_SENT,
    ]


# -- the satisfaction check ---------------------------------------------------------------------


def test_the_satisfaction_check_is_answered_by_a_number():
    phone = filed_phone()
    phone.state, actions = ask_satisfaction(phone.state, "TEX-2026-00001", "bn")
    assert actions == [
        Reply(Text.SATISFACTION_ASK, "en", {"reference": "TEX-2026-00001"})
    ]  # the conversation's language wins over the case's
    assert keys(phone.send("4")) == [Text.CHOOSE_NUMBER]
    assert keys(phone.send("what do you mean?")) == ["AddMessageToCase", Text.MESSAGE_SENT]
    actions = phone.send("٣")
    assert actions[0] == RecordSatisfaction("TEX-2026-00001", "no")
    assert keys(actions) == ["RecordSatisfaction", Text.SATISFACTION_THANKS]
    # answered: a number is a message again
    assert keys(phone.send("1")) == ["AddMessageToCase", Text.MESSAGE_SENT]


def test_a_new_conversation_is_asked_in_the_cases_language():
    state, actions = ask_satisfaction(Conversation(handle=HANDLE), "TEX-2026-00009", "ta")
    assert actions == [Reply(Text.SATISFACTION_ASK, "ta", {"reference": "TEX-2026-00009"})]
    assert (state.stage, state.case_reference, state.language) == (
        Stage.FILED,
        "TEX-2026-00009",
        "ta",
    )


@pytest.mark.parametrize("stage", sorted(INTAKE_STAGES | {Stage.FILING}))
def test_no_question_is_put_in_the_middle_of_an_intake(stage):
    state = Conversation(handle=HANDLE, stage=stage, language="bn")
    assert not can_ask(state)
    assert ask_satisfaction(state, "TEX-2026-00001", "bn") == (state, [])


def test_no_question_is_put_to_a_number_that_said_stop():
    phone = filed_phone()
    phone.send("STOP")
    assert ask_satisfaction(phone.state, "TEX-2026-00001", "en") == (phone.state, [])


# -- properties ---------------------------------------------------------------------------------

inputs = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["STOP", "START", "HELP", "STATUS", "NEW", "LANGUAGE", "1", "2", "3", "0", "১", "٢",
         "quit", "unstop", "বন্ধ", "DONE", "SKIP", CODE, f"STATUS {CODE}", "আমার বেতন দেয়নি"]
    ),
)  # fmt: skip
events = st.lists(
    st.tuples(
        st.sampled_from(["text", "piece", "tick", "filed", "attached"]),
        inputs,
        st.integers(min_value=0, max_value=3000),  # minutes
        st.integers(min_value=1, max_value=3),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(events)
def test_any_sequence_never_raises_and_nothing_is_sent_after_stop(sequence):
    state = Conversation(handle=HANDLE)
    now = T0
    for kind, text, minutes, part in sequence:
        now += timedelta(minutes=minutes)
        was_out = state.opted_out
        if kind == "text":
            state, actions = step(state, Inbound(text, HANDLE), now, CONFIG)
        elif kind == "piece":
            state, actions = step(state, Inbound(text, HANDLE, Piece(1, part, 3)), now, CONFIG)
        elif kind == "tick":
            state, actions = tick(state, now, CONFIG)
        elif kind == "filed" and state.stage is Stage.FILING:
            state, actions = filed(state, "TEX-2026-00001", CODE)
        elif kind == "attached":
            state, actions = attached(state, "TEX-2026-00001" if part > 1 else None)
        else:
            continue
        sent = [action for action in actions if isinstance(action, OUTBOUND)]
        if was_out and not any(isinstance(action, OptIn) for action in actions):
            assert all(
                isinstance(action, Reply) and action.text in (Text.HELP, Text.ATTACH_HINT)
                for action in sent
            ), (kind, text, actions)
        stops = [i for i, action in enumerate(actions) if isinstance(action, OptOut)]
        if stops:
            # Earlier messages of the same step may be answered; after the STOP only its
            # confirmation (and HELP) goes out, until START.
            after = [a for a in actions[stops[0] + 1 :] if isinstance(a, OUTBOUND)]
            assert isinstance(after[0], Reply)
            assert after[0].text is Text.STOPPED
            assert all(
                isinstance(action, Reply) and action.text in (Text.HELP, Text.ATTACH_HINT)
                for action in after[1:]
            ) or any(isinstance(action, OptIn) for action in actions)
        assert isinstance(state, Conversation)
        assert all(isinstance(action, FileCase) or action for action in actions)
