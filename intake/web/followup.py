"""Follow-up with the receipt code: the case's stage and time limits, what the parties
may see of its log, and the conversation with the reviewers. The code is asked once per
session; failed attempts are limited per (hashed) client.

The session is kept on the server (`services.followup_sessions`): the intake cookie
holds only its random token, never the complainant's id; it ends after 30 minutes of
silence, two hours after signing in, and at sign-out, for every copy of the cookie.

A message being written is not lost when the session ends under it (30 minutes of
silence, the browser dropping its cookie and so the form's CSRF token): the person signs
in again, with the text carried along in the sign-in form, and finds it back in the box,
unsent, to check and send. Files cannot be carried: they are not read then."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response
from wtforms import MultipleFileField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from grievance.extensions import db
from grievance.extensions import intake_limiter as limiter
from grievance.http import refusals, uploads
from grievance.http.context import service_context
from grievance.http.csrf import typed_text_may_come_back
from grievance.http.errors import http_error
from grievance.http.forms import CHOOSE, FILES_HINT, TOO_LONG, TranslatedForm, choices
from grievance.http.labels import STAGE_NAMES, limit_label
from grievance.http.limits import receipt_code_everyone, receipt_code_per_client
from grievance.http.paths import FOLLOW_UP
from grievance.models import (
    Attachment,
    Case,
    Channel,
    Complainant,
)
from grievance.services import attachments, followup_sessions, remedy, satisfaction
from grievance.services.actors import Actor
from grievance.services.casereads import complainant_view
from grievance.services.errors import Code, InvalidInput
from grievance.services.filing import find_complainant
from grievance.services.messages import MESSAGE_MAX, add_message
from grievance.services.texts import normalise, text_problem
from intake.web import own_words

blueprint = Blueprint("followup", __name__, url_prefix=FOLLOW_UP)

#: The intake session's key of the follow-up session's token.
SESSION_KEY = "followup"
#: The sign-in form's hidden field that carries an unsent message (the message box's name).
UNSENT_FIELD = "body"

UNKNOWN_CODE = _l("We do not know this code. Check the digits and try again.")


class CodeForm(TranslatedForm):
    # the label and any error ("We do not know this code ...") are written in the template
    code = StringField(
        "code", validators=[DataRequired(UNKNOWN_CODE), Length(max=64, message=UNKNOWN_CODE)]
    )


SATISFACTION_CHOICES = [
    ("yes", _l("Yes, it was put right")),
    ("partly", _l("Partly")),
    ("no", _l("No")),
]


class SatisfactionForm(TranslatedForm):
    response = RadioField(
        _l("Was the harm put right?"),
        description=_l("Your answer helps us check that remedy really happened."),
        choices=choices(SATISFACTION_CHOICES),
        validators=[DataRequired(CHOOSE)],
    )


class MessageForm(TranslatedForm):
    # the body's label is written, translated, in the template
    body = TextAreaField("body", validators=[Optional(), Length(max=MESSAGE_MAX, message=TOO_LONG)])
    files = MultipleFileField(
        _l("Add photos, documents or voice recordings"), description=FILES_HINT
    )


def _token() -> str | None:
    token = session.get(SESSION_KEY)
    return token if isinstance(token, str) and 0 < len(token) <= 100 else None


def _signed_in() -> Complainant | None:
    """The complainant of this browser's running follow-up session, kept alive."""
    token = _token()
    if token is None:
        return None
    complainant = followup_sessions.resume_session(service_context(), token)
    db.session.commit()  # the session was used now
    if complainant is None:
        session.pop(SESSION_KEY, None)
    return complainant


def _end_session() -> None:
    token = _token()
    if token is not None:
        followup_sessions.end_session(service_context(), token)


def _unsent() -> str:
    """A message that was typed but not sent, carried by the form that came back."""
    if request.method != "POST":
        return ""
    text = request.form.get(UNSENT_FIELD, "")
    return text if text.strip() else ""


def _sign_in_page(
    form: CodeForm, *, failed: bool = False, unsent: str = "", expired: bool = False
) -> str:
    return render_template(
        "intake/followup_sign_in.html", form=form, failed=failed, unsent=unsent, expired=expired
    )


@blueprint.route("", methods=["GET", "POST"])
@receipt_code_per_client
@receipt_code_everyone
def sign_in() -> str | Response | tuple[str, int]:
    form = CodeForm()
    failed = False
    unsent = _unsent()
    if request.method == "POST" and form.validate():
        found = find_complainant(service_context(), form.code.data or "")
        if found is not None:
            _end_session()  # this browser's earlier one, if any
            session.clear()  # a fresh session for the person who knows the code
            session[SESSION_KEY] = followup_sessions.start_session(service_context(), found)
            db.session.commit()
            if not unsent:
                return redirect(url_for("followup.case"))
            # The message written before the session ended, back in its box, unsent. The
            # CSRF token of the session just cleared goes too (it is kept for the request).
            g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
            return _case_page(found, MessageForm(), uploads.Uploads(), unsent=True)
        failed = True
    page = _sign_in_page(form, failed=failed, unsent=unsent)
    return (page, 401) if failed else page


@blueprint.post("/sign-out")
def sign_out() -> Response:
    """Ends the session: its cookie, and any copy of it, opens nothing any more."""
    _end_session()
    db.session.commit()
    session.clear()
    return redirect(url_for("followup.sign_in"))


@blueprint.route("/case", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])  # files are heavy; people write less
def case() -> str | Response | tuple[str, int]:
    complainant = _signed_in()
    if complainant is None:
        unsent = _unsent()
        if unsent:  # the session ended while the person was writing
            return _sign_in_page(CodeForm(), unsent=unsent), 401
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
        body = form.body.data or ""
        # Nothing visible is no message; a control character is the service's to refuse.
        written = bool(normalise(body)) or text_problem(body) is not None
        if not written and not files.files:
            form.body.errors = [gettext("Write a message or add a file.")]
        else:
            try:
                message = add_message(ctx, the_case, actor, body, Channel.WEB) if written else None
            except InvalidInput as refused:
                # The form counts what was typed, the service what is kept: NFC may write
                # a character as two (10,000 x U+0958 are 20,000 code points once kept).
                code = refused.errors["body"]
                if code is Code.REQUIRED:
                    form.body.errors = [gettext("Write a message or add a file.")]
                else:
                    refusals.show_back(form.body, code)
                    form.body.errors = [refusals.message(refused, "body")]
            else:
                attachments.attach(ctx, the_case, actor, files.clean_files, message)
                attachments.release(ctx, files.tokens)
                db.session.commit()
                return redirect(url_for("followup.case") + "#messages")
    if request.method == "POST":
        db.session.commit()  # keeps the files held for the form's next try
        return _case_page(complainant, form, files), 422
    return _case_page(complainant, form, files)


@blueprint.post("/satisfaction")
@limiter.limit("30 per hour")
def satisfaction_answer() -> str | Response | tuple[str, int]:
    """The answer to the satisfaction check, while the case's check is open."""
    complainant = _signed_in()
    if complainant is None:
        return redirect(url_for("followup.sign_in"))
    ctx = service_context()
    the_case = db.session.get_one(Case, complainant.case_id)
    if satisfaction.open_check(ctx, the_case) is None:
        abort(404)
    answer = SatisfactionForm()
    if not answer.validate():
        return _case_page(complainant, MessageForm(), uploads.Uploads(), answer=answer), 422
    response = remedy.Satisfaction(answer.response.data)
    remedy.record_satisfaction(ctx, the_case, Actor.for_complainant(complainant), response)
    db.session.commit()
    return redirect(url_for("followup.case") + "#remedy")


def _case_page(
    complainant: Complainant,
    form: MessageForm,
    files: uploads.Uploads,
    *,
    unsent: bool = False,
    answer: SatisfactionForm | None = None,
) -> str:
    ctx = service_context()
    the_case = db.session.get_one(Case, complainant.case_id)
    view = complainant_view(ctx, the_case, complainant)
    return render_template(
        "intake/followup_case.html",
        view=view,
        stage=STAGE_NAMES[view.stage],
        limits=[(limit_label(limit), limit.due_at, limit.paused) for limit in view.time_limits],
        timeline=own_words.timeline(view),
        size_label=uploads.size_label,
        files=files,
        accept=uploads.ACCEPT,
        form=form,
        unsent=unsent,
        answer=answer or (SatisfactionForm() if view.satisfaction_open else None),
        told=own_words.answers(view, ctx.case_policy(the_case)),
    )


@blueprint.errorhandler(CSRFError)
def expired(error: CSRFError) -> Response | tuple[str, int]:
    """A form came back without a valid CSRF token (the cookie was gone, or belonged to
    another sign-in): nothing is done, and what was written is not lost. A missing or
    forged token shows nothing from the request (`grievance.http.csrf`)."""
    if not typed_text_may_come_back():
        return http_error(error)
    if request.endpoint == "followup.case":
        complainant = _signed_in()
        if complainant is not None:
            return _case_page(complainant, MessageForm(), uploads.Uploads(), unsent=True), 400
    if request.endpoint in ("followup.case", "followup.sign_in"):
        return _sign_in_page(CodeForm(), unsent=_unsent(), expired=True), 400
    return http_error(error)  # signing out: the general page


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
        or attachment.obligation_id is not None  # a company's evidence (#13)
    ):
        abort(404)  # not theirs, or erased
    ctx = service_context()
    file = attachments.read_attachment(ctx, Actor.for_complainant(complainant), attachment)
    response = Response(file.data, mimetype=file.content_type)
    response.headers.set("Content-Disposition", "attachment", filename=file.filename)
    # Never rendered as a page of this site, whatever it contains.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
