"""The `/staff` blueprint and its way in and out: e-mail and password, then a TOTP code
or a recovery code (for those who have a second factor); sign-out, which ends every
session of the user.

Throttling (see `grievance.services.accounts`) counts per account and kind of client
(`devices.py`); every failure and every lock shows one message. Every POST of these pages
also counts against limits per account, per device and per address (`limits.py`); every
browser gets its device cookie from these pages.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import logout_user
from werkzeug.wrappers import Response

from grievance.extensions import db
from grievance.http.context import service_context
from grievance.models import User
from grievance.services import accounts
from grievance.web.auth.devices import client_key_for, give_device, remember_device
from grievance.web.auth.forms import CodeForm, SignInForm
from grievance.web.auth.limits import PENDING_KEY, sign_in_limits
from grievance.web.auth.session import (
    ENDED_KEY,
    after_sign_in,
    current_staff,
    micros,
    now_micros,
    safe_next,
    start_session,
)

blueprint = Blueprint("staff", __name__, url_prefix="/staff")

#: Between the password and the code.
PENDING_LIMIT = timedelta(minutes=5)
#: The pages that give a browser its device cookie (the cookie's path is theirs).
SIGN_IN_PAGES = ("staff.sign_in", "staff.sign_in_code")


@blueprint.after_request
def _device_cookie(response: Response) -> Response:
    if request.endpoint in SIGN_IN_PAGES:
        give_device(response)
    return response


def _pending() -> dict[str, Any] | None:
    state = session.get(PENDING_KEY)
    if not isinstance(state, dict) or not isinstance(state.get("since"), int):
        return None
    if now_micros() - state["since"] > micros(PENDING_LIMIT):
        session.pop(PENDING_KEY, None)
        return None
    return state


def _finish_sign_in(
    user: User, account_key: str, client_key: str, next_path: str | None
) -> Response:
    accounts.complete_sign_in(service_context(), user, client_key)
    db.session.commit()
    start_session(user)
    response = redirect(after_sign_in(user, next_path))
    remember_device(response, account_key)
    return response


@blueprint.route("/sign-in", methods=["GET", "POST"])
@sign_in_limits
def sign_in() -> str | Response | tuple[str, int]:
    if current_staff() is not None:
        return redirect(url_for("staff.home"))
    form = SignInForm()
    next_path = safe_next(request.args.get("next"))
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
            session[PENDING_KEY] = {"user": user.id, "since": now_micros(), "next": next_path}
            return redirect(url_for("staff.sign_in_code"))
        return _finish_sign_in(user, key, client, next_path)
    status = 422 if request.method == "POST" else 200
    page = render_template(
        "staff/sign_in.html", form=form, failed=False, ended=ended, next=next_path
    )
    return (page, status) if status != 200 else page


@blueprint.route("/sign-in/code", methods=["GET", "POST"])
@sign_in_limits
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
        code = form.code.data or ""
        if accounts.verify_second_factor(ctx, user, code, client) is None:
            # a locked pair is told nothing more than any failure
            unlocked = accounts.locked_until(ctx, key, client) is None
            reused = unlocked and accounts.totp_code_reused(ctx, user, code)
            db.session.commit()  # the failure counts
            page = render_template("staff/sign_in_code.html", form=form, failed=True, reused=reused)
            return page, 401
        return _finish_sign_in(user, key, client, safe_next(pending.get("next")))
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
