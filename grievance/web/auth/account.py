"""The staff home and the signed-in user's own account: the page, changing the password
(forced first for a temporary one), enrolling a second factor (forced next for the roles
that need one) and new recovery codes. On the `/staff` blueprint (`sign_in.py`)."""

from __future__ import annotations

import segno
from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from grievance.extensions import db
from grievance.extensions import staff_limiter as limiter
from grievance.http.context import service_context
from grievance.models import User
from grievance.services import accounts
from grievance.services.context import Context
from grievance.web.auth.forms import (
    PASSWORD_PROBLEMS,
    ROLE_NAMES,
    CodeForm,
    EnrolForm,
    PasswordForm,
)
from grievance.web.auth.session import after_sign_in, signed_in, staff_required, start_session
from grievance.web.auth.sign_in import blueprint

ENROLMENT_KEY = "staff_enrolment"


def _wait_for_next_code() -> str:
    return str(
        gettext(
            "This code was used already: each code works once. Wait for your app to show the "
            "next one (a new code comes every 30 seconds), then type that."
        )
    )


def _qr_code(uri: str) -> Markup:
    """The provisioning link as a QR code, inline SVG (no image request, nothing
    third-party), named for screen readers."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, light="#fff", omitsize=True)
    label = escape(gettext("QR code: scan it with your authenticator app"))
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1))  # noqa: S704 - segno's own markup


@blueprint.get("")
@staff_required()
def home() -> str:
    user = signed_in()
    return render_template("staff/home.html", user=user, role_name=ROLE_NAMES[user.role])


def _account_page(ctx: Context, user: User, form: CodeForm) -> str:
    return render_template(
        "staff/account.html",
        user=user,
        role_name=ROLE_NAMES[user.role],
        enrolled=accounts.has_second_factor(user),
        required=accounts.needs_second_factor(user),
        unused_codes=accounts.unused_recovery_codes(ctx, user),
        form=form,
    )


@blueprint.get("/account")
@staff_required()
def account() -> str:
    return _account_page(service_context(), signed_in(), CodeForm())


@blueprint.route("/account/password", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
@staff_required()
def change_password() -> str | Response | tuple[str, int]:
    user = signed_in()
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
                start_session(user)  # every other session of the user has ended
                flash(gettext("Your password was changed."))
                return redirect(after_sign_in(user, None))
    status = 422 if request.method == "POST" else 200
    page = render_template("staff/password.html", form=form, forced=user.must_change_password)
    return (page, status) if status != 200 else page


@blueprint.route("/account/second-factor", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
@staff_required()
def enrol() -> str | Response | tuple[str, int]:
    user = signed_in()
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
        qr_code=_qr_code(enrolment.provisioning_uri),
    )
    return (page, status) if status != 200 else page


@blueprint.post("/account/recovery-codes")
@limiter.limit("20 per hour")
@staff_required()
def recovery_codes() -> str | Response | tuple[str, int]:
    """New recovery codes, for a user who proves they hold the authenticator now."""
    user = signed_in()
    ctx = service_context()
    form = CodeForm()
    if not accounts.has_second_factor(user):
        return redirect(url_for("staff.enrol"))
    digits = accounts.normalise_totp_code(form.code.data or "") if form.validate() else None
    if digits is not None and accounts.verify_totp(ctx, user, digits):
        codes = accounts.new_recovery_codes(ctx, user)
        db.session.commit()
        return render_template("staff/recovery_codes.html", codes=codes, first=False)
    if digits is not None and accounts.totp_code_reused(ctx, user, digits):
        form.code.errors = [_wait_for_next_code()]
    else:
        form.code.errors = [gettext("This code is not right. Type the code your app shows now.")]
    return _account_page(ctx, user, form), 422
