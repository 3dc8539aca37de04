"""Partner applications of the JSON API, for administrators (issue #12, item 9): the list
of clients, a new client (its key shown once, in the response to the form, never again),
each client's audit trail, and revoking a key after a confirmation. A channel only:
`grievance.services.api_clients` checks who may, keeps the key hashed and writes the
`grievance.audit` log.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from grievance.extensions import db
from grievance.http import refusals
from grievance.http.context import service_context
from grievance.http.forms import TOO_LONG, TranslatedForm
from grievance.models import ApiClient, ApiUseOutcome, Role, User
from grievance.models.api_client import MAX_PER_DAY, MAX_PER_HOUR
from grievance.services import api_clients
from grievance.services.actors import Actor
from grievance.services.errors import Code, InvalidInput
from grievance.web.auth import current_staff, staff_required

blueprint = Blueprint("api_clients", __name__, url_prefix="/staff/admin/api-clients")

OUTCOME_NAMES = {
    ApiUseOutcome.ACCEPTED: _l("Accepted"),
    ApiUseOutcome.REFUSED: _l("Refused (invalid request)"),
    ApiUseOutcome.RATE_LIMITED: _l("Over its limits"),
    ApiUseOutcome.REVOKED_KEY: _l("Revoked key"),
    ApiUseOutcome.WRONG_KEY: _l("Wrong key"),
    ApiUseOutcome.FAILED: _l("Something went wrong on our side"),
}
#: What the service's refusal says here, where it says more than the code's message.
REFUSALS = {
    ("name", Code.REQUIRED): _l("Give the application's name."),
    ("organisation", Code.REQUIRED): _l("Give the organisation that runs it."),
}
WHOLE_NUMBER = _l("Give a whole number from %(min)d to %(max)d.")


class ApiClientForm(TranslatedForm):
    name = StringField(
        _l("Application"),
        description=_l("What the partner's application is called, e.g. Worker Voice app."),
        validators=[
            InputRequired(_l("Give the application's name.")),
            Length(max=api_clients.NAME_MAX, message=TOO_LONG),
        ],
    )
    organisation = StringField(
        _l("Organisation"),
        description=_l("Who runs it: the NGO, union or company."),
        validators=[
            InputRequired(_l("Give the organisation that runs it.")),
            Length(max=api_clients.ORGANISATION_MAX, message=TOO_LONG),
        ],
    )
    complaints_per_hour = StringField(
        _l("Complaints an hour, at most"),
        default=str(api_clients.DEFAULT_PER_HOUR),
        validators=[InputRequired(_l("Give a whole number."))],
    )
    complaints_per_day = StringField(
        _l("Complaints a day, at most"),
        default=str(api_clients.DEFAULT_PER_DAY),
        validators=[InputRequired(_l("Give a whole number."))],
    )


def _admin() -> User:
    user = current_staff()
    assert user is not None
    assert user.role is Role.ADMIN
    return user


def _client_or_404(client_id: int) -> ApiClient:
    client = db.session.get(ApiClient, client_id)
    if client is None:
        abort(404)
    return client


def _number(text: str | None) -> int | None:
    """A whole number typed in ASCII digits, or None (then the form says so); the
    service checks its range."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        return None
    return int(text)


@blueprint.get("")
@staff_required(Role.ADMIN)
def clients() -> str:
    rows = db.session.scalars(
        select(ApiClient).order_by(ApiClient.revoked_at.is_not(None), ApiClient.name, ApiClient.id)
    ).all()
    return render_template("staff/api_clients.html", clients=rows)


@blueprint.route("/new", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def new_client() -> str | tuple[str, int]:
    form = ApiClientForm()
    if form.validate_on_submit():
        per_hour = _number(form.complaints_per_hour.data)
        per_day = _number(form.complaints_per_day.data)
        if per_hour is None:
            form.complaints_per_hour.errors = [str(WHOLE_NUMBER % {"min": 1, "max": MAX_PER_HOUR})]
        if per_day is None:
            form.complaints_per_day.errors = [str(WHOLE_NUMBER % {"min": 1, "max": MAX_PER_DAY})]
        if per_hour is not None and per_day is not None:
            try:
                created = api_clients.create_client(
                    service_context(),
                    Actor.for_user(_admin()),
                    name=form.name.data or "",
                    organisation=form.organisation.data or "",
                    complaints_per_hour=per_hour,
                    complaints_per_day=per_day,
                )
            except InvalidInput as refused:
                for name in refused.errors:
                    getattr(form, name).errors = [refusals.message(refused, name, REFUSALS)]
            else:
                db.session.commit()
                # The key, this once: in the response to the form, never in a URL.
                return render_template(
                    "staff/api_client_key.html", client=created.client, key=created.key
                )
    page = render_template("staff/api_client_new.html", form=form)
    return (page, 422) if request.method == "POST" else page


@blueprint.get("/<int:client_id>")
@staff_required(Role.ADMIN)
def client(client_id: int) -> str:
    found = _client_or_404(client_id)
    uses = api_clients.recent_uses(service_context(), Actor.for_user(_admin()), found)
    return render_template(
        "staff/api_client.html", client=found, uses=uses, outcome_names=OUTCOME_NAMES
    )


@blueprint.route("/<int:client_id>/revoke", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def revoke(client_id: int) -> str | Response:
    """GET asks for the confirmation; the POST of its form revokes the key."""
    found = _client_or_404(client_id)
    if request.method == "POST":
        if api_clients.revoke_client(service_context(), Actor.for_user(_admin()), found):
            db.session.commit()
            flash(
                gettext(
                    "The key of %(name)s is revoked: it opens nothing any more.", name=found.name
                )
            )
        return redirect(url_for("api_clients.client", client_id=found.id))
    return render_template("staff/api_client_revoke.html", client=found)
