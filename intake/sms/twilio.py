"""Twilio, at the edges: webhook signatures, addresses, and the REST gateway of the outbox.

Everything here goes through the `twilio` library: `RequestValidator` checks the
`X-Twilio-Signature` of each webhook against the public URL Twilio called
(`PUBLIC_BASE_URL`, for deployments behind a proxy) and `Client` sends, through an HTTP
client that rewrites Twilio's base URL to `TWILIO_API_BASE_URL`, so that a local
stand-in (tests, demos) receives exactly the requests Twilio would.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from grievance.config import TWILIO_API_BASE_URL, Settings
from grievance.models import Channel
from grievance.services.outbox import GatewayError, Sent
from grievance.services.phones import InvalidPhoneNumber, parse_phone
from intake.sms.segments import measure

log = logging.getLogger(__name__)

WHATSAPP_PREFIX = "whatsapp:"
WEBHOOK_PATH = "/intake/sms/twilio"
STATUS_PATH = "/intake/sms/twilio/status"
#: Twilio's client logs each request's URL and headers at INFO; never the body, but keep
#: it quiet all the same.
_quiet = logging.getLogger("grievance.twilio.http")
_quiet.setLevel(logging.WARNING)


def signature_is_valid(
    auth_token: str | None, url: str, params: Mapping[str, Any], signature: str | None
) -> bool:
    """Whether the webhook was signed by Twilio with our auth token (constant time)."""
    if not auth_token or not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, params, signature))


def parse_address(raw: str) -> tuple[Channel, str] | None:
    """`+8801711000001` → (SMS, '+8801711000001'); `whatsapp:+880…` → (WHATSAPP, '+880…').

    None for what is not a phone number (a short code, an alphanumeric sender). The number
    is read as a typed one is (`phones.parse_phone`), so that both find one complainant.
    """
    text = raw.strip()
    channel = Channel.SMS
    if text.lower().startswith(WHATSAPP_PREFIX):
        channel = Channel.WHATSAPP
        text = text[len(WHATSAPP_PREFIX) :]
    try:
        return channel, parse_phone(text)
    except InvalidPhoneNumber:
        return None


def address_for(channel: Channel, number: str) -> str:
    return f"{WHATSAPP_PREFIX}{number}" if channel is Channel.WHATSAPP else number


class BaseUrlHttpClient(TwilioHttpClient):
    """Twilio's own HTTP client, sending to `base_url` instead of https://api.twilio.com."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        super().__init__(timeout=timeout, logger=_quiet)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if url.startswith(TWILIO_API_BASE_URL):
            url = self.base_url + url[len(TWILIO_API_BASE_URL) :]
        return super().request(method, url, *args, **kwargs)


class TwilioGateway:
    """The outbox's gateway (`grievance.services.outbox.SmsGateway`) through Twilio."""

    def __init__(self, settings: Settings, timeout: float = 10.0) -> None:
        assert settings.twilio_account_sid
        assert settings.twilio_auth_token
        self.settings = settings
        self.client = Client(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            http_client=BaseUrlHttpClient(settings.twilio_api_base_url, timeout),
        )
        self.status_callback = settings.public_base_url + STATUS_PATH

    @classmethod
    def from_settings(cls, settings: Settings) -> TwilioGateway | None:
        """The gateway, or None while Twilio is not configured (nothing is sent)."""
        if not twilio_configured(settings):
            return None
        return cls(settings)

    def send(self, channel: Channel, to: str, body: str) -> Sent:
        measured = measure(body)
        sender: dict[str, str] = {}
        if self.settings.twilio_messaging_service_sid:
            sender["messaging_service_sid"] = self.settings.twilio_messaging_service_sid
        else:
            assert self.settings.twilio_from_number
            sender["from_"] = address_for(channel, self.settings.twilio_from_number)
        try:
            message = self.client.messages.create(
                to=address_for(channel, to),
                body=measured.text,
                status_callback=self.status_callback,
                **sender,
            )
        except TwilioRestException as error:
            temporary = error.status >= 500 or error.status == 429
            raise GatewayError(str(error.code or error.status), temporary=temporary) from None
        except requests.Timeout:
            raise GatewayError("timeout", temporary=True) from None
        except requests.RequestException:
            raise GatewayError("connection", temporary=True) from None
        except TwilioException:
            raise GatewayError("twilio", temporary=True) from None
        return Sent(
            provider_sid=str(message.sid),
            encoding=measured.encoding.value,
            segments=measured.segments,
        )


def twilio_configured(settings: Settings) -> bool:
    return bool(
        settings.twilio_account_sid
        and settings.twilio_auth_token
        and (settings.twilio_from_number or settings.twilio_messaging_service_sid)
    )
