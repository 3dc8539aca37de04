"""The rate limits of the sign-in pages (every POST counts, right or wrong), before any
password is hashed:

- **per account**: 10 in 15 minutes, 50 a day, for each account and kind of client, as the
  throttle counts (`grievance.services.accounts.throttle`: the account key, an HMAC of
  the normalised address, unknown addresses alike; and the browser's id for that account
  if it signed in to it before, else every other client together), so that guessing one
  account from many devices is stopped and its owner on a known device is not; on the
  code page, the account half-signed-in;
- **per device**: 30 in 15 minutes, 300 a day, for each browser (its device cookie,
  `devices.py`, given by the sign-in page); a client that sends none counts with every
  other such client of its address;
- **per address**: a ceiling much higher than either, 300 in 15 minutes and 3,000 a day,
  for each client address (IPv6 by /64): a whole office behind one address signs in,
  each colleague on their own device, and a client that throws its cookies away still
  meets a limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import request, session

from grievance.extensions import hashed_client
from grievance.extensions import staff_limiter as limiter
from grievance.http.context import service_context
from grievance.services import accounts
from grievance.web.auth.devices import client_key_for, this_device

PER_ACCOUNT = "10 per 15 minutes; 50 per day"
PER_DEVICE = "30 per 15 minutes; 300 per day"
PER_ADDRESS = "300 per 15 minutes; 3000 per day"
#: Where the half-signed-in state is kept (`sign_in.PENDING_KEY`).
PENDING_KEY = "staff_pending"


def _account() -> str:
    pending = session.get(PENDING_KEY)
    if request.endpoint == "staff.sign_in_code" and isinstance(pending, dict):
        return f"user:{pending.get('user')}"  # only its password brings anyone here
    key = accounts.account_key(service_context(), request.form.get("email", ""))
    return f"account:{key}:{client_key_for(key)}"


def _device() -> str:
    device = this_device().id
    return f"device:{device}" if device else f"no-device:{hashed_client()}"


per_account = limiter.shared_limit(
    lambda: PER_ACCOUNT, scope="staff-sign-in-account", key_func=_account, methods=["POST"]
)
per_device = limiter.shared_limit(
    lambda: PER_DEVICE, scope="staff-sign-in-device", key_func=_device, methods=["POST"]
)
per_address = limiter.shared_limit(lambda: PER_ADDRESS, scope="staff-sign-in", methods=["POST"])

F = TypeVar("F", bound=Callable[..., Any])


def sign_in_limits(view: F) -> F:
    """The three limits of a sign-in page."""
    return per_address(per_device(per_account(view)))  # type: ignore[return-value]
