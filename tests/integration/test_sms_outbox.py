"""The SMS and WhatsApp outbox (`grievance.services.outbox`) through the real `twilio`
Client and its gateway (`intake.sms.twilio`), against a fake of Twilio's REST API on
loopback (`tests.fake_twilio`): what is posted, retries and backoff, permanent errors,
opt-outs, at most one send per row, status callbacks (the function and the signed HTTP
endpoint), long texts split into rows, and, on PostgreSQL, two drainers at once.
"""

from __future__ import annotations

import socket
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from grievance.config import Settings
from grievance.models import Channel, OutboundMessage, OutboxStatus, SmsOptOut
from grievance.services import outbox
from grievance.services.context import Context
from grievance.services.outbox import (
    MAX_ATTEMPTS,
    MAX_BODY_CHARS,
    DrainReport,
    GatewayError,
    Sent,
    retry_delay,
)
from intake.sms.twilio import TwilioGateway
from tests import factories
from tests.apps import patch_services
from tests.conftest import START
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, serve

PHONE = "+8801711000001"
OTHER = "+8801711000002"
FROM = "+3197010000000"
SERVICE_SID = "MG" + "0" * 31 + "7"
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
STATUS_PATH = "/intake/sms/twilio/status"
#: PUBLIC_BASE_URL (the test settings') + the path: where Twilio calls back, and signs
STATUS_URL = "http://localhost" + STATUS_PATH


# -- helpers -------------------------------------------------------------------------


def twilio_settings(settings: Settings, fake: FakeTwilio, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_from_number": FROM,
        "twilio_api_base_url": fake.base_url,
        **changes,
    }
    return replace(settings, **values)


@pytest.fixture(scope="module")
def _server() -> Iterator[FakeTwilio]:
    with serve() as running:  # stopping one takes half a second: one for the module
        yield running


@pytest.fixture
def fake(_server: FakeTwilio) -> FakeTwilio:
    """The module's fake Twilio, forgetting what earlier tests sent and queued."""
    with _server._lock:
        _server.received.clear()
        _server._failures.clear()
        _server._stalls.clear()
    return _server


@pytest.fixture
def gateway(fake: FakeTwilio, settings: Settings) -> TwilioGateway:
    return TwilioGateway(twilio_settings(settings, fake))


def handle_of(ctx: Context, number: str) -> str:
    return ctx.vault.lookup_hash("phone", number)


def put_all(
    ctx: Context, body: str, *, number: str = PHONE, channel: Channel = Channel.SMS, **options: Any
) -> list[OutboundMessage]:
    rows = outbox.queue(
        ctx, channel=channel, address=number, handle=handle_of(ctx, number), body=body, **options
    )
    ctx.session.commit()
    return rows


def put(ctx: Context, body: str, **options: Any) -> OutboundMessage:
    (row,) = put_all(ctx, body, **options)
    return row


def fresh(ctx: Context, row: OutboundMessage) -> OutboundMessage:
    return ctx.session.get_one(OutboundMessage, row.id, populate_existing=True)


def opt_outs(ctx: Context) -> dict[str, str]:
    ctx.session.expire_all()
    return {row.handle: row.source for row in ctx.session.scalars(select(SmsOptOut))}


def snapshot(ctx: Context) -> tuple[list[tuple[Any, ...]], dict[str, str]]:
    """Everything a callback could change, read from the database."""
    ctx.session.expire_all()
    rows = ctx.session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
    columns = ("id", "status", "last_error_code", "updated_at", "address_enc", "body_enc")
    return [tuple(getattr(row, name) for name in columns) for row in rows], opt_outs(ctx)


def assert_emptied(row: OutboundMessage) -> None:
    assert row.address_enc is None
    assert row.body_enc == b""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- what is posted ------------------------------------------------------------------


def test_an_sms_is_posted_to_the_messages_resource_with_twilios_fields(ctx, fake, gateway):
    row = put(ctx, "Your complaint GRV-0001 was received.")
    assert row.status is OutboxStatus.PENDING
    # sealed while it waits: neither the number nor the text in clear
    assert row.address_enc is not None
    assert PHONE.encode() not in row.address_enc
    assert b"complaint" not in row.body_enc
    assert outbox.open_body(ctx, row) == "Your complaint GRV-0001 was received."

    report = outbox.drain(ctx, gateway)

    (received,) = fake.received
    assert received.path == MESSAGES_PATH
    assert received.account_sid == ACCOUNT_SID
    assert received.form == {
        "To": PHONE,
        "From": FROM,
        "Body": "Your complaint GRV-0001 was received.",
        "StatusCallback": STATUS_URL,
    }
    assert report == DrainReport(sent=1, sent_ids=[row.id])
    row = fresh(ctx, row)
    assert row.status is OutboxStatus.SENT
    assert row.provider_sid == received.sid
    assert row.provider_sid.startswith("SM")
    assert (row.encoding, row.segments) == ("gsm7", 1)
    assert row.sent_at == START
    assert row.attempts == 1
    assert row.last_error_code is None
    assert_emptied(row)

    # sent is final: nothing goes twice
    assert outbox.drain(ctx, gateway) == DrainReport()
    assert len(fake.received) == 1


def test_a_messaging_service_replaces_the_from_number(ctx, fake, settings):
    gateway = TwilioGateway(
        twilio_settings(
            settings,
            fake,
            twilio_from_number=None,
            twilio_messaging_service_sid=SERVICE_SID,
            public_base_url="https://grievance.example.org",
        )
    )
    put(ctx, "Hello")
    outbox.drain(ctx, gateway)
    (form,) = fake.messages
    assert form == {
        "To": PHONE,
        "MessagingServiceSid": SERVICE_SID,
        "Body": "Hello",
        "StatusCallback": "https://grievance.example.org/intake/sms/twilio/status",
    }


def test_whatsapp_rows_go_from_and_to_whatsapp_addresses(ctx, fake, gateway):
    row = put(ctx, "Hello on WhatsApp", channel=Channel.WHATSAPP)
    outbox.drain(ctx, gateway)
    (form,) = fake.messages
    assert form["To"] == f"whatsapp:{PHONE}"
    assert form["From"] == f"whatsapp:{FROM}"
    assert form["Body"] == "Hello on WhatsApp"
    assert fresh(ctx, row).status is OutboxStatus.SENT


@pytest.mark.parametrize(
    ("body", "encoding", "segments"),
    [
        # a precomposed য় (U+09DF), which NFC writes as য + nukta: 100 UTF-16 units
        (
            "আপনার অভিযোগ গ্রহণ করা হ\u09dfেছে। আপনার রসিদ কোড: ৪৮২৯১৭। "
            "এই কোড দিয়ে যেকোনো সময় অবস্থা জানতে পারবেন।",
            "ucs2",
            2,
        ),
        ("تم استلام شكواك. رمز الإيصال: ٤٨٢٩١٧", "ucs2", 1),
        # e + combining acute: é once composed, and é is GSM-7
        ("Cafe\u0301 ouvert", "gsm7", 1),
    ],
    ids=["bengali", "arabic", "decomposed-latin"],
)
def test_the_body_arrives_nfc_normalised_and_intact(ctx, fake, gateway, body, encoding, segments):
    row = put(ctx, body)
    outbox.drain(ctx, gateway)
    (form,) = fake.messages
    assert form["Body"] == unicodedata.normalize("NFC", body)
    row = fresh(ctx, row)
    assert (row.encoding, row.segments) == (encoding, segments)
    assert row.status is OutboxStatus.SENT


def test_the_gateway_sends_the_nfc_text_and_measures_it(fake, gateway):
    sent = gateway.send(Channel.SMS, PHONE, "Cafe\u0301 " + "x" * 160)
    (received,) = fake.received
    assert received.form["Body"] == "Caf\u00e9 " + "x" * 160  # composed: GSM-7
    assert sent == Sent(provider_sid=received.sid, encoding="gsm7", segments=2)


@pytest.mark.parametrize(
    ("status", "code", "expected", "temporary"),
    [
        (500, None, "500", True),
        (503, 20503, "20503", True),
        (429, 20429, "20429", True),
        (400, 21211, "21211", False),
        (400, 21610, "21610", False),
        (404, 20404, "20404", False),
    ],
)
def test_the_gateway_tells_temporary_from_permanent_errors(
    fake, gateway, status, code, expected, temporary
):
    fake.fail_next(status, code)
    with pytest.raises(GatewayError) as raised:
        gateway.send(Channel.SMS, PHONE, "hello")
    assert (raised.value.code, raised.value.temporary) == (expected, temporary)


def test_the_gateway_with_a_wrong_auth_token_is_refused_for_good(fake, settings):
    gateway = TwilioGateway(twilio_settings(settings, fake, twilio_auth_token="wrong-token"))
    with pytest.raises(GatewayError) as raised:
        gateway.send(Channel.SMS, PHONE, "hello")
    assert (raised.value.code, raised.value.temporary) == ("20003", False)
    assert fake.received == []


def test_no_gateway_while_twilio_is_not_configured(fake, settings):
    assert TwilioGateway.from_settings(settings) is None
    assert (
        TwilioGateway.from_settings(twilio_settings(settings, fake, twilio_from_number=None))
        is None
    )
    assert isinstance(TwilioGateway.from_settings(twilio_settings(settings, fake)), TwilioGateway)


# -- retries -------------------------------------------------------------------------


def test_retry_delay_doubles_from_thirty_seconds_up_to_an_hour():
    delays = [retry_delay(attempts).total_seconds() for attempts in range(1, 11)]
    assert delays == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]


@pytest.mark.parametrize(
    ("status", "code", "recorded"),
    [(500, None, "500"), (503, 20503, "20503"), (429, 20429, "20429")],
)
def test_a_temporary_error_is_retried_once_due_and_not_before(
    ctx, fake, gateway, clock, status, code, recorded
):
    fake.fail_next(status, code)
    row = put(ctx, "Retry me")

    report = outbox.drain(ctx, gateway)

    assert report == DrainReport(retried=1)
    row = fresh(ctx, row)
    assert row.status is OutboxStatus.PENDING
    assert row.attempts == 1
    assert row.last_error_code == recorded
    assert row.next_attempt_at == START + retry_delay(1) == START + timedelta(seconds=30)
    assert row.address_enc is not None  # still sealed, for the next attempt
    assert len(fake.received) == 1
    assert fake.messages == []

    clock.advance(seconds=29)  # not due yet
    assert outbox.drain(ctx, gateway) == DrainReport()
    assert len(fake.received) == 1

    clock.advance(seconds=1)
    assert outbox.drain(ctx, gateway) == DrainReport(sent=1, sent_ids=[row.id])
    (form,) = fake.messages
    assert form["Body"] == "Retry me"
    row = fresh(ctx, row)
    assert row.status is OutboxStatus.SENT
    assert row.attempts == 2
    assert row.sent_at == START + timedelta(seconds=30)
    assert row.provider_sid == fake.received[-1].sid
    assert_emptied(row)


def test_a_timeout_is_retried(ctx, settings, clock):
    with serve() as fake:  # its own: the stalled request is recorded after the test
        _timeout_is_retried(ctx, settings, clock, fake)


def _timeout_is_retried(ctx, settings, clock, fake):
    gateway = TwilioGateway(twilio_settings(settings, fake), timeout=0.3)
    fake.stall_next(1.5)
    row = put(ctx, "Slow network")

    started = time.monotonic()
    report = outbox.drain(ctx, gateway)
    assert time.monotonic() - started < 1.2  # the client gave up; it did not wait

    assert report == DrainReport(retried=1)
    row = fresh(ctx, row)
    assert row.status is OutboxStatus.PENDING
    assert row.last_error_code == "timeout"
    assert row.next_attempt_at == START + timedelta(seconds=30)

    clock.advance(seconds=30)
    assert outbox.drain(ctx, gateway).sent == 1
    row = fresh(ctx, row)
    assert row.status is OutboxStatus.SENT
    assert row.attempts == 2
    # the second request was answered (the stalled one may be recorded later)
    assert row.provider_sid in {item.sid for item in fake.received}


def test_no_connection_is_retried(ctx, settings, clock):
    nobody = FakeTwilio(base_url=f"http://127.0.0.1:{free_port()}")  # nobody listens there
    gateway = TwilioGateway(twilio_settings(settings, nobody), timeout=2)
    row = put(ctx, "Nobody home")
    assert outbox.drain(ctx, gateway) == DrainReport(retried=1)
    row = fresh(ctx, row)
    assert row.status is OutboxStatus.PENDING
    assert row.last_error_code == "connection"
    assert row.next_attempt_at == START + timedelta(seconds=30)


def test_after_max_attempts_a_row_is_failed(ctx, fake, gateway, clock):
    fake.fail_next(500, times=MAX_ATTEMPTS)
    row = put(ctx, "Never through")
    delays = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = outbox.drain(ctx, gateway)
        row = fresh(ctx, row)
        assert row.attempts == attempt
        assert len(fake.received) == attempt
        if attempt < MAX_ATTEMPTS:
            assert report == DrainReport(retried=1)
            assert row.status is OutboxStatus.PENDING
            assert row.next_attempt_at == clock.now() + retry_delay(attempt)
            delays.append((row.next_attempt_at - clock.now()).total_seconds())
            clock.set(row.next_attempt_at)
    assert delays == [30, 60, 120, 240, 480, 960, 1920]
    assert report == DrainReport(failed=1)
    assert row.status is OutboxStatus.FAILED
    assert row.last_error_code == "500"
    assert row.sent_at is None
    assert_emptied(row)

    clock.advance(days=2)
    assert outbox.drain(ctx, gateway) == DrainReport()
    assert len(fake.received) == MAX_ATTEMPTS
    assert fake.messages == []


@pytest.mark.parametrize(("status", "code"), [(400, 21211), (400, 21408), (400, None)])
def test_a_permanent_error_is_not_retried(ctx, fake, gateway, clock, status, code):
    fake.fail_next(status, code)
    row = put(ctx, "Bad number")

    assert outbox.drain(ctx, gateway) == DrainReport(failed=1)

    row = fresh(ctx, row)
    assert row.status is OutboxStatus.FAILED
    assert row.attempts == 1
    assert row.last_error_code == str(code or status)
    assert_emptied(row)
    clock.advance(days=1)
    assert outbox.drain(ctx, gateway) == DrainReport()
    assert len(fake.received) == 1
    assert opt_outs(ctx) == {}  # only 21610 opts out


# -- opting out ----------------------------------------------------------------------


def test_error_21610_opts_the_number_out_and_cancels_what_waits_for_it(ctx, fake, gateway, clock):
    handle = handle_of(ctx, PHONE)
    first = put(ctx, "first")
    second = put(ctx, "second")
    stop_reply = put(ctx, "You will get no more messages.", despite_opt_out=True)
    elsewhere = put(ctx, "to another number", number=OTHER)
    fake.fail_next(400, 21610)

    report = outbox.drain(ctx, gateway)

    assert fake.received[0].form["Body"] == "first"
    assert [form["Body"] for form in fake.messages] == [
        "You will get no more messages.",
        "to another number",
    ]
    assert report.failed == 1
    assert report.sent_ids == [stop_reply.id, elsewhere.id]
    assert opt_outs(ctx) == {handle: "provider"}
    assert ctx.session.get_one(SmsOptOut, handle).opted_out_at == START
    first, second = fresh(ctx, first), fresh(ctx, second)
    assert (first.status, first.last_error_code) == (OutboxStatus.FAILED, "21610")
    assert second.status is OutboxStatus.CANCELLED
    assert second.attempts == 0  # never tried
    assert_emptied(first)
    assert_emptied(second)
    assert fresh(ctx, stop_reply).status is OutboxStatus.SENT
    assert fresh(ctx, elsewhere).status is OutboxStatus.SENT

    # later rows to that number are cancelled without a request; the others still go
    clock.advance(minutes=5)
    later = put(ctx, "later")
    help_reply = put(ctx, "HELP: reply START to receive messages again", despite_opt_out=True)
    count = len(fake.received)
    report = outbox.drain(ctx, gateway)
    assert report.cancelled == 1
    assert report.sent_ids == [help_reply.id]
    assert len(fake.received) == count + 1
    assert fake.received[-1].form["Body"].startswith("HELP")
    later = fresh(ctx, later)
    assert later.status is OutboxStatus.CANCELLED
    assert_emptied(later)


def test_opt_out_and_opt_in(ctx, fake, gateway):
    handle = handle_of(ctx, PHONE)
    waiting = put(ctx, "waiting")
    confirmation = put(ctx, "You are unsubscribed.", despite_opt_out=True)
    other = put(ctx, "other", number=OTHER)

    outbox.opt_out(ctx, handle, source="keyword")
    outbox.opt_out(ctx, handle, source="keyword")  # twice: recorded once, no error
    ctx.session.commit()

    assert outbox.is_opted_out(ctx, handle)
    assert opt_outs(ctx) == {handle: "keyword"}
    waiting = fresh(ctx, waiting)
    assert waiting.status is OutboxStatus.CANCELLED
    assert_emptied(waiting)
    assert fresh(ctx, confirmation).status is OutboxStatus.PENDING
    assert fresh(ctx, other).status is OutboxStatus.PENDING

    report = outbox.drain(ctx, gateway)
    assert report.sent_ids == [confirmation.id, other.id]
    blocked = put(ctx, "blocked")
    assert outbox.drain(ctx, gateway) == DrainReport(cancelled=1)
    assert fresh(ctx, blocked).status is OutboxStatus.CANCELLED
    assert [form["Body"] for form in fake.messages] == ["You are unsubscribed.", "other"]

    outbox.opt_in(ctx, handle)
    ctx.session.commit()
    assert not outbox.is_opted_out(ctx, handle)
    assert opt_outs(ctx) == {}
    welcome = put(ctx, "welcome back")
    assert outbox.drain(ctx, gateway).sent_ids == [welcome.id]
    assert fake.messages[-1]["Body"] == "welcome back"
    # what was cancelled stays cancelled
    assert fresh(ctx, waiting).status is OutboxStatus.CANCELLED
    assert fresh(ctx, blocked).status is OutboxStatus.CANCELLED


# -- at most once --------------------------------------------------------------------


def test_a_claimed_row_is_not_sent_by_a_second_drainer(ctx, fake, gateway, monkeypatch):
    row = put(ctx, "claimed elsewhere")
    assert outbox._claim(ctx, row.id)  # another drainer took it, and is sending it
    assert not outbox._claim(ctx, row.id)  # nobody can take it again

    assert outbox.drain(ctx, gateway) == DrainReport()
    # even a drainer that read the row as due before the claim does not send it
    monkeypatch.setattr(outbox, "due_ids", lambda *args, **kwargs: [row.id])
    assert outbox.drain(ctx, gateway) == DrainReport()

    assert fake.received == []
    row = fresh(ctx, row)
    assert row.status is OutboxStatus.SENDING
    assert row.attempts == 1


def test_erasing_a_case_cancels_what_waits_but_not_what_is_in_flight(ctx, fake, gateway):
    case = factories.new_case(ctx).case
    ctx.session.commit()
    waiting = put(ctx, "waits for the drainer", case_id=case.id)
    in_flight = put(ctx, "being sent right now", case_id=case.id)
    other = put(ctx, "another case's")
    assert outbox._claim(ctx, in_flight.id)

    assert outbox.cancel_for_case(ctx, case.id) == 1
    ctx.session.commit()

    assert fresh(ctx, waiting).status is OutboxStatus.CANCELLED
    assert_emptied(fresh(ctx, waiting))
    assert fresh(ctx, in_flight).status is OutboxStatus.SENDING
    assert fresh(ctx, other).status is OutboxStatus.PENDING


def test_a_row_cancelled_between_claim_and_send_is_not_sent(ctx, fake, gateway, monkeypatch):
    row = put(ctx, "cancelled at the last moment")
    claim = outbox._claim

    def claim_then_cancel(ctx: Context, row_id: int) -> bool:
        taken = claim(ctx, row_id)
        outbox.opt_out(ctx, handle_of(ctx, PHONE), source="keyword")  # does not touch SENDING
        ctx.session.execute(
            OutboundMessage.__table__.update()
            .where(OutboundMessage.id == row_id)
            .values(status=OutboxStatus.CANCELLED.value, address_enc=None)
        )
        ctx.session.commit()
        return taken

    monkeypatch.setattr(outbox, "_claim", claim_then_cancel)
    assert outbox.drain(ctx, gateway).sent == 0
    assert fake.received == []
    assert fresh(ctx, row).status is OutboxStatus.CANCELLED


def test_a_row_stuck_in_sending_is_failed_and_never_sent(ctx, fake, gateway, clock):
    row = put(ctx, "the worker died while sending this")
    assert outbox._claim(ctx, row.id)

    clock.advance(minutes=15)  # not stale yet
    assert outbox.drain(ctx, gateway, stale_after=timedelta(minutes=15)) == DrainReport()
    assert fresh(ctx, row).status is OutboxStatus.SENDING

    clock.advance(seconds=1)
    report = outbox.drain(ctx, gateway, stale_after=timedelta(minutes=15))

    assert report == DrainReport(abandoned=1)
    row = fresh(ctx, row)
    assert row.status is OutboxStatus.FAILED
    assert row.last_error_code == "interrupted"
    assert row.updated_at == clock.now()
    assert_emptied(row)
    clock.advance(days=1)
    assert outbox.drain(ctx, gateway) == DrainReport()
    assert fake.received == []


# -- status callbacks ----------------------------------------------------------------


def sent_row(ctx: Context, gateway: TwilioGateway, body: str = "hello") -> OutboundMessage:
    row = put(ctx, body)
    outbox.drain(ctx, gateway)
    row = fresh(ctx, row)
    assert row.status is OutboxStatus.SENT
    assert row.provider_sid
    return row


def test_apply_status_moves_a_row_only_forward(ctx, gateway, clock):
    row = sent_row(ctx, gateway)
    sid = row.provider_sid
    clock.advance(minutes=1)

    assert outbox.apply_status(ctx, sid, "delivered", None)
    ctx.session.commit()
    row = fresh(ctx, row)
    assert row.status is OutboxStatus.DELIVERED
    assert row.updated_at == clock.now()

    clock.advance(minutes=1)
    for late in ("sent", "queued", "delivered", "undelivered", "failed"):
        assert not outbox.apply_status(ctx, sid, late, "30003")
    ctx.session.commit()
    row = fresh(ctx, row)
    assert row.status is OutboxStatus.DELIVERED
    assert row.last_error_code is None
    assert row.updated_at == clock.now() - timedelta(minutes=1)

    # an unknown sid or an unknown status word changes nothing
    assert not outbox.apply_status(ctx, "SM" + "f" * 32, "delivered", None)
    assert not outbox.apply_status(ctx, sid, "exploded", None)


@pytest.mark.parametrize(
    ("word", "error", "expected"),
    [
        ("read", None, OutboxStatus.DELIVERED),  # WhatsApp's "read"
        (" Delivered ", None, OutboxStatus.DELIVERED),
        ("undelivered", "30003", OutboxStatus.UNDELIVERED),
        ("failed", "30008", OutboxStatus.FAILED),
    ],
)
def test_apply_status_records_the_outcome(ctx, gateway, word, error, expected):
    row = sent_row(ctx, gateway)
    assert outbox.apply_status(ctx, row.provider_sid, word, error)
    ctx.session.commit()
    row = fresh(ctx, row)
    assert row.status is expected
    assert row.last_error_code == error
    assert opt_outs(ctx) == {}


def test_apply_status_undelivered_21610_opts_the_number_out(ctx, gateway):
    row = sent_row(ctx, gateway)
    waiting = put(ctx, "waiting")
    assert outbox.apply_status(ctx, row.provider_sid, "undelivered", "21610")
    ctx.session.commit()
    assert opt_outs(ctx) == {handle_of(ctx, PHONE): "provider"}
    row = fresh(ctx, row)
    assert (row.status, row.last_error_code) == (OutboxStatus.UNDELIVERED, "21610")
    assert fresh(ctx, waiting).status is OutboxStatus.CANCELLED


@pytest.fixture
def client(app: Flask, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    patch_services(
        monkeypatch,
        app,
        settings=replace(settings, twilio_auth_token=AUTH_TOKEN, twilio_account_sid=ACCOUNT_SID),
    )
    return app.test_client()


def callback(sid: str, status: str, error: str | None = None) -> dict[str, str]:
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT_SID,
        "MessageStatus": status,
        "SmsStatus": status,
        "From": FROM,
        "To": PHONE,
        "ApiVersion": "2010-04-01",
    }
    if error:
        params["ErrorCode"] = error
    return params


def post_status(
    client: Any, params: dict[str, str], *, token: str | None = AUTH_TOKEN, **headers: str
) -> Any:
    if token is not None:
        headers.setdefault(
            "X-Twilio-Signature", RequestValidator(token).compute_signature(STATUS_URL, params)
        )
    return client.post(STATUS_PATH, data=params, headers=headers)


def test_the_status_endpoint_delivered_then_a_late_sent_stays_delivered(
    ctx, gateway, client, clock
):
    row = sent_row(ctx, gateway)
    clock.advance(seconds=5)
    response = post_status(client, callback(row.provider_sid, "delivered"))
    assert response.status_code == 204
    assert fresh(ctx, row).status is OutboxStatus.DELIVERED

    response = post_status(client, callback(row.provider_sid, "sent"))
    assert response.status_code == 204
    row = fresh(ctx, row)
    assert row.status is OutboxStatus.DELIVERED
    assert row.updated_at == START + timedelta(seconds=5)


def test_the_status_endpoint_undelivered_21610_opts_the_number_out(ctx, gateway, client):
    row = sent_row(ctx, gateway)
    waiting = put(ctx, "waiting")
    response = post_status(client, callback(row.provider_sid, "undelivered", "21610"))
    assert response.status_code == 204
    assert opt_outs(ctx) == {handle_of(ctx, PHONE): "provider"}
    row = fresh(ctx, row)
    assert (row.status, row.last_error_code) == (OutboxStatus.UNDELIVERED, "21610")
    assert fresh(ctx, waiting).status is OutboxStatus.CANCELLED


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda params: {"token": None}, id="unsigned"),
        pytest.param(
            lambda params: {"token": "another-auth-token-0123456789abcd"}, id="other-token"
        ),
        pytest.param(lambda params: {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}, id="garbage"),
        pytest.param(
            lambda params: {
                "X-Twilio-Signature": RequestValidator(AUTH_TOKEN).compute_signature(
                    STATUS_URL, {**params, "ErrorCode": "30003"}
                )
            },
            id="other-params",
        ),
        pytest.param(
            lambda params: {
                "X-Twilio-Signature": RequestValidator(AUTH_TOKEN).compute_signature(
                    "http://localhost/intake/sms/twilio", params
                )
            },
            id="other-url",
        ),
    ],
)
def test_an_unsigned_or_wrongly_signed_callback_is_refused(ctx, gateway, client, forge):
    row = sent_row(ctx, gateway)
    waiting = put(ctx, "waiting")
    before = snapshot(ctx)
    params = callback(row.provider_sid, "undelivered", "21610")

    response = post_status(client, params, **forge(params))

    assert response.status_code == 403
    assert snapshot(ctx) == before
    assert fresh(ctx, waiting).status is OutboxStatus.PENDING
    assert opt_outs(ctx) == {}


def test_a_callback_for_another_account_is_refused(ctx, gateway, client):
    row = sent_row(ctx, gateway)
    before = snapshot(ctx)
    params = {**callback(row.provider_sid, "delivered"), "AccountSid": "AC" + "9" * 32}
    assert post_status(client, params).status_code == 403
    assert snapshot(ctx) == before


def test_a_callback_for_an_unknown_message_changes_nothing(ctx, gateway, client):
    sent_row(ctx, gateway)
    put(ctx, "waiting")
    before = snapshot(ctx)
    response = post_status(client, callback("SM" + "f" * 32, "undelivered", "21610"))
    assert response.status_code == 204
    assert snapshot(ctx) == before


@pytest.mark.parametrize("unknown", ["deliverd", "DROP TABLE", "", "delivered\u0000"])
def test_a_callback_with_an_unknown_status_is_refused(ctx, gateway, client, unknown):
    row = sent_row(ctx, gateway)
    before = snapshot(ctx)
    response = post_status(client, callback(row.provider_sid, unknown))
    assert response.status_code == 400
    assert snapshot(ctx) == before


@pytest.mark.parametrize("ignored", ["received", "partially_delivered"])
def test_a_documented_status_without_news_is_accepted_and_ignored(ctx, gateway, client, ignored):
    row = sent_row(ctx, gateway)
    before = snapshot(ctx)
    assert post_status(client, callback(row.provider_sid, ignored)).status_code == 204
    assert snapshot(ctx) == before


# -- long texts ----------------------------------------------------------------------


def restore(body: str, parts: list[str]) -> None:
    """Assert that `body` is the parts with (only) whitespace between and around them,
    each part within the limit, and a cut inside a word only where it must be."""
    position = 0
    for index, part in enumerate(parts):
        assert 0 < len(part) <= MAX_BODY_CHARS
        start = body.find(part, position)
        assert start >= 0, index
        assert not body[position:start].strip(), index  # only whitespace skipped
        end = start + len(part)
        last = index == len(parts) - 1
        if not last and not body[end].isspace():
            # cut inside a word: only a full part with no space or line break to cut at
            assert len(part) == MAX_BODY_CHARS
            assert " " not in part[MAX_BODY_CHARS // 2 :]
            assert "\n" not in part[MAX_BODY_CHARS // 2 :]
        position = end
    assert not body[position:].strip()


WORDS = st.one_of(
    st.text(
        alphabet=st.characters(blacklist_categories=("Zs", "Zl", "Zp", "Cc", "Cs")),
        min_size=1,
        max_size=12,
    ),
    st.builds(lambda char, n: char * n, st.sampled_from("aবعé"), st.integers(1, 2500)),
)
GAPS = st.sampled_from([" ", "\n", "  ", " \n ", "\t", "\u3000", "\n\n"])


@hypothesis_settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(GAPS, WORDS), max_size=60), st.booleans())
@example([(" ", "x" * 1599), (" ", "y" * 10)], False)
@example([(" " * 1000, "x" * 1000)], True)  # a leading blank run: no empty part
@example([(" ", "x" * 3500)], False)  # no space at all: hard cuts
def test_split_body_cuts_at_spaces_and_loses_nothing(pieces, leading):
    body = "".join(gap + word for gap, word in pieces)
    if not leading:
        body = body.lstrip()
    parts = outbox.split_body(body)
    restore(body, parts)
    if len(body) <= MAX_BODY_CHARS:
        assert parts == ([body] if body else [])
    if len(body.strip()) > MAX_BODY_CHARS:
        assert len(parts) >= 2


def test_a_long_text_becomes_several_rows_sent_in_order(ctx, fake, gateway):
    sentence = "Your complaint was reviewed and the factory agreed to pay the wages owed. "
    body = (sentence * 60).strip()  # 4,439 characters
    assert len(body) > 2 * MAX_BODY_CHARS

    rows = put_all(ctx, body)

    assert len(rows) == 3
    parts = [outbox.open_body(ctx, row) for row in rows]
    restore(body, parts)
    assert " ".join(parts) == body  # cut at single spaces
    report = outbox.drain(ctx, gateway)
    assert report.sent_ids == [row.id for row in rows]
    assert [form["Body"] for form in fake.messages] == parts
    assert all(len(form["Body"]) <= MAX_BODY_CHARS for form in fake.messages)


def test_a_text_that_nfc_lengthens_is_still_cut_within_the_limit(ctx, fake, gateway):
    # ড় (U+09DC) is a composition exclusion: NFC writes it as two characters, so a text
    # of 1,600 characters as typed is longer than Twilio takes once normalised
    body = "\u09dc" * 700 + " " + "আ" * 899
    assert len(body) == MAX_BODY_CHARS
    assert len(unicodedata.normalize("NFC", body)) > MAX_BODY_CHARS

    rows = put_all(ctx, body)
    outbox.drain(ctx, gateway)

    assert len(rows) == len(fake.messages) == 2
    assert all(len(form["Body"]) <= MAX_BODY_CHARS for form in fake.messages)
    assert " ".join(form["Body"] for form in fake.messages) == unicodedata.normalize("NFC", body)


@pytest.mark.parametrize("channel", [Channel.WEB, Channel.EMAIL, Channel.VOICE])
def test_the_outbox_sends_only_sms_and_whatsapp(ctx, channel):
    with pytest.raises(ValueError, match="SMS and WhatsApp"):
        outbox.queue(
            ctx, channel=channel, address=PHONE, handle=handle_of(ctx, PHONE), body="hello"
        )


# -- PostgreSQL: two drainers at once ------------------------------------------------

ROWS = 60


@pytest.mark.postgres
def test_two_drainers_at_once_send_each_row_exactly_once(committing, fake, settings):
    setup = committing()
    expected = []
    for number in range(ROWS):
        phone = f"+88017110{number:05d}"
        body = f"row {number:03d}"
        outbox.queue(
            setup,
            channel=Channel.WHATSAPP if number % 5 == 0 else Channel.SMS,
            address=phone,
            handle=handle_of(setup, phone),
            body=body,
        )
        expected.append(body)
    setup.session.commit()
    for _ in range(ROWS):
        fake.stall_next(0.005)  # a little network time per message: the drainers overlap

    reports: list[DrainReport] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def drainer() -> None:
        try:
            ctx = committing()
            gateway = TwilioGateway(twilio_settings(settings, fake))
            start.wait()
            reports.append(outbox.drain(ctx, gateway))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=drainer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(reports) == 2

    bodies = Counter(form["Body"] for form in fake.messages)
    assert len(fake.received) == ROWS
    assert bodies == Counter(expected)  # each once: none twice, none missing
    sent_ids = [row_id for report in reports for row_id in report.sent_ids]
    assert len(sent_ids) == len(set(sent_ids)) == ROWS
    assert sum(report.sent for report in reports) == ROWS

    check = committing()
    rows = check.session.scalars(select(OutboundMessage)).all()
    assert {row.status for row in rows} == {OutboxStatus.SENT}
    assert all(row.attempts == 1 for row in rows)
    assert {row.provider_sid for row in rows} == {item.sid for item in fake.received}
    assert outbox.drain(check, TwilioGateway(twilio_settings(settings, fake))) == DrainReport()
