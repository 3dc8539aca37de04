"""Device cookies: a browser that signed in to an account is known to it again.

Throttling (see `grievance.services.accounts`) counts failures per account and kind of
client. A browser that signed in to an account gets a signed cookie naming it (HttpOnly,
SameSite=Strict, Secure under https, path `/staff/sign-in`, 90 days; at most five accounts
per browser), so its owner is not locked out by someone else's failures: every other
client shares one key.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from flask import current_app, request
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from grievance.services import accounts

DEVICE_COOKIE = "staff_device"
DEVICE_PATH = "/staff/sign-in"
DEVICE_MAX_AGE = timedelta(days=90)
DEVICES_KEPT = 5


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="staff-device")


def _device_cookie_name() -> str:
    secure = current_app.config["SESSION_COOKIE_SECURE"]
    return f"__Secure-{DEVICE_COOKIE}" if secure else DEVICE_COOKIE


def _known_devices() -> list[tuple[str, str]]:
    """(account key, device id) of the accounts this browser signed in to."""
    value = request.cookies.get(_device_cookie_name())
    if not value:
        return []
    try:
        entries = _device_serializer().loads(value, max_age=int(DEVICE_MAX_AGE.total_seconds()))
    except BadData:
        return []
    if not isinstance(entries, list):
        return []
    return [
        (entry[0], entry[1])
        for entry in entries
        if isinstance(entry, list)
        and len(entry) == 2
        and all(isinstance(part, str) and len(part) <= 64 for part in entry)
    ]


def client_key_for(account_key: str) -> str:
    """The throttling key of this client for that account: its device id if it signed
    in to that account before, else the key every other client shares."""
    for key, device in _known_devices():
        if hmac.compare_digest(key, account_key):
            return device
    return accounts.UNTRUSTED_CLIENTS


def remember_device(response: Response, account_key: str) -> None:
    """Name this browser to the account it just signed in to (the most recent first)."""
    devices = _known_devices()
    device = next((d for k, d in devices if k == account_key), secrets.token_hex(16))
    kept = [(account_key, device)] + [(k, d) for k, d in devices if k != account_key]
    value = _device_serializer().dumps([list(entry) for entry in kept[:DEVICES_KEPT]])
    response.set_cookie(
        _device_cookie_name(),
        value,
        max_age=int(DEVICE_MAX_AGE.total_seconds()),
        path=DEVICE_PATH,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Strict",
    )
