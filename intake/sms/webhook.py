"""Twilio's webhooks: inbound messages (SMS and WhatsApp) and delivery status callbacks.

Both check `X-Twilio-Signature` (the twilio library's `RequestValidator`, against the
public URL Twilio called) before reading anything: a missing or wrong signature gets 403
and records nothing. The inbound webhook only records the message (one INSERT, unique by
`MessageSid`) and answers an empty TwiML `<Response/>` at once; the worker runs the
dialogue and every reply goes through the outbox. Neither ever calls out to the network.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, request
from twilio.twiml.messaging_response import MessagingResponse

from grievance.config import Settings
from grievance.extensions import csrf, db
from grievance.http.context import current_settings, service_context
from grievance.services import outbox
from intake.sms.conversations import record_inbound
from intake.sms.twilio import STATUS_PATH, WEBHOOK_PATH, signature_is_valid

blueprint = Blueprint("sms", __name__)
csrf.exempt(blueprint)  # Twilio signs its requests; there is no cookie to ride on
REQUIRED = ("MessageSid", "AccountSid", "From", "To")
_EMPTY_TWIML = str(MessagingResponse())


def _settings() -> Settings:
    settings: Settings = current_settings()
    return settings


def _signed_url(settings: Settings) -> str:
    """The URL Twilio signed: the public one, with the query string as received."""
    query = request.query_string.decode("latin-1")
    return settings.public_base_url + request.path + (f"?{query}" if query else "")


def _require_signature(required: tuple[str, ...] = ()) -> Settings:
    settings = _settings()
    signature = request.headers.get("X-Twilio-Signature")
    if not signature_is_valid(
        settings.twilio_auth_token, _signed_url(settings), request.form, signature
    ):
        abort(403)
    if any(not request.form.get(name) for name in required):
        abort(400)  # signed, but not a message: a missing AccountSid is not another account's
    if (
        settings.twilio_account_sid
        and request.form.get("AccountSid") != settings.twilio_account_sid
    ):
        abort(403)
    return settings


def _twiml() -> Response:
    return Response(_EMPTY_TWIML, content_type="application/xml; charset=utf-8")


@blueprint.post(WEBHOOK_PATH)
def inbound() -> Response:
    _require_signature(REQUIRED)
    form = request.form
    ctx = service_context()
    record_inbound(
        ctx,
        provider_sid=form["MessageSid"],
        sender=form["From"],
        to=form["To"],
        body=form.get("Body", ""),
    )
    db.session.commit()
    return _twiml()


@blueprint.post(STATUS_PATH)
def status() -> tuple[str, int]:
    _require_signature()
    form = request.form
    sid = form.get("MessageSid") or form.get("SmsSid")
    provider_status = form.get("MessageStatus") or form.get("SmsStatus")
    if not sid or not provider_status or not outbox.is_provider_status(provider_status):
        abort(400)
    outbox.apply_status(service_context(), sid, provider_status, form.get("ErrorCode") or None)
    db.session.commit()
    return "", 204
