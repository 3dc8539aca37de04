"""`Idempotency-Key` on `POST /api/v1/complaints`: a retry with the same key gets the
case (and receipt code) the first request filed (`services.submissions`)."""

from __future__ import annotations

import re

from flask import request

from grievance.services.submissions import KEY_MAX
from intake.api import partners

#: The request header that makes a retry of `POST /complaints` file once.
IDEMPOTENCY_HEADER = "Idempotency-Key"
_KEY_SHAPE = re.compile(rf"[\x21-\x7e]{{1,{KEY_MAX}}}")


class BadKey(Exception):
    """The header is there, but no key of the accepted shape."""


def idempotency_key() -> str | None:
    """The request's `Idempotency-Key` (visible ASCII, at most `KEY_MAX` characters);
    None when there is none; raises `BadKey` for a key of another shape."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if _KEY_SHAPE.fullmatch(key) is None:
        raise BadKey(f"At most {KEY_MAX} visible ASCII characters, such as a UUID.")
    return key


def scope() -> str:
    """Whose keys a key is among: the partner application's, or anonymous senders'."""
    client = partners.current_client()
    return f"api:{client.id}" if client is not None else "api"


#: The header in the OpenAPI document.
PARAMETER = {
    "name": IDEMPOTENCY_HEADER,
    "in": "header",
    "required": False,
    "description": "A key of the client's choosing (a UUID): a retry with the same key and "
    "the same complaint gets the case the first request filed, with its receipt code for "
    "15 minutes (then 409), and files nothing; the same key with another complaint is "
    "refused (422). Keys are remembered for 24 hours.",
    "schema": {"type": "string", "minLength": 1, "maxLength": KEY_MAX, "pattern": "^[!-~]+$"},
}
