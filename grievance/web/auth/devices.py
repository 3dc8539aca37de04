"""Device cookies: each browser is a device of its own on the sign-in pages, and a browser
that signed in to an account is known to it again.

The sign-in pages give every browser a signed cookie (HttpOnly, SameSite=Strict, Secure
under https, path `/staff/sign-in`, 90 days) holding a random id of the browser, and the
accounts it signed in to (at most five, each with an id of its own):

- the sign-in limits count per device (`limits.py`), so that colleagues behind one
  office address are not counted together;
- throttling (see `grievance.services.accounts`) counts failures per account and kind of
  client: a browser that signed in to an account is known to it (its id for that
  account), every other client shares one key, so its owner is not locked out by
  someone else's failures.

The browser's id names no account, and each account's id is different, so the rows of
the throttle table do not tell which accounts one browser uses.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app, g, request
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from grievance.services import accounts

DEVICE_COOKIE = "staff_device"
DEVICE_PATH = "/staff/sign-in"
DEVICE_MAX_AGE = timedelta(days=90)
DEVICES_KEPT = 5
_SET = "grievance.device_cookie_set"


@dataclass
class Device:
    """What the browser's cookie says: its own id (None without a valid cookie) and
    (account key, device id) of the accounts it signed in to, the most recent first."""

    id: str | None = None
    accounts: list[tuple[str, str]] = field(default_factory=list)


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="staff-device")


def _device_cookie_name() -> str:
    secure = current_app.config["SESSION_COOKIE_SECURE"]
    return f"__Secure-{DEVICE_COOKIE}" if secure else DEVICE_COOKIE


def _short_text(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 64


def _pairs(entries: object) -> list[tuple[str, str]]:
    if not isinstance(entries, list):
        return []
    return [
        (entry[0], entry[1])
        for entry in entries
        if isinstance(entry, list) and len(entry) == 2 and all(map(_short_text, entry))
    ]


def this_device() -> Device:
    """The device of the current request, from its cookie (empty without a valid one)."""
    value = request.cookies.get(_device_cookie_name())
    if not value:
        return Device()
    try:
        content = _device_serializer().loads(value, max_age=int(DEVICE_MAX_AGE.total_seconds()))
    except BadData:
        return Device()
    if isinstance(content, list):  # the first format: the accounts alone
        return Device(accounts=_pairs(content))
    if not isinstance(content, dict):
        return Device()
    device_id = content.get("id")
    return Device(
        id=device_id if _short_text(device_id) else None, accounts=_pairs(content.get("accounts"))
    )


def client_key_for(account_key: str) -> str:
    """The throttling key of this client for that account: its device id if it signed
    in to that account before, else the key every other client shares."""
    for key, device in this_device().accounts:
        if hmac.compare_digest(key, account_key):
            return device
    return accounts.UNTRUSTED_CLIENTS


def _write(response: Response, device: Device) -> None:
    value = _device_serializer().dumps(
        {"id": device.id, "accounts": [list(entry) for entry in device.accounts[:DEVICES_KEPT]]}
    )
    response.set_cookie(
        _device_cookie_name(),
        value,
        max_age=int(DEVICE_MAX_AGE.total_seconds()),
        path=DEVICE_PATH,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Strict",
    )
    g.setdefault(_SET, True)


def give_device(response: Response) -> Response:
    """A sign-in page's response: a browser without a device id gets one (its accounts,
    if its cookie had any, kept)."""
    if g.get(_SET):
        return response
    device = this_device()
    if device.id is None:
        _write(response, Device(id=secrets.token_hex(16), accounts=device.accounts))
    return response


def remember_device(response: Response, account_key: str) -> None:
    """Name this browser to the account it just signed in to (the most recent first)."""
    device = this_device()
    known = next((d for k, d in device.accounts if k == account_key), secrets.token_hex(16))
    kept = [(account_key, known)] + [(k, d) for k, d in device.accounts if k != account_key]
    _write(response, Device(id=device.id or secrets.token_hex(16), accounts=kept))
