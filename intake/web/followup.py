"""Follow-up with the receipt code: the case's stage and time limits, what the parties
may see of its log, and the conversation with the reviewers. The code is asked once per
browser session; failed attempts are limited per (hashed) client."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import MultipleFileField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from grievance import service_context
from grievance.extensions import db, limiter
from grievance.models import (
    Attachment,
    Case,
    CaseEvent,
    Channel,
    Complainant,
    Direction,
    Message,
    Visibility,
)
from grievance.services import attachments, deadlines
from grievance.services.actors import Actor
from grievance.services.caselog import visible_payload
from grievance.services.filing import find_complainant
from grievance.services.messages import MESSAGE_MAX, add_message, read_message
from grievance.web.labels import STAGE_NAMES, describe_event
from intake.web import uploads
from intake.web.forms import FILES_HINT

blueprint = Blueprint("followup", __name__, url_prefix="/follow-up")

SESSION_KEY = "complainant"
#: A follow-up session ends after this much silence.
IDLE_SECONDS = 30 * 60


class CodeForm(FlaskForm):
    # labels are written, translated, in the template
    code = StringField("code", validators=[DataRequired(), Length(max=64)])


class MessageForm(FlaskForm):
    # the body's label is written, translated, in the template
    body = TextAreaField("body", validators=[Optional(), Length(max=MESSAGE_MAX)])
    files = MultipleFileField(
        _l("Add photos, documents or voice recordings"), description=FILES_HINT
    )


def _signed_in() -> Complainant | None:
    state = session.get(SESSION_KEY)
    if not isinstance(state, dict):
        return None
    now = service_context().now().timestamp()
    if now - float(state.get("seen", 0)) > IDLE_SECONDS:
        session.clear()
        return None
    state["seen"] = now
    session.modified = True
    return db.session.get(Complainant, state.get("id"))


@blueprint.route("", methods=["GET", "POST"])
@limiter.limit("10 per 15 minutes; 40 per day", methods=["POST"])
def sign_in() -> str | Response | tuple[str, int]:
    form = CodeForm()
    failed = False
    if request.method == "POST" and form.validate():
        found = find_complainant(service_context(), form.code.data or "")
        if found is not None:
            session.clear()  # a fresh session for the person who knows the code
            session[SESSION_KEY] = {"id": found.id, "seen": service_context().now().timestamp()}
            return redirect(url_for("followup.case"))
        failed = True
    page = render_template("intake/followup_sign_in.html", form=form, failed=failed)
    return (page, 401) if failed else page


@blueprint.post("/sign-out")
def sign_out() -> Response:
    session.clear()
    return redirect(url_for("followup.sign_in"))


@blueprint.route("/case", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])  # files are heavy; people write less
def case() -> str | Response | tuple[str, int]:
    complainant = _signed_in()
    if complainant is None:
        return redirect(url_for("followup.sign_in"))
    ctx = service_context()
    the_case = db.session.get_one(Case, complainant.case_id)
    form = MessageForm()
    files = uploads.collect(ctx) if request.method == "POST" else uploads.Uploads()
    valid = request.method == "POST" and form.validate()
    if files.errors:
        form.files.errors = [*form.files.errors, *files.errors]
        valid = False
    if valid:
        actor = Actor.for_complainant(complainant)
        if not (form.body.data or "").strip() and not files.files:
            form.body.errors = [gettext("Write a message or add a file.")]
        else:
            message = None
            if (form.body.data or "").strip():
                message = add_message(ctx, the_case, actor, form.body.data or "", Channel.WEB)
            attachments.attach(ctx, the_case, actor, files.clean_files, message)
            attachments.release(ctx, files.tokens)
            db.session.commit()
            return redirect(url_for("followup.case") + "#messages")
    if request.method == "POST":
        db.session.commit()  # keeps the files held for the form's next try
    policy = ctx.case_policy(the_case)
    open_limits = []
    for deadline in deadlines.open_deadlines(ctx.session, the_case):
        limit = policy.time_limit_for(deadline.code)
        label = gettext(limit.label) if limit else gettext("Remedy action")
        open_limits.append((label, deadline.due_at, deadline.paused_at is not None))
    events = db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == the_case.id).order_by(CaseEvent.seq)
    )
    timeline: list[tuple[datetime, str]] = []
    for event in events:
        payload = visible_payload(event, Visibility.PARTIES)
        if payload is not None:
            timeline.append((event.created_at, describe_event(event, payload)))
    erased = the_case.identities_erased_at is not None  # retention: the key is gone
    conversation = [
        (m.created_at, m.direction is Direction.FROM_COMPLAINANT, read_message(ctx, m))
        for m in db.session.scalars(
            select(Message).where(Message.case_id == the_case.id).order_by(Message.id)
        )
        if not erased
    ]
    case_files = [
        (a.id, attachments.filename_of(ctx, a), uploads.size_label(a.size), a.created_at)
        for a in attachments.attachments_of(ctx, the_case)
        if not erased
    ]
    status = 422 if request.method == "POST" else 200
    page = render_template(
        "intake/followup_case.html",
        case=the_case,
        stage=STAGE_NAMES[the_case.stage],
        waiting=the_case.clock_paused_at is not None,
        limits=open_limits,
        timeline=timeline,
        conversation=conversation,
        case_files=case_files,
        erased=erased,
        files=files,
        accept=uploads.ACCEPT,
        form=form,
    )
    return (page, status) if status != 200 else page


@blueprint.get("/files/<int:attachment_id>")
def download(attachment_id: int) -> Response:
    """One of the case's files, for the complainant signed in to that case only."""
    complainant = _signed_in()
    if complainant is None:
        return redirect(url_for("followup.sign_in"))
    attachment = db.session.get(Attachment, attachment_id)
    if (
        attachment is None
        or attachment.case_id != complainant.case_id
        or not attachment.content_enc
    ):
        abort(404)  # not theirs, or erased
    ctx = service_context()
    file = attachments.read_attachment(ctx, Actor.for_complainant(complainant), attachment)
    response = Response(file.data, mimetype=file.content_type)
    response.headers.set("Content-Disposition", "attachment", filename=file.filename)
    # Never rendered as a page of this site, whatever it contains.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
