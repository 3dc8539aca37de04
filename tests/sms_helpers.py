"""Driving the SMS and WhatsApp channel as Twilio and a phone would: signed webhooks, the
worker's steps, and what reached the fake Twilio (`tests.fake_twilio`) for each number.

    with sms_line(app, ctx, settings) as line:
        phone = line.phone("+8801711000001")
        phone.send("আমাকে তিন মাস ধরে বেতন দেওয়া হয়নি")   # -> the texts the phone got back

`SmsLine.work()` is one round of the worker's SMS job (`grievance.scheduler._sms`): the
inbound messages through the dialogue, silences, then the outbox drained through the
real `twilio` Client to the fake.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from grievance.clock import FixedClock
from grievance.config import Settings
from grievance.models import InboundSms
from grievance.services import outbox
from grievance.services.context import Context
from intake.sms import texts
from intake.sms.conversations import SmsSettings, process_inbound, tick_conversations, translations
from intake.sms.texts import Text
from intake.sms.twilio import WEBHOOK_PATH, TwilioGateway
from tests.apps import restore_services, set_services
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, serve

#: Our number, the one people text.
OUR_NUMBER = "+3197010000000"
#: The URL Twilio signs with the suite's PUBLIC_BASE_URL ("http://localhost").
WEBHOOK_URL = "http://localhost" + WEBHOOK_PATH
_CODE = re.compile(r"\b(\d{4}) (\d{4}) (\d{4}) (\d{4})\b")
_sids = itertools.count(1)


def twilio_settings(settings: Settings, **changes: Any) -> Settings:
    """The suite's settings with the fake's Twilio account configured."""
    return replace(
        settings,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_from_number=OUR_NUMBER,
        **changes,
    )


def new_sid() -> str:
    """A fresh MessageSid, shaped like Twilio's (SM and 32 hex digits)."""
    return f"SM{next(_sids):032x}"


def sign(params: Mapping[str, str], url: str = WEBHOOK_URL, token: str = AUTH_TOKEN) -> str:
    """X-Twilio-Signature as Twilio computes it."""
    return str(RequestValidator(token).compute_signature(url, dict(params)))


def inbound_params(sender: str, body: str, sid: str | None = None, **extra: str) -> dict[str, str]:
    """The form Twilio posts for one inbound message (the required fields, and `extra`)."""
    to = OUR_NUMBER
    if sender.startswith("whatsapp:"):
        to = "whatsapp:" + OUR_NUMBER
    return {
        "MessageSid": sid or new_sid(),
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": to,
        "Body": body,
        **extra,
    }


def post_webhook(
    client: FlaskClient,
    params: Mapping[str, str],
    *,
    signature: str | None = None,
    signed: bool = True,
) -> TestResponse:
    """POST the form to the inbound webhook, signed for WEBHOOK_URL unless told otherwise."""
    headers = {}
    if signed:
        headers["X-Twilio-Signature"] = signature if signature is not None else sign(params)
    return client.post(WEBHOOK_PATH, data=dict(params), headers=headers)


def rendered(text: Text, language: str, **params: str) -> str:
    """A dialogue text as the person receives it."""
    return texts.render(text, params, language, translations(language))


def receipt_code_in(message: str) -> str:
    """The receipt code a FILED text shows (grouped by four), as 16 digits."""
    match = _CODE.search(message)
    assert match, f"no receipt code in {message!r}"
    return "".join(match.groups())


def pending_inbound(ctx: Context) -> int:
    return (
        ctx.session.scalar(
            select(func.count()).select_from(InboundSms).where(InboundSms.processed_at.is_(None))
        )
        or 0
    )


@dataclass
class SmsLine:
    """Twilio's side of the channel: the webhook, the worker and the fake REST API."""

    client: FlaskClient
    ctx: Context
    fake: FakeTwilio
    gateway: TwilioGateway
    sms: SmsSettings = field(default_factory=SmsSettings)

    @property
    def clock(self) -> FixedClock:
        clock = self.ctx.clock
        assert isinstance(clock, FixedClock)
        return clock

    def phone(self, number: str, *, whatsapp: bool = False) -> Phone:
        return Phone(self, number, whatsapp=whatsapp)

    def post(self, sender: str, body: str, sid: str | None = None) -> TestResponse:
        response = post_webhook(self.client, inbound_params(sender, body, sid))
        assert response.status_code == 200, response.get_data(as_text=True)
        return response

    def work(self) -> None:
        """One round of the worker's SMS job; every waiting message must get read (the
        job logs and keeps a message it failed on: a test would never see why)."""
        process_inbound(self.ctx, self.sms)
        assert pending_inbound(self.ctx) == 0, "a conversation failed; see the log"
        tick_conversations(self.ctx, self.sms)
        outbox.drain(self.ctx, self.gateway)

    def texts_to(self, address: str) -> list[str]:
        """Every text the fake accepted for `address` (a number, or whatsapp:+…)."""
        return [form["Body"] for form in self.fake.messages if form["To"] == address]


@dataclass
class Phone:
    """One person's phone: sends texts, returns what came back since the last look."""

    line: SmsLine
    number: str
    whatsapp: bool = False
    _seen: int = 0

    @property
    def address(self) -> str:
        return f"whatsapp:{self.number}" if self.whatsapp else self.number

    def post(self, text: str, sid: str | None = None) -> TestResponse:
        """Only the webhook: the message is recorded, the worker has not run."""
        return self.line.post(self.address, text, sid)

    def send(self, *messages: str) -> list[str]:
        """Each message through the webhook and the worker, in turn; what came back."""
        for text in messages:
            self.post(text)
            self.line.work()
        return self.received()

    def wait(self, delta: timedelta) -> list[str]:
        """Silence for `delta`, then a round of the worker; what came back."""
        self.line.clock.advance(delta)
        self.line.work()
        return self.received()

    def received(self) -> list[str]:
        """The texts that reached this phone since the last call."""
        inbox = self.inbox
        new = inbox[self._seen :]
        self._seen = len(inbox)
        return new

    @property
    def inbox(self) -> list[str]:
        return self.line.texts_to(self.address)


@contextmanager
def sms_line(
    app: Flask,
    ctx: Context,
    settings: Settings,
    sms: SmsSettings | None = None,
    fake: FakeTwilio | None = None,
) -> Iterator[SmsLine]:
    """The app configured for the fake Twilio account (its settings restored after), the
    fake running (`fake`, emptied, if one runs already: stopping one takes half a second,
    so a module shares one), and a line to drive both."""
    configured = twilio_settings(settings)
    before = set_services(app, settings=configured)
    try:
        with ExitStack() as stack:
            if fake is None:
                fake = stack.enter_context(serve())
            reset(fake)
            gateway = TwilioGateway(replace(configured, twilio_api_base_url=fake.base_url))
            yield SmsLine(app.test_client(), ctx, fake, gateway, sms or SmsSettings())
    finally:
        restore_services(app, before)


def reset(fake: FakeTwilio) -> None:
    """Forget what a shared fake received and was told to do."""
    with fake._lock:
        fake.received.clear()
        fake._failures.clear()
        fake._stalls.clear()


@contextmanager
def shared_fake() -> Iterator[FakeTwilio]:
    """A fake for a module's tests (a module-scoped fixture's body)."""
    with serve() as fake:
        yield fake
