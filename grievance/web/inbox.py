"""The staff inbox (`/staff/inbox`): every staff user's notifications, newest first in
keyset pages, marked read one by one or all at once, each followed to its case; the
unread count on every staff page; and the e-mail choices (`/staff/account/notifications`).

Thin over `services.notifications`: a user reaches only their own notifications (any
other id is a 404, whether it exists or not), and a case's reference shows only while
they still have a part in it. Following a notification marks it read and goes to the
case's page for the user's role (a reviewer's case page, the secretariat's deadlines of
the mechanism), or back to the inbox when their role has no page for it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response
from wtforms import HiddenField, RadioField, SelectField
from wtforms.validators import InputRequired

from grievance.extensions import db
from grievance.http.context import service_context
from grievance.http.forms import CHOOSE, TranslatedForm, choices
from grievance.http.i18n import language_name
from grievance.http.notices import ALWAYS_AT_ONCE, MODE_NAMES, NOTICE_TEXTS
from grievance.models import Case, EmailMode, Mechanism, Role, StaffNotification, User
from grievance.policies import default_policy
from grievance.services import notifications
from grievance.services.actors import Actor, acts_on_case
from grievance.web.auth import current_staff, staff_required

blueprint = Blueprint("inbox", __name__, url_prefix="/staff")


class MarkAllForm(TranslatedForm):
    #: The newest notification the page showed: what came since stays unread.
    up_to = HiddenField(validators=[InputRequired(CHOOSE)])


class MarkOneForm(TranslatedForm):
    pass


class PreferencesForm(TranslatedForm):
    mode = RadioField(
        _l("When should we e-mail you about your notifications?"),
        choices=choices([(mode.value, label) for mode, label in MODE_NAMES.items()]),
        validators=[InputRequired(CHOOSE)],
    )
    language = SelectField(
        _l("Language of the e-mails"), validators=[InputRequired(_l("Choose a language."))]
    )


def _user() -> User:
    user = current_staff()
    assert user is not None  # staff_required let the request in
    return user


@blueprint.app_context_processor
def _unread() -> dict[str, Any]:
    """`unread_notifications()` for the staff layout: counted only when a page asks."""

    def unread_notifications() -> int:
        user = current_staff()
        return notifications.unread_count(service_context(), user.id) if user else 0

    return {"unread_notifications": unread_notifications, "unread_cap": notifications.UNREAD_CAP}


def _before() -> int | None:
    """The keyset: the id to continue below. Anything but digits is a 400."""
    value = request.args.get("before")
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        abort(400)
    return int(value)


def _time_limit_name(row: notifications.InboxRow, policies: dict[int, Any]) -> str | None:
    if row.deadline_code is None or row.reference is None or row.mechanism_id is None:
        return None
    policy = policies.get(row.mechanism_id)
    limit = policy.time_limit_for(row.deadline_code) if policy else None
    return str(gettext(limit.label)) if limit else str(gettext("Remedy action"))


@blueprint.get("/inbox")
@staff_required()
def inbox() -> str:
    user = _user()
    ctx = service_context()
    unread_only = request.args.get("unread") == "1"
    before = _before()
    page = notifications.inbox(ctx, user, before=before, unread_only=unread_only)
    policies: dict[int, Any] = {}
    for mechanism_id in {row.mechanism_id for row in page.rows if row.mechanism_id}:
        mechanism = db.session.get(Mechanism, mechanism_id)
        if mechanism is not None:
            policies[mechanism_id] = ctx.policy(mechanism)
    kept: dict[str, Any] = {"unread": "1"} if unread_only else {}
    return render_template(
        "staff/inbox.html",
        rows=page.rows,
        texts=NOTICE_TEXTS,
        limits={row.id: _time_limit_name(row, policies) for row in page.rows},
        unread_only=unread_only,
        next_url=url_for("inbox.inbox", before=page.next_before, **kept)
        if page.next_before
        else None,
        first_url=url_for("inbox.inbox", **kept) if before is not None else None,
        newest=page.rows[0].id if page.rows and before is None else None,
        mark_all=MarkAllForm(),
        mark_one=MarkOneForm(),
    )


@blueprint.get("/inbox/<int:notification_id>")
@staff_required()
def follow(notification_id: int) -> Response:
    """Marks it read and goes where it leads (the links of the e-mails come here)."""
    user = _user()
    ctx = service_context()
    notification = notifications.mark_read(ctx, user, notification_id)
    if notification is None:
        abort(404)
    db.session.commit()
    return redirect(_target(user, notification), code=303)


def _target(user: User, notification: StaffNotification) -> str:
    if notification.kind in notifications.SECURITY_KINDS:
        return url_for("staff.account")
    case = db.session.get(Case, notification.case_id) if notification.case_id else None
    if case is None:
        return url_for("inbox.inbox")
    if not acts_on_case(service_context().session, Actor.for_user(user), case):
        flash(gettext("You no longer have a part in this case."))
        return url_for("inbox.inbox")
    if user.role is Role.REVIEWER:
        return url_for("reviewer.case", reference=case.reference)
    if user.role is Role.SECRETARIAT:
        return url_for("secretariat.case", reference=case.reference)
    if user.role is Role.COMPANY:
        return url_for("company.case", reference=case.reference)
    return url_for("inbox.inbox")


@blueprint.post("/inbox/<int:notification_id>/read")
@staff_required()
def mark_read(notification_id: int) -> Response:
    user = _user()
    if not MarkOneForm().validate_on_submit():
        abort(400)
    if notifications.mark_read(service_context(), user, notification_id) is None:
        abort(404)
    db.session.commit()
    return redirect(url_for("inbox.inbox", **_kept()), code=303)


def _kept() -> dict[str, Any]:
    return {"unread": "1"} if request.args.get("unread") == "1" else {}


@blueprint.post("/inbox/read")
@staff_required()
def mark_all_read() -> Response:
    user = _user()
    form = MarkAllForm()
    up_to = form.up_to.data or ""
    if not form.validate_on_submit() or not (up_to.isascii() and up_to.isdigit()):
        flash(gettext("Nothing was marked as read: load the inbox again and try once more."))
        return redirect(url_for("inbox.inbox"), code=303)
    notifications.mark_all_read(service_context(), user, int(up_to[:18]))
    db.session.commit()
    flash(gettext("Everything you were shown is marked as read."))
    return redirect(url_for("inbox.inbox"), code=303)


@blueprint.route("/account/notifications", methods=["GET", "POST"])
@staff_required()
def preferences() -> str | Response | tuple[str, int]:
    user = _user()
    form = PreferencesForm()
    codes = [language.code for language in default_policy().language]
    form.language.choices = choices([(code, language_name(code)) for code in codes])
    if request.method == "GET":
        form.mode.data = user.email_mode.value
        form.language.data = user.language
    elif form.validate_on_submit():
        notifications.set_preferences(
            service_context(), user, EmailMode(form.mode.data), form.language.data or ""
        )
        db.session.commit()
        flash(gettext("Your choices were saved."))
        return redirect(url_for("staff.account"), code=303)
    page = render_template(
        "staff/notification_settings.html",
        form=form,
        always=ALWAYS_AT_ONCE,
        address=user.email,
    )
    return (page, 422) if request.method == "POST" else page
