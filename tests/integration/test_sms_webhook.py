"""The Twilio webhook for inbound SMS and WhatsApp: signatures against PUBLIC_BASE_URL, the
fields it needs, one row per MessageSid, an empty TwiML answer and no network call."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from xml.etree import ElementTree

import pytest
import requests
from sqlalchemy import func, select

from grievance.http.context import app_services
from grievance.models import (
    Case,
    Channel,
    Complainant,
    ContactChannel,
    InboundSms,
    OutboundMessage,
)
from intake.sms.conversations import KEEP_READ_INBOUND, forget_read_inbound
from intake.sms.twilio import STATUS_PATH, WEBHOOK_PATH
from tests import factories
from tests.apps import set_services
from tests.fake_twilio import FakeTwilio
from tests.sms_helpers import (
    OUR_NUMBER,
    WEBHOOK_URL,
    SmsLine,
    inbound_params,
    new_sid,
    post_webhook,
    receipt_code_in,
    shared_fake,
    sign,
    sms_line,
)

NUMBER = "+8801711000001"
STORY = "আমাকে তিন মাস ধরে বেতন দেওয়া হয়নি এবং ওভারটাইম বাধ্যতামূলক"
#: A whole Bengali intake: the story, anonymous, no summary, done, where, no company.
CONVERSATION = (STORY, "১", "২", "১", "গাজীপুর", "০")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTwilio]:
    with shared_fake() as running:
        yield running


@pytest.fixture
def line(app, ctx, session, settings, fake) -> Iterator[SmsLine]:
    factories.make_mechanism(ctx)
    session.commit()
    with sms_line(app, ctx, settings, fake=fake) as running:
        yield running


def inbound_rows(session) -> int:
    return session.scalar(select(func.count()).select_from(InboundSms)) or 0


def cases(session) -> int:
    return session.scalar(select(func.count()).select_from(Case)) or 0


# -- the signature ---------------------------------------------------------------------------


def test_a_correctly_signed_message_is_recorded_and_answered_with_empty_twiml(line, session):
    params = inbound_params(NUMBER, STORY)
    response = post_webhook(line.client, params)
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    root = ElementTree.fromstring(response.data)  # noqa: S314 - our own answer
    assert root.tag == "Response"
    assert list(root) == []
    assert not (root.text or "").strip()
    row = session.scalars(select(InboundSms)).one()
    assert row.provider_sid == params["MessageSid"]
    assert row.channel is Channel.SMS
    assert row.to_number == OUR_NUMBER
    assert row.processed_at is None
    # sealed: neither the number nor the words are in the row
    assert NUMBER.encode() not in row.address_enc
    assert STORY.encode() not in row.body_enc


def _signatures(params: dict[str, str]) -> dict[str, str | None]:
    other_body = {**params, "Body": "something else"}
    fewer = {key: value for key, value in params.items() if key != "Body"}
    return {
        "missing": None,
        "empty": "",
        "garbage": "not-a-signature",
        "another auth token": sign(params, token="another-auth-token-0123456789abc"),
        "another path": sign(params, url="http://localhost" + STATUS_PATH),
        "another host": sign(params, url="https://evil.example.org" + WEBHOOK_PATH),
        "https for http": sign(params, url="https://localhost" + WEBHOOK_PATH),
        "with a query string": sign(params, url=WEBHOOK_URL + "?x=1"),
        "other params": sign(other_body),
        "fewer params": sign(fewer),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "empty",
        "garbage",
        "another auth token",
        "another path",
        "another host",
        "https for http",
        "with a query string",
        "other params",
        "fewer params",
    ],
)
def test_a_missing_wrong_or_stale_signature_is_refused_and_records_nothing(line, session, case):
    params = inbound_params(NUMBER, STORY)
    signature = _signatures(params)[case]
    response = post_webhook(line.client, params, signature=signature, signed=signature is not None)
    assert response.status_code == 403
    assert inbound_rows(session) == 0
    # the same message, signed right, goes through: the signature alone made the difference
    assert post_webhook(line.client, params).status_code == 200
    assert inbound_rows(session) == 1


def test_nothing_is_accepted_without_an_auth_token_configured(line, app, session):
    set_services(app, settings=replace(app_services(app).settings, twilio_auth_token=None))
    response = post_webhook(line.client, inbound_params(NUMBER, STORY))
    assert response.status_code == 403
    assert inbound_rows(session) == 0


def test_the_public_base_url_is_the_url_validated_behind_a_proxy(line, app, session):
    public = "https://complaints.example.org"
    set_services(app, settings=replace(app_services(app).settings, public_base_url=public))
    params = inbound_params(NUMBER, STORY)
    # signed for the URL the test client really calls: not the one Twilio called
    assert post_webhook(line.client, params, signature=sign(params)).status_code == 403
    assert inbound_rows(session) == 0
    # signed for the public URL: accepted, though the request came to localhost
    signature = sign(params, url=public + WEBHOOK_PATH)
    response = post_webhook(line.client, params, signature=signature)
    assert response.status_code == 200
    assert inbound_rows(session) == 1


def test_every_extra_parameter_twilio_sends_is_signed_and_accepted(line, session):
    sid = new_sid()
    params = inbound_params(
        NUMBER,
        "বেতন দেওয়া হয়নি 💸 — ‏مرحبا‎",
        sid,
        SmsSid=sid,
        SmsMessageSid=sid,
        SmsStatus="received",
        NumSegments="2",
        NumMedia="0",
        ApiVersion="2010-04-01",
        MessagingServiceSid="MG" + "0" * 32,
        FromCountry="BD",
        FromState="",
        FromCity="DHAKA",
        FromZip="",
        ToCountry="NL",
        ToState="",
        ToCity="",
        ToZip="",
        ReferralNumMedia="0",
    )
    # Twilio signs every parameter it posts: a signature over fewer is refused
    required = {name: params[name] for name in ("MessageSid", "AccountSid", "From", "To", "Body")}
    assert post_webhook(line.client, params, signature=sign(required)).status_code == 403
    assert inbound_rows(session) == 0
    assert post_webhook(line.client, params).status_code == 200
    assert session.scalars(select(InboundSms)).one().provider_sid == sid


# -- the fields --------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["MessageSid", "AccountSid", "From", "To"])
@pytest.mark.parametrize("how", ["absent", "empty"])
def test_a_message_without_a_required_field_is_refused_and_records_nothing(
    line, session, missing, how
):
    params = inbound_params(NUMBER, STORY)
    if how == "absent":
        del params[missing]
    else:
        params[missing] = ""
    response = post_webhook(line.client, params)  # correctly signed, just incomplete
    assert response.status_code == 400
    assert inbound_rows(session) == 0


def test_a_message_without_a_body_is_recorded(line, session):
    params = inbound_params(NUMBER, "")
    del params["Body"]
    assert post_webhook(line.client, params).status_code == 200
    assert inbound_rows(session) == 1


def test_another_accounts_message_is_refused(line, session):
    params = {**inbound_params(NUMBER, STORY), "AccountSid": "AC" + "9" * 32}
    # signed with our auth token: only the account tells it is not ours
    response = post_webhook(line.client, params)
    assert response.status_code == 403
    assert inbound_rows(session) == 0


@pytest.mark.parametrize("sender", ["VODAFONE", "bKash", "12345", "+12", "whatsapp:Info", " "])
def test_a_sender_that_is_not_a_phone_number_records_nothing(line, session, sender):
    params = inbound_params(sender, "Your code is 123456")
    response = post_webhook(line.client, params)
    assert response.status_code == 200  # Twilio is answered; the message is dropped
    assert inbound_rows(session) == 0
    line.work()
    assert line.fake.messages == []


# -- retries -----------------------------------------------------------------------------------


def test_a_retried_message_sid_records_one_row_files_once_and_answers_once(line, session):
    once = line.phone("+8801711000009")
    once.send(*CONVERSATION)
    expected = len(once.inbox)

    phone = line.phone(NUMBER)
    for text in CONVERSATION:
        sid = new_sid()
        phone.post(text, sid)
        phone.post(text, sid)  # Twilio retries a webhook it saw no answer to in time
        line.work()
        phone.post(text, sid)  # and again, after the worker read the message
        line.work()
    received = phone.received()
    assert inbound_rows(session) == 2 * len(CONVERSATION)
    assert cases(session) == 2
    assert len(received) == expected
    assert received[:-1] == once.inbox[:-1]  # the same replies, each once
    receipt_code_in(received[-1])  # and one receipt
    handle = line.ctx.vault.lookup_hash("phone", NUMBER)
    filed = session.scalars(select(Complainant).where(Complainant.phone_lookup == handle)).all()
    assert len(filed) == 1


def test_a_retry_answers_twilio_like_the_first_time(line, session):
    params = inbound_params(NUMBER, STORY)
    first = post_webhook(line.client, params)
    again = post_webhook(line.client, params)
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.data == again.data
    assert inbound_rows(session) == 1


# -- no network --------------------------------------------------------------------------------


class NetworkCalled(Exception):
    pass


@pytest.fixture
def no_network(monkeypatch) -> list[object]:
    """Every way out to the network fails loudly, and is noted."""
    calls: list[object] = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise NetworkCalled(args)

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(requests.Session, "request", refuse)
    return calls


def test_the_webhook_makes_no_network_call(line, session, no_network):
    phone_params = [inbound_params(NUMBER, text) for text in CONVERSATION]
    for params in phone_params:
        response = post_webhook(line.client, params)
        assert response.status_code == 200
    assert no_network == []
    assert inbound_rows(session) == len(CONVERSATION)
    assert session.scalar(select(func.count()).select_from(OutboundMessage)) == 0
    # the guard does catch a call
    with pytest.raises(NetworkCalled):
        requests.post(line.fake.base_url, timeout=1)
    assert no_network


# -- WhatsApp ----------------------------------------------------------------------------------


def test_whatsapp_takes_the_same_path_and_is_answered_on_whatsapp(line, session):
    phone = line.phone(NUMBER, whatsapp=True)
    received = phone.send(*CONVERSATION)
    assert received
    forms = line.fake.messages
    assert {form["To"] for form in forms} == {"whatsapp:" + NUMBER}
    assert {form["From"] for form in forms} == {"whatsapp:" + OUR_NUMBER}
    assert line.texts_to(NUMBER) == []  # nothing went by SMS
    row = session.scalars(select(InboundSms)).first()
    assert row is not None
    assert row.channel is Channel.WHATSAPP
    case = session.scalars(select(Case)).one()
    assert case.channel is Channel.WHATSAPP
    assert case.language == "bn"
    assert case.complainants[0].contact_channel is ContactChannel.WHATSAPP
    assert receipt_code_in(received[-1])
    # the same number by SMS is the same person: the same conversation, answered by SMS
    sms = line.phone(NUMBER)
    assert sms.send("STATUS")
    assert cases(session) == 1


def test_read_inbound_rows_are_forgotten_once_no_retry_can_come(line, session):
    sid = new_sid()
    line.post(NUMBER, STORY, sid=sid)
    line.work()  # read: its text is emptied, the row stays to recognise retries
    line.post(NUMBER, STORY, sid=sid)
    assert inbound_rows(session) == 1
    waiting = new_sid()
    line.post("+8801711000002", STORY, sid=waiting)  # not read yet: kept, however old

    line.clock.advance(KEEP_READ_INBOUND)
    assert forget_read_inbound(line.ctx) == 0  # not older than that yet
    line.clock.advance(seconds=1)
    assert forget_read_inbound(line.ctx) == 1
    assert session.scalars(select(InboundSms.provider_sid)).all() == [waiting]
