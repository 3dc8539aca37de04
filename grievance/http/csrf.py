"""When a form refused for its CSRF token may show back what was typed.

Forms that lose no work (the complaint form, the follow-up message, staff recording, the
reviewer's actions) come back with the typed text when their page expired: the session
that the token was bound to is gone (the browser closed, the staff session ended, a
second tab signed in again). That text is the request's, so it comes back only when the
token is one of ours: its signature is good, it was made by one of our pages. A missing
or forged token (a cross-site POST) shows nothing from the request: the general error
page. A browser that says the request came from another site (`Sec-Fetch-Site`,
`Origin`) is not believed either, whatever its token: someone may fetch a token of their
own and post it from elsewhere.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

#: Flask-WTF signs its tokens with this salt (`flask_wtf.csrf.generate_csrf`).
SALT = "wtf-csrf-token"


def _sent_token() -> str | None:
    """The token the form sent: `csrf_token`, or a prefixed form's `<prefix>-csrf_token`
    (where Flask-WTF looks for it too)."""
    name = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    token = request.form.get(name)
    if token:
        return token
    for key, value in request.form.items():
        if key.endswith(name) and value:
            return value
    return None


def _signed_by_us(token: str) -> bool:
    secret = current_app.config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
    if not secret:
        return False
    serializer = URLSafeTimedSerializer(secret, salt=SALT)
    try:
        serializer.loads(token)
    except SignatureExpired:
        return True  # a time limit, if one is set: expired, and ours
    except BadData:
        return False
    return True


def _from_another_site() -> bool:
    if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
        return True
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    parts = urlsplit(origin)
    return origin == "null" or parts.netloc != request.host or parts.scheme != request.scheme


def typed_text_may_come_back() -> bool:
    """True when a form refused for its CSRF token may show back what was typed: its
    token is ours and expired, and nothing says it came from another site."""
    token = _sent_token()
    return token is not None and _signed_by_us(token) and not _from_another_site()
