"""Whole SMS conversations through the signed webhook, the worker and the fake Twilio: cases
filed in Bengali and Arabic, STOP and START, the reviewers' messages, STATUS, a new phone
linked by its receipt code, silence, pieces of a long SMS, and the number kept out of
sight (the database, the log, the pages) and forgotten when it must be."""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import URL, create_engine, func, make_url, select, text
from sqlalchemy.pool import NullPool

from grievance import MIGRATIONS, create_app
from grievance.config import Settings
from grievance.crypto import derived
from grievance.crypto.keyring import Keyring
from grievance.extensions import db
from grievance.http.context import app_services, service_context
from grievance.models import (
    Anonymity,
    Case,
    Channel,
    Complainant,
    ContactChannel,
    Direction,
    Message,
    OutboundMessage,
    OutboxStatus,
    Role,
    SmsConversation,
    Stage,
    User,
)
from grievance.services import accounts, cases, filing, identity, messages
from grievance.services.actors import Actor
from grievance.services.context import Context
from grievance.services.errors import NotAllowed
from grievance.services.filing import FiledCase
from intake.sms import dialogue, store, texts
from intake.sms.conversations import SmsSettings, translations
from intake.sms.dialogue import Conversation, HeldPiece
from intake.sms.texts import Text
from tests import factories
from tests.apps import surfaces
from tests.conftest import RequestIsolatingClient
from tests.fake_twilio import FakeTwilio
from tests.sms_helpers import (
    OUR_NUMBER,
    Phone,
    SmsLine,
    receipt_code_in,
    rendered,
    shared_fake,
    sms_line,
)

NUMBER = "+8801711000001"
#: The number as it may be written: E.164, without its "+", as dialled in Bangladesh.
NUMBER_FORMS = ("+8801711000001", "8801711000001", "01711000001")
OTHER_NUMBER = "+8801711000002"
OTHER_NUMBER_FORMS = ("+8801711000002", "8801711000002", "01711000002")
STORY = "আমাদের কারখানায় তিন মাস ধরে বেতন দেওয়া হয়নি"
MORE = "সুপারভাইজার আমাদের হুমকি দেয়"
LOCATION = "গাজীপুর, লাইন ৯"
COMPANY = "ঢাকা গার্মেন্টস লিমিটেড"
REFERENCE = re.compile(r"TEX-\d{4}-\d{5}")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTwilio]:
    with shared_fake() as running:
        yield running


@dataclass
class Reviewers:
    lead: User
    second: User


@pytest.fixture
def reviewers(ctx) -> Reviewers:
    """The mechanism, and two reviewers who read Bengali, Arabic and English, there before
    any case is filed."""
    factories.make_mechanism(ctx)
    lead = factories.make_reviewer(ctx, languages=["bn", "ar", "en"])
    second = factories.make_reviewer(ctx, languages=["bn", "ar", "en"])
    return Reviewers(lead, second)


@pytest.fixture
def line(app, ctx, session, settings, fake, reviewers) -> Iterator[SmsLine]:
    session.commit()
    with sms_line(app, ctx, settings, fake=fake) as running:
        yield running


def bn(text: Text, **params: str) -> str:
    return rendered(text, "bn", **params)


def en(text: Text, **params: str) -> str:
    return rendered(text, "en", **params)


def ar(text: Text, **params: str) -> str:
    return rendered(text, "ar", **params)


def _grouped(code: str) -> str:
    """The receipt code as the FILED text shows it."""
    return " ".join(code[i : i + 4] for i in range(0, 16, 4))


@dataclass
class Filed:
    phone: Phone
    case: Case
    complainant: Complainant
    code: str

    @property
    def filed_case(self) -> FiledCase:
        return FiledCase(case=self.case, complainant=self.complainant, receipt_code=self.code)


def case_of(ctx: Context, message: str) -> Case:
    match = REFERENCE.search(message)
    assert match, message
    return ctx.session.scalars(select(Case).where(Case.reference == match.group(0))).one()


def file_in_bengali(
    line: SmsLine, reviewers: Reviewers, number: str = NUMBER, anonymity: str = "১"
) -> Filed:
    """A whole Bengali intake from `number`; the case's reviewers are the fixture's."""
    phone = line.phone(number)
    received = phone.send(STORY, anonymity, "২", MORE, "শেষ", LOCATION, "০")
    case = case_of(line.ctx, received[-1])
    factories.put_reviewers(line.ctx, case, reviewers.lead, reviewers.second)
    line.ctx.session.commit()
    return Filed(phone, case, case.complainants[0], receipt_code_in(received[-1]))


def handle_of(ctx: Context, number: str) -> str:
    return ctx.vault.lookup_hash("phone", number)


def menu_number(menu: list[str], code: str) -> str:
    """The number the language menu gives `code`."""
    name = texts.language_name(code)
    for message in menu:
        for entry in message.splitlines():
            number, _, shown = entry.partition(" ")
            if shown == name:
                return number
    raise AssertionError(f"{code} is not in the menu")


def events(ctx: Context, case: Case, kind: str) -> list:
    return factories.events_of(ctx.session, case, kind)


# -- whole conversations ---------------------------------------------------------------------


def test_a_whole_bengali_conversation_files_a_case(line, ctx, session):
    phone = line.phone(NUMBER)
    # The script tells the language: no menu; the story is the statement's first part.
    assert phone.send(STORY) == [bn(Text.WELCOME), bn(Text.ANONYMITY)]
    assert phone.send("১") == [bn(Text.CONSENT_PUBLISH)]  # Bengali one: anonymous
    assert phone.send("২") == [bn(Text.STATEMENT_KEPT)]  # no published summary
    assert phone.send(MORE) == []  # one more part, silently
    assert phone.send("রাতে গেট তালা দেওয়া থাকে") == []
    assert phone.send("শেষ") == [bn(Text.LOCATION)]  # DONE in Bengali
    assert phone.send(LOCATION) == [bn(Text.COMPANY)]
    assert session.scalar(select(func.count()).select_from(Case)) == 0
    received = phone.send(COMPANY)
    assert len(received) == 1
    case = case_of(ctx, received[0])
    code = receipt_code_in(received[0])
    grouped = _grouped(code)
    assert received == [bn(Text.FILED, reference=case.reference, code=grouped)]

    assert case.language == "bn"
    assert case.channel is Channel.SMS
    vault = ctx.vault
    assert vault.open(case.id, "statement", case.statement_enc) == "\n\n".join(
        [STORY, MORE, "রাতে গেট তালা দেওয়া থাকে"]
    )
    assert case.location_enc is not None
    assert case.companies_enc is not None
    assert vault.open(case.id, "location", case.location_enc) == LOCATION
    assert vault.open(case.id, "companies", case.companies_enc) == COMPANY
    complainant = case.complainants[0]
    assert complainant.anonymity is Anonymity.ANONYMOUS
    assert complainant.contact_channel is ContactChannel.SMS
    assert complainant.phone_lookup == handle_of(ctx, NUMBER)
    assert complainant.contact_enc is not None
    contact = vault.open(case.id, f"complainant.{complainant.id}.contact", complainant.contact_enc)
    assert contact == NUMBER
    assert {c.purpose: c.granted for c in complainant.consents} == {
        "publish_summary": False,
        "share_identity_with_company": False,
    }
    # the code in the last SMS opens the case
    found = filing.find_complainant(ctx, grouped)
    assert found is not None
    assert found.id == complainant.id
    assert found.case.id == case.id
    # every text went out by SMS, from our number, and none holds the code but the last
    forms = line.fake.messages
    assert {(form["To"], form["From"]) for form in forms} == {(NUMBER, OUR_NUMBER)}
    assert [code in form["Body"].replace(" ", "") for form in forms].count(True) == 1


def test_a_whole_arabic_conversation_files_a_case(line, ctx):
    phone = line.phone(NUMBER)
    story = "طردوني من العمل لأنني انضممت إلى النقابة"  # ة and أ: Arabic, not Urdu
    assert phone.send(story) == [ar(Text.WELCOME), ar(Text.ANONYMITY)]
    assert phone.send("٢") == [ar(Text.CONSENT_PUBLISH)]  # Arabic-Indic two: the reviewers
    assert phone.send("١") == [ar(Text.STATEMENT_KEPT)]  # a summary may be published
    assert phone.send("وهددوا زملائي أيضا") == []
    assert phone.send("تم") == [ar(Text.LOCATION)]  # DONE in Arabic
    assert phone.send("مصنع النسيج في الإسكندرية") == [ar(Text.COMPANY)]
    received = phone.send("شركة المثال")
    case = case_of(ctx, received[-1])
    assert received == [
        ar(Text.FILED, reference=case.reference, code=_grouped(receipt_code_in(received[-1])))
    ]
    assert (case.language, case.channel) == ("ar", Channel.SMS)
    assert ctx.vault.open(case.id, "statement", case.statement_enc) == (
        story + "\n\nوهددوا زملائي أيضا"
    )
    assert case.companies_enc is not None
    assert ctx.vault.open(case.id, "companies", case.companies_enc) == "شركة المثال"
    complainant = case.complainants[0]
    assert complainant.anonymity is Anonymity.CONFIDENTIAL
    assert {c.purpose: c.granted for c in complainant.consents}["publish_summary"] is True
    assert filing.find_complainant(ctx, receipt_code_in(received[-1])).id == complainant.id


def test_a_latin_first_message_gets_the_menu_and_a_number_chooses_arabic(line, ctx):
    phone = line.phone(NUMBER)
    received = phone.send("Hello")
    assert received[0] == en(Text.WELCOME_MENU)
    menu = received[1:]
    assert menu == texts.language_menu(dialogue.LANGUAGES)  # every language the policy offers
    assert phone.send("Arabic please") == [en(Text.CHOOSE_NUMBER), en(Text.LANGUAGE_PROMPT), *menu]
    assert phone.send(menu_number(menu, "ar")) == [ar(Text.WELCOME), ar(Text.ANONYMITY)]
    assert phone.send("1") == [ar(Text.CONSENT_PUBLISH)]
    assert phone.send("2") == [ar(Text.STATEMENT)]  # "Hello" told no story: nothing kept
    assert phone.send("لم يدفعوا لنا الأجر") == [ar(Text.STATEMENT_MORE)]
    assert phone.send("1", "0") == [ar(Text.LOCATION), ar(Text.COMPANY)]
    received = phone.send("0")
    case = case_of(ctx, received[-1])
    assert case.language == "ar"
    assert ctx.vault.open(case.id, "statement", case.statement_enc) == "لم يدفعوا لنا الأجر"
    assert case.location_enc is None
    assert case.companies_enc is None


def test_an_arabic_greeting_offers_arabic_and_urdu(line):
    phone = line.phone(NUMBER)
    received = phone.send("مرحبا")  # Arabic script, too short to tell Arabic from Urdu
    assert received == [en(Text.WELCOME_MENU), *texts.language_menu(("ar", "ur"))]
    assert phone.send("٢") == [rendered(Text.WELCOME, "ur"), rendered(Text.ANONYMITY, "ur")]


# -- STOP ------------------------------------------------------------------------------------


def _reviewer_writes(ctx: Context, case: Case, reviewer: User, body: str) -> Message:
    message = messages.add_message(ctx, case, Actor.for_user(reviewer), body, Channel.WEB)
    ctx.session.commit()
    return message


@pytest.mark.parametrize("word", ["STOP", "unsubscribe", "বন্ধ"])
def test_stop_confirms_once_then_nothing_reaches_the_phone_until_start(
    line, ctx, session, reviewers, word
):
    filed = file_in_bengali(line, reviewers)
    phone, case = filed.phone, filed.case
    # a reviewer's message waits in the outbox when STOP comes: it never goes
    waiting = _reviewer_writes(ctx, case, reviewers.lead, "আপনি কি কারখানার নাম জানেন?")
    assert phone.send(word) == [bn(Text.STOPPED)]
    queued = session.scalars(
        select(OutboundMessage).where(OutboundMessage.message_id == waiting.id)
    ).one()
    assert queued.status is OutboxStatus.CANCELLED

    # the dialogue says nothing, but the words still reach the case
    assert phone.send("আজ আবার হুমকি দিয়েছে") == []
    texts_in_case = [
        messages.read_message(ctx, message)
        for message in session.scalars(
            select(Message).where(Message.direction == Direction.FROM_COMPLAINANT)
        )
    ]
    assert texts_in_case == ["আজ আবার হুমকি দিয়েছে"]
    assert phone.send(word) == []  # one confirmation, not one each time
    assert phone.send("STOP") == []
    # a reviewer's message is not sent either
    _reviewer_writes(ctx, case, reviewers.lead, "আমরা কারখানার সাথে কথা বলেছি।")
    line.work()
    assert phone.received() == []
    assert phone.wait(timedelta(days=3)) == []

    # HELP is always answered
    assert phone.send("HELP") == [bn(Text.HELP), bn(Text.ATTACH_HINT)]
    # START, in the person's language too, ends it
    assert phone.send("শুরু") == [bn(Text.STARTED)]
    _reviewer_writes(ctx, case, reviewers.lead, "কাল আমরা কারখানায় যাব।")
    line.work()
    assert phone.received() == [f"{case.reference}: কাল আমরা কারখানায় যাব।"]


def test_stop_in_the_middle_of_an_intake_stops_the_dialogue(line, session):
    phone = line.phone(NUMBER)
    phone.send(STORY)
    assert phone.send("UNSUBSCRIBE") == [bn(Text.STOPPED)]
    assert phone.send("১") == []  # the next answer gets no question back
    assert phone.send("২") == []
    assert phone.wait(timedelta(days=2)) == []  # nor a goodbye when the intake expires
    assert session.scalar(select(func.count()).select_from(Case)) == 0
    assert phone.send("START") == [bn(Text.STARTED)]


# -- the reviewers ---------------------------------------------------------------------------


def test_a_reviewers_reply_reaches_the_phone_with_the_case_reference(line, ctx, session, reviewers):
    filed = file_in_bengali(line, reviewers)
    body = "আমরা কারখানার সাথে কথা বলছি।"
    message = _reviewer_writes(ctx, filed.case, reviewers.lead, body)
    assert filed.phone.received() == []  # queued, not sent: the worker sends
    line.work()
    assert filed.phone.received() == [f"{filed.case.reference}: {body}"]
    sent = line.fake.messages[-1]
    assert (sent["To"], sent["From"]) == (NUMBER, OUR_NUMBER)
    row = session.scalars(
        select(OutboundMessage).where(OutboundMessage.message_id == message.id)
    ).one()
    assert row.status is OutboxStatus.SENT
    assert row.case_id == filed.case.id
    assert row.channel is Channel.SMS
    assert row.provider_sid
    assert row.address_enc is None  # emptied once sent
    assert row.body_enc == b""


def test_later_messages_from_the_number_go_to_the_case(line, ctx, session, reviewers):
    filed = file_in_bengali(line, reviewers)
    later = ["আজ আবার হুমকি দিয়েছে", "ছবি আছে 📷"]
    for body in later:
        assert filed.phone.send(body) == [bn(Text.MESSAGE_SENT)]
    rows = session.scalars(
        select(Message).where(Message.case_id == filed.case.id).order_by(Message.id)
    ).all()
    assert [messages.read_message(ctx, row) for row in rows] == later
    assert {row.direction for row in rows} == {Direction.FROM_COMPLAINANT}
    assert {row.complainant_id for row in rows} == {filed.complainant.id}
    assert {row.channel for row in rows} == {Channel.SMS}
    assert len(events(ctx, filed.case, "message_from_complainant")) == 2
    assert session.scalar(select(func.count()).select_from(Case)) == 1  # no second case


# -- STATUS ----------------------------------------------------------------------------------


def _stage_words(stage: str, language: str) -> str:
    return texts.stage_words(stage, translations(language))


def test_status_answers_with_the_stage(line, ctx, reviewers):
    filed = file_in_bengali(line, reviewers)
    (answer,) = filed.phone.send("STATUS")
    assert filed.case.reference in answer
    assert _stage_words("received", "bn") in answer
    cases.transition(ctx, filed.case, Stage.ACKNOWLEDGED, Actor.for_user(reviewers.lead))
    ctx.session.commit()
    (answer,) = filed.phone.send("অবস্থা")  # STATUS in Bengali
    assert filed.case.reference in answer
    assert _stage_words("acknowledged", "bn") in answer
    assert _stage_words("received", "bn") not in answer


def test_status_with_the_receipt_code_answers_any_phone(line, ctx, session, reviewers):
    filed = file_in_bengali(line, reviewers)
    other = line.phone(OTHER_NUMBER)
    (answer,) = other.send(f"STATUS {_grouped(filed.code)}")
    assert filed.case.reference in answer
    assert _stage_words("received", "en") in answer
    assert other.send("STATUS 1234 5678 9012 3456") == [en(Text.UNKNOWN_CODE)]
    assert other.send("STATUS") == [en(Text.STATUS_NEED_CODE)]
    # looking is not linking
    assert filed.complainant.phone_lookup == handle_of(ctx, NUMBER)
    assert events(ctx, filed.case, "contact_changed") == []
    conversation = session.scalars(
        select(SmsConversation).where(SmsConversation.handle == handle_of(ctx, OTHER_NUMBER))
    ).one()
    assert conversation.case_id is None


# -- a new phone -----------------------------------------------------------------------------


def test_a_new_phone_that_sends_the_receipt_code_is_linked(line, ctx, session, reviewers):
    filed = file_in_bengali(line, reviewers)
    new = line.phone(OTHER_NUMBER, whatsapp=True)
    assert new.send(_grouped(filed.code)) == [bn(Text.ATTACHED, reference=filed.case.reference)]
    complainant = session.get_one(Complainant, filed.complainant.id)
    assert complainant.phone_lookup == handle_of(ctx, OTHER_NUMBER)
    assert complainant.contact_channel is ContactChannel.WHATSAPP
    (changed,) = events(ctx, filed.case, "contact_changed")
    assert changed.payload["complainant_id"] == complainant.id
    assert changed.payload["by"] == "receipt_code"
    assert OTHER_NUMBER not in str(changed.payload)
    # the reviewers' replies go to the new phone now, and only there
    _reviewer_writes(ctx, filed.case, reviewers.lead, "নতুন ফোন পেয়েছি।")
    line.work()
    assert new.received() == [f"{filed.case.reference}: নতুন ফোন পেয়েছি।"]
    assert filed.phone.received() == []
    # and what the new phone says goes to the case
    assert new.send("ধন্যবাদ") == [bn(Text.MESSAGE_SENT)]
    row = session.scalars(
        select(Message).where(Message.direction == Direction.FROM_COMPLAINANT)
    ).one()
    assert (messages.read_message(ctx, row), row.channel) == ("ধন্যবাদ", Channel.WHATSAPP)
    # the old phone (lost, or taken) no longer reaches the case: it starts afresh
    filed.phone.send("আমি কি এখনও লিখতে পারি")
    old = session.scalars(
        select(SmsConversation).where(SmsConversation.handle == handle_of(ctx, NUMBER))
    ).one()
    assert old.case_id is None
    assert old.complainant_id is None
    from_complainant = select(Message).where(Message.direction == Direction.FROM_COMPLAINANT)
    assert session.scalars(from_complainant).all() == [row]


def test_more_than_five_receipt_codes_an_hour_are_not_checked(
    line, ctx, session, reviewers, monkeypatch
):
    filed = file_in_bengali(line, reviewers)
    checked: list[str] = []
    find = filing.find_complainant

    def counting(ctx, code):
        checked.append(code)
        return find(ctx, code)

    monkeypatch.setattr(filing, "find_complainant", counting)
    guesser = line.phone(OTHER_NUMBER)
    for guess in range(5):
        assert guesser.send(f"{guess:016d}") == [en(Text.UNKNOWN_CODE)]
    assert len(checked) == 5
    # the sixth, the right one, is not even looked at
    assert guesser.send(filed.code) == [en(Text.UNKNOWN_CODE)]
    assert guesser.send(f"STATUS {filed.code}") == [en(Text.UNKNOWN_CODE)]
    assert len(checked) == 5
    assert events(ctx, filed.case, "contact_changed") == []
    # another hour, another five
    line.clock.advance(timedelta(hours=1))
    assert guesser.send(filed.code) == [bn(Text.ATTACHED, reference=filed.case.reference)]
    assert len(checked) == 6
    assert len(events(ctx, filed.case, "contact_changed")) == 1


# -- silence and pieces ----------------------------------------------------------------------


def test_an_unfinished_conversation_expires_after_the_configured_silence(line, ctx, session):
    line.sms = SmsSettings(expire_after=timedelta(hours=2))
    phone = line.phone(NUMBER)
    phone.send("Hello")
    assert phone.send("1") == [en(Text.WELCOME), en(Text.ANONYMITY)]  # 1: English
    assert phone.send("2") == [en(Text.CONSENT_PUBLISH)]
    assert phone.wait(timedelta(hours=1, minutes=59)) == []
    assert phone.wait(timedelta(minutes=1)) == [en(Text.EXPIRED)]
    assert phone.wait(timedelta(days=1)) == []  # once
    assert session.scalar(select(func.count()).select_from(Case)) == 0
    conversation = session.scalars(select(SmsConversation)).one()
    assert conversation.stage == "start"
    assert conversation.due_at is None
    # a message after it starts afresh, in the language known
    assert phone.send("Hi again") == [en(Text.WELCOME), en(Text.ANONYMITY)]


def test_pieces_of_a_long_sms_out_of_order_are_joined_in_order(line, ctx):
    phone = line.phone(NUMBER)
    phone.send("Hello", "1", "1", "2")  # English, anonymous, no summary: the statement
    assert phone.send("(2/2) the doors at night and takes our phones.") == []
    assert phone.send("(1/2) The supervisor locks ") == [en(Text.STATEMENT_MORE)]
    phone.post("(2/2) the night shift.")  # both pieces in one round of the worker
    phone.post("(1/2) It happens on ")
    phone.line.work()
    assert phone.received() == []
    received = phone.send("DONE", "SKIP", "SKIP")
    case = case_of(ctx, received[-1])
    assert ctx.vault.open(case.id, "statement", case.statement_enc) == (
        "The supervisor locks the doors at night and takes our phones."
        "\n\nIt happens on the night shift."
    )


def test_a_missing_piece_is_not_waited_for_forever(line, ctx):
    phone = line.phone(NUMBER)
    phone.send("Hello", "1", "1", "2")
    assert phone.send("(1/3) They locked ", "(3/3) the gate.") == []
    assert phone.wait(timedelta(minutes=6)) == [en(Text.STATEMENT_MORE)]
    received = phone.send("1", "0", "0")
    case = case_of(ctx, received[-1])
    assert ctx.vault.open(case.id, "statement", case.statement_enc) == "They locked the gate."


# -- the number out of sight -----------------------------------------------------------------


def test_an_anonymous_number_is_forgotten_when_the_case_closes(line, ctx, session, reviewers):
    filed = file_in_bengali(line, reviewers, anonymity="১")
    handle = handle_of(ctx, NUMBER)
    assert session.scalar(
        select(func.count()).select_from(SmsConversation).where(SmsConversation.handle == handle)
    )
    factories.walk_to(ctx, filed.filed_case, Stage.CLOSED, reviewers.lead, reviewers.second)
    session.commit()
    complainant = session.get_one(Complainant, filed.complainant.id)
    session.refresh(complainant)
    assert complainant.contact_enc is None
    assert complainant.phone_lookup is None
    assert complainant.contact_channel is ContactChannel.NONE
    assert (
        session.scalar(
            select(func.count())
            .select_from(SmsConversation)
            .where(SmsConversation.case_id == filed.case.id)
        )
        == 0
    )
    (closed,) = [e for e in events(ctx, filed.case, "stage_changed") if e.stage_to is Stage.CLOSED]
    assert closed.payload["phone_contacts_erased"] == 1
    with pytest.raises(NotAllowed):
        identity.reveal_identity(
            ctx, filed.case, complainant, Actor.for_user(reviewers.lead), "To call back"
        )
    # the number is a stranger now: a message starts a new conversation
    assert filed.phone.send("আবার") == [bn(Text.WELCOME), bn(Text.ANONYMITY)]
    # and the receipt code does not bring the number back into the ended case
    assert filed.phone.send(filed.code) == [bn(Text.UNKNOWN_CODE)]
    session.refresh(complainant)
    assert (complainant.contact_enc, complainant.phone_lookup) == (None, None)
    assert events(ctx, filed.case, "contact_changed") == []
    assert (
        session.scalar(
            select(func.count())
            .select_from(SmsConversation)
            .where(SmsConversation.case_id == filed.case.id)
        )
        == 0
    )
    # what the code may still do: tell the stage
    (answer,) = filed.phone.send(f"STATUS {filed.code}")
    assert _stage_words("closed", "bn") in answer


def test_a_confidential_number_is_kept_and_revealed_only_with_a_logged_reason(
    line, ctx, session, reviewers
):
    filed = file_in_bengali(line, reviewers, anonymity="২")
    assert filed.complainant.anonymity is Anonymity.CONFIDENTIAL
    factories.walk_to(ctx, filed.filed_case, Stage.CLOSED, reviewers.lead, reviewers.second)
    session.commit()
    complainant = session.get_one(Complainant, filed.complainant.id)
    assert complainant.contact_enc is not None
    assert complainant.phone_lookup == handle_of(ctx, NUMBER)
    assert session.scalars(
        select(SmsConversation).where(SmsConversation.case_id == filed.case.id)
    ).one()
    assert events(ctx, filed.case, "identity_revealed") == []
    shown = identity.reveal_identity(
        ctx, filed.case, complainant, Actor.for_user(reviewers.lead), "To call back"
    )
    assert shown.contact == NUMBER
    (revealed,) = events(ctx, filed.case, "identity_revealed")
    assert revealed.actor_id == reviewers.lead.id
    assert revealed.payload["reason"] == "To call back"
    assert NUMBER not in str(revealed.payload)
    outsider = factories.make_reviewer(ctx, languages=["bn"])
    with pytest.raises(NotAllowed):
        identity.reveal_identity(ctx, filed.case, complainant, Actor.for_user(outsider), "Curious")


# -- nowhere in clear: the database file, the log, the pages ---------------------------------


def _token(page: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert match
    return match.group(1)


def _staff_sign_in(client, user: User, seed: bytes | None, ctx: Context) -> None:
    page = client.get("/staff/sign-in").get_data(as_text=True)
    form = {"csrf_token": _token(page), "email": user.email, "password": factories.PASSWORD}
    client.post("/staff/sign-in", data=form)
    assert seed is not None
    page = client.get("/staff/sign-in/code").get_data(as_text=True)
    code = accounts.totp_code(seed, accounts.totp_step(ctx.now()))
    client.post("/staff/sign-in/code", data={"csrf_token": _token(page), "code": code})
    assert client.get("/staff").status_code == 200


@dataclass
class Committed:
    """An app of its own whose every change is committed: what is on disk is real."""

    app: Flask
    #: The database as stored: the SQLite file (and its WAL), or a pg_dump of it.
    dump: Callable[[], bytes]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _pg_dump(database: URL) -> bytes:
    environment = dict(os.environ)
    if database.password:
        environment["PGPASSWORD"] = str(database.password)
    arguments = ["pg_dump", "--no-password", "--format=plain", "--dbname", str(database.database)]
    for option, value in (("--host", database.host), ("--port", database.port)):
        if value:
            arguments += [option, str(value)]
    if database.username:
        arguments += ["--username", database.username]
    done = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        arguments, capture_output=True, env=environment, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


@pytest.fixture
def committed(settings, tmp_path: Path, keyring: Keyring, clock) -> Iterator[Committed]:
    suite = make_url(settings.database_url)
    admin = None
    if suite.get_backend_name() == "postgresql":
        if shutil.which("pg_dump") is None:
            pytest.fail("pg_dump not found: PostgreSQL's client tools are needed on PostgreSQL")
        name = f"{suite.database}_sms_{secrets.token_hex(4)}"
        admin = create_engine(suite, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {_quoted(name)}"))
        database = suite.set(database=name)
        url = database.render_as_string(hide_password=False)

        def dump() -> bytes:
            return _pg_dump(database)
    else:
        url = f"sqlite:///{tmp_path / 'sms.sqlite3'}"

        def dump() -> bytes:
            with app.app_context():
                db.engine.dispose()  # everything is in the file (and its WAL)
            return b"".join(path.read_bytes() for path in tmp_path.glob("sms.sqlite3*"))

    own = Settings(
        env="test",
        secret_key="sms-identity-test-secret-key-32-characters",
        database_url=url,
        public_base_url="http://localhost",
        instance_path=tmp_path,
        kdf=settings.kdf,
    )
    app = create_app(own, clock=clock, keyring=keyring)
    app.test_client_class = RequestIsolatingClient
    try:
        with app.app_context():
            upgrade(directory=str(MIGRATIONS))
            yield Committed(app, dump)
            db.session.remove()
    finally:
        for surface in surfaces(app):  # the staff app's pool too: its pages were visited
            with surface.app_context():
                db.engine.dispose()
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {_quoted(name)} WITH (FORCE)"))
            admin.dispose()


def test_the_number_is_nowhere_in_clear(committed, fake, caplog):
    caplog.set_level(logging.DEBUG)
    app = committed.app
    ctx = service_context()
    mechanism = factories.make_mechanism(ctx)
    lead = factories.make_reviewer(ctx, languages=["bn"])
    second = factories.make_reviewer(ctx, languages=["bn"])
    secretariat, seed = factories.make_staff(ctx, Role.SECRETARIAT, mechanisms=[mechanism])
    db.session.commit()
    pages: list[str] = []
    with sms_line(app, ctx, app_services(app).settings, fake=fake) as line:
        phone = line.phone(NUMBER)
        received = phone.send(STORY, "২", "২", "শেষ", LOCATION, "০")
        case = case_of(ctx, received[-1])
        code = receipt_code_in(received[-1])
        factories.put_reviewers(ctx, case, lead, second)
        _reviewer_writes(ctx, case, lead, "আমরা কারখানার সাথে কথা বলছি।")
        line.work()
        phone.send("ধন্যবাদ", "STATUS", "STOP", "START")
        line.phone(OTHER_NUMBER).send(code)  # a new phone, linked
        assert len(events(ctx, case, "contact_changed")) == 1

        # the complainant's follow-up, signed in with the code
        follower = app.test_client()
        sign_in = follower.get("/follow-up?lang=en").get_data(as_text=True)
        follower.post("/follow-up?lang=en", data={"csrf_token": _token(sign_in), "code": code})
        page = follower.get("/follow-up/case?lang=en").get_data(as_text=True)
        assert case.reference in page  # the page is the case's
        pages.append(page)
        api = follower.post("/api/v1/followup", json={"receipt_code": code})
        pages.append(api.get_data(as_text=True))
        # the staff's pages
        staff = app.test_client()
        _staff_sign_in(staff, secretariat, seed, ctx)
        deadlines = staff.get("/staff/secretariat/deadlines?days=30").get_data(as_text=True)
        assert case.reference in deadlines
        pages += [deadlines, staff.get("/staff").get_data(as_text=True)]
        pages += [staff.get(path).get_data(as_text=True) for path in ("/", "/procedure/TEX")]
    db.session.commit()

    stored = committed.dump()
    assert case.reference.encode() in stored  # the scan does read the database
    for number in (*NUMBER_FORMS, *OTHER_NUMBER_FORMS):
        for form in (number.encode(), number.encode().hex().encode()):
            assert form not in stored, number
        assert number not in caplog.text, number
        for page in pages:
            assert number not in page, number
    for secret in (STORY, LOCATION, code):
        assert secret.encode() not in stored, secret
        assert secret not in caplog.text, secret
    assert handle_of(ctx, NUMBER) not in caplog.text  # rows are found by it; logs never name it
    # the log was captured, from the SMS modules too (nothing disabled their loggers)
    assert caplog.records
    for name in ("intake.sms.conversations", "intake.sms.webhook", "grievance.services.outbox"):
        assert logging.getLogger(name).isEnabledFor(logging.DEBUG), name


# -- any text survives -----------------------------------------------------------------------

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
KEYRING = Keyring.generate()


@hypothesis_settings(max_examples=60, deadline=None)
@given(words=st.text(max_size=200), more=st.lists(st.text(max_size=40), max_size=3))
def test_any_text_survives_the_dialogue_storage(words, more):
    state = Conversation(
        handle="a" * 64,
        stage=dialogue.Stage.STATEMENT,
        language="bn",
        statement=(words, *more),
        location=words,
        companies=words,
        waiting=tuple(more),
        pieces=(HeldPiece(2, 1, 2, words, T0),),
        last_activity=T0,
    )
    blob = store.dump(state)
    assert store.load(state.handle, blob) == state
    # as the conversation row keeps it: sealed, as text
    sealed = derived.seal(KEYRING, b"grievance/sms/v1", "ad", blob.decode().encode())
    opened = derived.open_sealed(KEYRING, b"grievance/sms/v1", "ad", sealed).decode()
    assert store.load(state.handle, opened.encode()) == state


@pytest.mark.parametrize(
    "statement",
    [
        "👨‍👩‍👧‍👦 family of four, 🏳️‍🌈, and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 outside the BMP",
        "‏مرحبا‎ ‪LTR‬ mixed with বাংলা and 中文 and ትግርኛ",
        "line one\nline two\r\nline three\u2028four",
        'quotes " \' \\ and <b>markup</b> & {"json": [1]} %s %(x)s',
    ],
)
def test_a_texted_statement_survives_whole(line, ctx, statement):
    phone = line.phone(NUMBER)
    phone.send("Hello", "1", "1", "2", statement, "1", "0", "0")
    case = case_of(ctx, phone.inbox[-1])
    assert ctx.vault.open(case.id, "statement", case.statement_enc) == statement
