"""Staff sign-in (Flask-Login): e-mail and password, then a TOTP code or a recovery code;
forced password change and second-factor enrolment; the account page; sign-out; and
`staff_required(*roles)` for every staff page.

The staff session lives in the staff cookie (`grievance.http.sessions` keeps the anonymous
surface apart). It holds no secret: the user's id, Flask-Login's keys and two times, when
the session began (`at`: 8 hours at most, and void when the user's `sessions_valid_after`
is later) and when it was last used (`seen`: 30 minutes of silence end it). Every check
is made by the user loader at each request, so a deactivated user, a changed or reset
password, a sign-out (which ends every session of the user: a cookie copied before it
must not live on) take effect at the next request.

Throttling (see `grievance.services.accounts`) counts per account and kind of client; a
browser that signed in to an account gets a device cookie naming it, so its owner is not
locked out by someone else's failures. Every failure and every lock shows one message.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from grievance.extensions import db, login
from grievance.extensions import staff_limiter as limiter
from grievance.http.context import service_context
from grievance.models import Role, User
from grievance.services import accounts

blueprint = Blueprint("staff", __name__, url_prefix="/staff")

#: A staff session ends after this much silence, and this long after it began.
IDLE_LIMIT = timedelta(minutes=30)
ABSOLUTE_LIMIT = timedelta(hours=8)
#: Between the password and the code.
PENDING_LIMIT = timedelta(minutes=5)

AUTH_KEY = "staff"
PENDING_KEY = "staff_pending"
ENROLMENT_KEY = "staff_enrolment"
ENDED_KEY = "staff_ended"

DEVICE_COOKIE = "staff_device"
DEVICE_PATH = "/staff/sign-in"
DEVICE_MAX_AGE = timedelta(days=90)
DEVICES_KEPT = 5

#: Every POST of the sign-in pages counts against one limit per (hashed) client.
sign_in_limit = limiter.shared_limit(
    "20 per 15 minutes; 100 per day", scope="staff-sign-in", methods=["POST"]
)

ROLE_NAMES = {
    Role.REVIEWER: _l("Independent reviewer"),
    Role.COMPANY: _l("Company staff"),
    Role.SECRETARIAT: _l("Secretariat"),
    Role.ADMIN: _l("Administrator"),
}

PASSWORD_PROBLEMS = {
    accounts.PasswordProblem.WRONG_CURRENT: _l("Your current password is not right."),
    accounts.PasswordProblem.TOO_SHORT: _l("Use at least 12 characters."),
    accounts.PasswordProblem.TOO_LONG: _l("Use at most 128 characters."),
    accounts.PasswordProblem.IS_EMAIL: _l("Do not use your e-mail address as your password."),
    accounts.PasswordProblem.TOO_COMMON: _l(
        "This password is too common: choose one that is harder to guess."
    ),
    accounts.PasswordProblem.UNCHANGED: _l("Choose a password you have not used here."),
}

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _moment(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


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


def _now() -> int:
    return _micros(service_context().now())


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
    at, seen, now = state.get("at"), state.get("seen"), _now()
    if not isinstance(at, int) or not isinstance(seen, int):
        _end_session()
        return None
    idle = now - seen > IDLE_LIMIT // timedelta(microseconds=1)
    old = now - at > ABSOLUTE_LIMIT // timedelta(microseconds=1)
    if idle or old or not accounts.session_is_valid(user, _moment(at)):
        _end_session(expired=idle or old)
        return None
    state["seen"] = now
    session[AUTH_KEY] = state
    return StaffIdentity(user)


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


def setup_step(user: User) -> str | None:
    """The page a user must go through before any other: a forced password change, then
    the second factor for the roles that need one."""
    if user.must_change_password:
        return "staff.change_password"
    if accounts.needs_second_factor(user) and not accounts.has_second_factor(user):
        return "staff.enrol"
    return None


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


def _local_path() -> str | None:
    if request.method != "GET":
        return None
    path = request.full_path.rstrip("?")
    return path if _safe_next(path) else None


def _safe_next(value: str | None) -> str | None:
    """Only a path of this site: never another host (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


# -- device cookies -------------------------------------------------------------------------


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


def _remember_device(response: Response, account_key: str) -> None:
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


# -- forms ----------------------------------------------------------------------------------


class SignInForm(FlaskForm):
    email = StringField(
        _l("E-mail address"),
        validators=[
            InputRequired(_l("Give your e-mail address.")),
            Length(max=254, message=_l("Use at most %(max)d characters.")),
        ],
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            InputRequired(_l("Give your password.")),
            Length(max=1024, message=_l("Use at most %(max)d characters.")),
        ],
    )


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code"),
        description=_l(
            "The 6 digits your authenticator app shows now, or one of your recovery codes."
        ),
        validators=[
            InputRequired(_l("Give the code.")),
            Length(max=64, message=_l("Use at most %(max)d characters.")),
        ],
    )


class EnrolForm(FlaskForm):
    code = StringField(
        _l("The 6 digits your app shows now"),
        validators=[
            InputRequired(_l("Give the code.")),
            Length(max=64, message=_l("Use at most %(max)d characters.")),
        ],
    )


class PasswordForm(FlaskForm):
    current = PasswordField(
        _l("Current password"),
        validators=[
            InputRequired(_l("Give your current password.")),
            Length(max=1024, message=_l("Use at most %(max)d characters.")),
        ],
    )
    new = PasswordField(
        _l("New password"),
        description=_l("At least 12 characters. A few unrelated words make a good one."),
        validators=[
            InputRequired(_l("Choose a new password.")),
            Length(max=accounts.PASSWORD_MAX, message=_l("Use at most %(max)d characters.")),
        ],
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            InputRequired(_l("Type the new password again.")),
            Length(max=1024, message=_l("Use at most %(max)d characters.")),
        ],
    )


# -- signing in and out ---------------------------------------------------------------------


def _start_session(user: User) -> None:
    """A new session (nothing of the one before it survives: no fixation), signed in."""
    session.clear()
    login_user(StaffIdentity(user))
    now = _now()
    session[AUTH_KEY] = {"at": now, "seen": now}


def _pending() -> dict[str, Any] | None:
    state = session.get(PENDING_KEY)
    if not isinstance(state, dict) or not isinstance(state.get("since"), int):
        return None
    if _now() - state["since"] > PENDING_LIMIT // timedelta(microseconds=1):
        session.pop(PENDING_KEY, None)
        return None
    return state


def _after_sign_in(user: User, next_path: str | None) -> str:
    step = setup_step(user)
    if step is not None:
        return url_for(step)
    return next_path or url_for("staff.home")


def _finish_sign_in(
    user: User, account_key: str, client_key: str, next_path: str | None
) -> Response:
    accounts.complete_sign_in(service_context(), user, client_key)
    db.session.commit()
    _start_session(user)
    response = redirect(_after_sign_in(user, next_path))
    _remember_device(response, account_key)
    return response


@blueprint.route("/sign-in", methods=["GET", "POST"])
@sign_in_limit
def sign_in() -> str | Response | tuple[str, int]:
    if current_staff() is not None:
        return redirect(url_for("staff.home"))
    form = SignInForm()
    next_path = _safe_next(request.args.get("next"))
    ended = bool(session.pop(ENDED_KEY, False)) if request.method == "GET" else False
    if form.validate_on_submit():
        ctx = service_context()
        email = form.email.data or ""
        key = accounts.account_key(ctx, email)
        client = client_key_for(key)
        user = accounts.authenticate(ctx, email, form.password.data or "", client)
        if user is None:
            db.session.commit()  # the failure counts
            page = render_template("staff/sign_in.html", form=form, failed=True, next=next_path)
            return page, 401
        if accounts.has_second_factor(user):
            db.session.commit()
            session.clear()
            session[PENDING_KEY] = {"user": user.id, "since": _now(), "next": next_path}
            return redirect(url_for("staff.sign_in_code"))
        return _finish_sign_in(user, key, client, next_path)
    status = 422 if request.method == "POST" else 200
    page = render_template(
        "staff/sign_in.html", form=form, failed=False, ended=ended, next=next_path
    )
    return (page, status) if status != 200 else page


@blueprint.route("/sign-in/code", methods=["GET", "POST"])
@sign_in_limit
def sign_in_code() -> str | Response | tuple[str, int]:
    pending = _pending()
    user = db.session.get(User, pending.get("user")) if pending else None
    if pending is None or user is None or not user.active:
        session.pop(PENDING_KEY, None)
        return redirect(url_for("staff.sign_in"))
    form = CodeForm()
    if form.validate_on_submit():
        ctx = service_context()
        key = accounts.account_key(ctx, user.email)
        client = client_key_for(key)
        if accounts.verify_second_factor(ctx, user, form.code.data or "", client) is None:
            db.session.commit()  # the failure counts
            return render_template("staff/sign_in_code.html", form=form, failed=True), 401
        return _finish_sign_in(user, key, client, _safe_next(pending.get("next")))
    status = 422 if request.method == "POST" else 200
    page = render_template("staff/sign_in_code.html", form=form, failed=False)
    return (page, status) if status != 200 else page


@blueprint.post("/sign-out")
def sign_out() -> Response:
    """Ends every session of the user, this one and any copy of its cookie."""
    user = current_staff()
    if user is not None:
        accounts.end_sessions(service_context(), user)
        db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("staff.sign_in"))


# -- the staff pages ------------------------------------------------------------------------


def _signed_in() -> User:
    user = current_staff()
    assert user is not None  # staff_required let the request in
    return user


@blueprint.get("")
@staff_required()
def home() -> str:
    user = _signed_in()
    return render_template("staff/home.html", user=user, role_name=ROLE_NAMES[user.role])


@blueprint.get("/account")
@staff_required()
def account() -> str:
    user = _signed_in()
    ctx = service_context()
    return render_template(
        "staff/account.html",
        user=user,
        role_name=ROLE_NAMES[user.role],
        enrolled=accounts.has_second_factor(user),
        required=accounts.needs_second_factor(user),
        unused_codes=accounts.unused_recovery_codes(ctx, user),
        form=CodeForm(),
    )


@blueprint.route("/account/password", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
@staff_required()
def change_password() -> str | Response | tuple[str, int]:
    user = _signed_in()
    form = PasswordForm()
    if form.validate_on_submit():
        if form.new.data != form.confirm.data:
            form.confirm.errors = [gettext("The two new passwords differ.")]
        else:
            try:
                accounts.change_password(
                    service_context(), user, form.current.data or "", form.new.data or ""
                )
            except accounts.PasswordRejected as refused:
                field = (
                    form.current
                    if refused.problem is accounts.PasswordProblem.WRONG_CURRENT
                    else form.new
                )
                field.errors = [str(PASSWORD_PROBLEMS[refused.problem])]
            else:
                db.session.commit()
                _start_session(user)  # every other session of the user has ended
                flash(gettext("Your password was changed."))
                return redirect(_after_sign_in(user, None))
    status = 422 if request.method == "POST" else 200
    page = render_template("staff/password.html", form=form, forced=user.must_change_password)
    return (page, status) if status != 200 else page


@blueprint.route("/account/second-factor", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
@staff_required()
def enrol() -> str | Response | tuple[str, int]:
    user = _signed_in()
    if accounts.has_second_factor(user):
        return redirect(url_for("staff.account"))
    ctx = service_context()
    pending = session.get(ENROLMENT_KEY)
    enrolment = accounts.begin_totp_enrolment(
        ctx, user, pending if isinstance(pending, bytes) else None
    )
    session[ENROLMENT_KEY] = enrolment.sealed
    form = EnrolForm()
    if form.validate_on_submit():
        codes = accounts.confirm_totp_enrolment(ctx, user, enrolment.sealed, form.code.data or "")
        if codes is not None:
            db.session.commit()
            session.pop(ENROLMENT_KEY, None)
            return render_template("staff/recovery_codes.html", codes=codes, first=True)
        form.code.errors = [gettext("This code is not right. Type the code your app shows now.")]
    status = 422 if request.method == "POST" else 200
    secret = " ".join(
        enrolment.secret_base32[i : i + 4] for i in range(0, len(enrolment.secret_base32), 4)
    )
    page = render_template(
        "staff/enrol.html",
        form=form,
        secret=secret,
        uri=enrolment.provisioning_uri,
        required=accounts.needs_second_factor(user),
    )
    return (page, status) if status != 200 else page


@blueprint.post("/account/recovery-codes")
@limiter.limit("20 per hour")
@staff_required()
def recovery_codes() -> str | Response | tuple[str, int]:
    """New recovery codes, for a user who proves they hold the authenticator now."""
    user = _signed_in()
    ctx = service_context()
    form = CodeForm()
    if not accounts.has_second_factor(user):
        return redirect(url_for("staff.enrol"))
    digits = accounts.normalise_totp_code(form.code.data or "") if form.validate() else None
    if digits is not None and accounts.verify_totp(ctx, user, digits):
        codes = accounts.new_recovery_codes(ctx, user)
        db.session.commit()
        return render_template("staff/recovery_codes.html", codes=codes, first=False)
    form.code.errors = [gettext("This code is not right. Type the code your app shows now.")]
    page = render_template(
        "staff/account.html",
        user=user,
        role_name=ROLE_NAMES[user.role],
        enrolled=True,
        required=accounts.needs_second_factor(user),
        unused_codes=accounts.unused_recovery_codes(ctx, user),
        form=form,
    )
    return page, 422
