"""The staff session: Flask-Login's glue, the checks the user loader makes at every
request, and `staff_required(*roles)` for every staff page.

The session lives in the staff cookie (`grievance.http.sessions` keeps the anonymous
surface apart). It holds no secret: the user's id, Flask-Login's keys and two times, when
the session began (`at`: 8 hours at most, and void when the user's `sessions_valid_after`
is later) and when it was last used (`seen`: 30 minutes of silence end it). Every check
is made by the user loader at each request, so a deactivated user, a changed or reset
password, a sign-out (which ends every session of the user: a cookie copied before it
must not live on) take effect at the next request.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user

from grievance.extensions import db, login
from grievance.http.context import service_context
from grievance.models import Role, User
from grievance.services import accounts

#: A staff session ends after this much silence, and this long after it began.
IDLE_LIMIT = timedelta(minutes=30)
ABSOLUTE_LIMIT = timedelta(hours=8)

AUTH_KEY = "staff"
ENDED_KEY = "staff_ended"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _moment(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def now_micros() -> int:
    """Now, in microseconds since the epoch: how the session keeps its times."""
    return _micros(service_context().now())


def micros(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)


# -- Flask-Login ----------------------------------------------------------------------------


class StaffIdentity:
    """What Flask-Login holds for a signed-in user (the model knows nothing of Flask)."""

    is_anonymous = False

    def __init__(self, user: User) -> None:
        self.user = user

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.user.active

    def get_id(self) -> str:
        return str(self.user.id)


def _end_session(expired: bool = False) -> None:
    session.clear()
    if expired:
        session[ENDED_KEY] = True


def load_staff(user_id: str) -> StaffIdentity | None:
    """The user of this session, if it may go on (see the module's docstring)."""
    state = session.get(AUTH_KEY)
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not isinstance(state, dict):
        _end_session()
        return None
    at, seen, now = state.get("at"), state.get("seen"), now_micros()
    if not isinstance(at, int) or not isinstance(seen, int):
        _end_session()
        return None
    idle = now - seen > micros(IDLE_LIMIT)
    old = now - at > micros(ABSOLUTE_LIMIT)
    if idle or old or not accounts.session_is_valid(user, _moment(at)):
        _end_session(expired=idle or old)
        return None
    state["seen"] = now
    session[AUTH_KEY] = state
    return StaffIdentity(user)


def start_session(user: User) -> None:
    """A new session (nothing of the one before it survives: no fixation), signed in."""
    session.clear()
    login_user(StaffIdentity(user))
    now = now_micros()
    session[AUTH_KEY] = {"at": now, "seen": now}


def _session_identifier() -> str:
    """Flask-Login's "strong" protection binds a session to its client; this replaces
    its SHA-512 of the address and browser with a keyed hash, so the cookie carries
    nothing from which the address could be guessed back."""
    address = (request.remote_addr or "").encode()
    agent = (request.headers.get("User-Agent") or "").encode()
    key = current_app.config["SECRET_KEY"].encode()
    message = b"staff-session\x00" + address + b"\x00" + agent
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def init_login(app: Flask) -> None:
    # No `current_user` in every template: loading the user is for staff pages only (and
    # never touches the anonymous surface's session). Staff templates call current_staff().
    login.init_app(app, add_context_processor=False)
    app.jinja_env.globals["current_staff"] = current_staff
    login.session_protection = "strong"
    login.login_view = "staff.sign_in"
    login.user_loader(load_staff)
    login._session_identifier_generator = _session_identifier


def current_staff() -> User | None:
    """The signed-in staff user of this request, or None. A session that never signed in
    is left alone (Flask-Login would mark it, and clear a remember cookie we never set)."""
    if "_user_id" not in session:
        return None
    identity = current_user._get_current_object()
    if isinstance(identity, StaffIdentity):
        return identity.user
    return None


# -- the gate of every staff page -----------------------------------------------------------


def setup_step(user: User) -> str | None:
    """The page a user must go through before any other: a forced password change, then
    the second factor for the roles that need one."""
    if user.must_change_password:
        return "staff.change_password"
    if accounts.needs_second_factor(user) and not accounts.has_second_factor(user):
        return "staff.enrol"
    return None


def after_sign_in(user: User, next_path: str | None) -> str:
    """Where a user goes once signed in: a forced step, else where they were going."""
    step = setup_step(user)
    if step is not None:
        return url_for(step)
    return next_path or url_for("staff.home")


F = TypeVar("F", bound=Callable[..., Any])


def forbidden() -> tuple[str, int]:
    return render_template("staff/forbidden.html"), 403


def staff_required(*roles: Role) -> Callable[[F], F]:
    """A staff page: signed in (else to the sign-in page, coming back after), through the
    forced steps, and of one of `roles` (any role if none; else 403, with no data)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_staff()
            if user is None:
                return redirect(url_for("staff.sign_in", next=_local_path()))
            step = setup_step(user)
            if step is not None and request.endpoint != step:
                return redirect(url_for(step))
            if roles and user.role not in roles:
                return forbidden()
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def signed_in() -> User:
    """The user of a page behind `staff_required`."""
    user = current_staff()
    assert user is not None  # staff_required let the request in
    return user


def _local_path() -> str | None:
    if request.method != "GET":
        return None
    path = request.full_path.rstrip("?")
    return path if safe_next(path) else None


def safe_next(value: str | None) -> str | None:
    """Only a path of this site: never another host (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value
