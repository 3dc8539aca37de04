"""Complaints received another way (issue #5): a reviewer or a secretariat user records a
complaint that came by phone, by letter or in person, for the complainant, through the
filing service like every channel (`filing.file_case`, channel `phone`, `letter` or
`in_person`, `received_at` the day it arrived, the staff user as the actor: the case log's
`case_filed` event says `recorded_by_staff`).

Who records for which mechanism is the filing service's rule
(`filing.recording_mechanisms`): a secretariat user for the mechanisms they run, a
reviewer with a profile for every mechanism (the reviewers are one roster). The form
offers only those; the service refuses any other.

The form is the complaint form (`grievance.http.forms.ComplaintForm`) with what staff add:
the mechanism, how and when the complaint arrived, the complainant's language, and a
known site. Its questions speak to the complainant, so that they can be read out on a
call or answered from a letter. No files here (a letter's scans are for a later step).

The receipt code is shown once, in the response to the POST (never in a URL, never
stored); sending the same form again (a reload) records nothing twice and shows no code.
When the staff session ended while the form was open (a long call), what was typed
comes back on the page instead of being lost.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time
from typing import Any

from flask import Blueprint, render_template, request, session, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from wtforms import HiddenField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, ValidationError

from grievance.crypto.secrets import format_receipt_code
from grievance.extensions import db
from grievance.http.context import service_context
from grievance.http.forms import CHOOSE, ComplaintForm, choices
from grievance.http.i18n import language_name
from grievance.http.labels import describe
from grievance.http.paths import FOLLOW_UP, public_url
from grievance.models import Channel, Company, Mechanism, Role, Site, User
from grievance.models.company import company_mechanism
from grievance.services.actors import Actor
from grievance.services.errors import Code, InvalidInput, NotAllowed
from grievance.services.filing import Filing, file_case, recording_mechanisms
from grievance.web.auth import current_staff, forbidden, staff_required

blueprint = Blueprint("record", __name__, url_prefix="/staff/record-complaint")

RECORDERS = (Role.REVIEWER, Role.SECRETARIAT)

CHANNEL_CHOICES = [
    (Channel.PHONE.value, _l("By phone")),
    (Channel.LETTER.value, _l("By letter")),
    (Channel.IN_PERSON.value, _l("In person")),
]

#: What the filing service's refusal says here, where it says more than the code's message.
REFUSALS = {
    ("themes", Code.UNKNOWN): _l("The mechanism you chose does not use one of these themes."),
    ("site", Code.UNKNOWN): _l("This site is not known."),
}

#: The session key of the forms already recorded (their one-time submission ids).
RECORDED_KEY = "recorded_complaints"
RECORDED_KEPT = 20

#: The text fields that come back when the session ended while the form was open.
KEPT_FIELDS = (
    "statement",
    "location",
    "occurred",
    "companies",
    "represents",
    "name",
    "phone",
    "email",
)


class RecordForm(ComplaintForm):
    """The complaint form as staff fill it in for the complainant."""

    files = None  # no attachments here
    mechanism = RadioField(_l("Mechanism"), validators=[DataRequired(_l("Choose the mechanism."))])
    channel = RadioField(
        _l("How did the complaint arrive?"),
        choices=choices(CHANNEL_CHOICES),
        default=Channel.PHONE.value,
        validators=[DataRequired(CHOOSE)],
    )
    received_on = StringField(
        _l("The day it arrived"),
        description=_l(
            "Year, month and day, like 2026-03-02. The time limits count from the start of "
            "this day."
        ),
        validators=[InputRequired(_l("Give the day the complaint arrived."))],
    )
    language = SelectField(
        _l("The complainant's language"),
        description=_l("The language the reviewers will write to the complainant in."),
        validators=[DataRequired(_l("Choose the complainant's language."))],
    )
    site = SelectField(_l("A known site, if it is one"))
    #: One id per form shown: the same form sent twice records one complaint.
    submission = HiddenField()

    def __init__(
        self,
        *args: Any,
        languages: list[tuple[str, str]],
        sites: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.statement.description = _l(
            "The complainant's own words, in their language, as they said or wrote them."
        )
        self.language.choices = choices([("", _l("Choose the language")), *languages])
        self.site.choices = choices([("", _l("Not a known site")), *sites])
        if not self.submission.data:
            self.submission.data = secrets.token_urlsafe(16)

    def validate_received_on(self, field: StringField) -> None:
        try:
            date.fromisoformat((field.data or "").strip())
        except ValueError:
            raise ValidationError(_l("Give the day as year-month-day, like 2026-03-02.")) from None

    def received_day(self) -> date:
        return date.fromisoformat((self.received_on.data or "").strip())

    def known_site(self) -> int | None:
        """The site chosen: a phone number without its country code is from its country."""
        site = self.site.data or ""
        offered = {choice.value for choice in self.site.choices or []}
        return int(site) if site in offered and site.isdigit() else None


# -- what the form offers -------------------------------------------------------------------


def _form(mechanisms: list[Mechanism], **kwargs: Any) -> RecordForm:
    ctx = service_context()
    themes: dict[str, str] = {}
    languages: list[str] = []
    for mechanism in mechanisms:
        policy = ctx.policy(mechanism)
        for theme in policy.themes:
            # policy labels are extracted for translation by grievance.policies.extract
            themes.setdefault(theme.code, str(gettext(theme.label)))
        languages += [code for code in policy.languages if code not in languages]
    ids = [mechanism.id for mechanism in mechanisms]
    adhering = select(company_mechanism.c.company_id).where(
        company_mechanism.c.mechanism_id.in_(ids)
    )
    sites = db.session.execute(
        select(Site, Company.name)
        .join(Company, Company.id == Site.company_id)
        .where(Site.company_id.in_(adhering) | Company.buyers.any(Company.id.in_(adhering)))
        .order_by(Site.name)
    ).all()
    return RecordForm(
        mechanisms=[(m.code, f"{m.name} ({m.code})") for m in mechanisms],
        themes=list(themes.items()),
        languages=sorted(((code, language_name(code)) for code in languages), key=lambda c: c[1]),
        sites=[
            (str(site.id), f"{site.name} ({company}, {site.country})") for site, company in sites
        ],
        **kwargs,
    )


def _mechanisms(user: User) -> list[Mechanism]:
    return recording_mechanisms(service_context(), Actor.for_user(user))


def _page(form: RecordForm, *, expired: bool = False) -> str:
    return render_template("staff/record.html", form=form, expired=expired)


def _start_of(day: date, mechanism: Mechanism) -> datetime:
    """The first moment of `day` where the mechanism is (its calendar's time zone)."""
    zone = service_context().policy(mechanism).calendar.zone
    return datetime.combine(day, time(0, 0), tzinfo=zone)


def _recorded() -> dict[str, str]:
    found = session.get(RECORDED_KEY)
    return dict(found) if isinstance(found, dict) else {}


def _remember(submission: str, reference: str) -> None:
    recorded = _recorded()
    recorded[submission] = reference
    session[RECORDED_KEY] = dict(list(recorded.items())[-RECORDED_KEPT:])


# -- the views ----------------------------------------------------------------------------------


@blueprint.route("", methods=["GET", "POST"])
def record_complaint() -> str | tuple[str, int]:
    if request.method == "POST" and current_staff() is None:
        return _kept(), 401  # the session ended while the form was open
    return _record_complaint()


@staff_required(*RECORDERS)
def _record_complaint() -> str | tuple[str, int]:
    user = current_staff()
    assert user is not None
    mechanisms = _mechanisms(user)
    if not mechanisms:
        page = render_template("staff/record_none.html", role=user.role.value)
        return (page, 403) if request.method == "POST" else page
    ctx = service_context()
    today = ctx.now().astimezone(ctx.policy(mechanisms[0]).calendar.zone).date()
    form = _form(mechanisms, data={"received_on": today.isoformat()})
    if request.method != "POST":
        return _page(form)
    reference = _recorded().get(form.submission.data or "")
    if reference is not None:
        return render_template("staff/record_again.html", reference=reference), 409
    if not form.validate():
        return _page(form), 422
    mechanism = next(m for m in mechanisms if m.code == form.mechanism.data)
    received_at = _start_of(form.received_day(), mechanism)
    site = form.site.data or ""
    filing = Filing(
        mechanism=mechanism,
        channel=Channel(form.channel.data),
        language=form.language.data or "",
        site_id=int(site) if site.isdigit() else None,
        received_at=received_at,
        complainant=form.complainant_details(),
        **form.case_details(),
    )
    try:
        filed = file_case(ctx, filing, Actor.for_user(user))
    except NotAllowed:
        return forbidden()
    except InvalidInput as refused:
        form.show_refusal(refused, REFUSALS)
        return _page(form), 422
    db.session.commit()
    _remember(form.submission.data or "", filed.case.reference)
    policy = ctx.case_policy(filed.case)
    acknowledge = policy.time_limit_for("acknowledge")
    # Shown once, never stored, never in a URL: the page itself is not cached.
    return render_template(
        "staff/record_receipt.html",
        reference=filed.case.reference,
        receipt_code=format_receipt_code(filed.receipt_code),
        channel=filed.case.channel.value,
        mechanism=mechanism,
        acknowledge=describe(acknowledge, policy.calendar) if acknowledge else None,
        followup_url=public_url(FOLLOW_UP),
    )


def _kept() -> str:
    """What was typed, back on a page, when the form comes back without a staff session
    (it ended, or the browser lost its cookie): nothing is recorded, nothing is lost."""
    kept = [
        (name, request.form.get(name, "").strip())
        for name in KEPT_FIELDS
        if request.form.get(name, "").strip()
    ]
    return render_template(
        "staff/record_kept.html",
        # the labels of the form's (unbound) fields: no form is made without a session
        kept=[(str(getattr(RecordForm, name).args[0]), text) for name, text in kept],
        sign_in_url=url_for("staff.sign_in", next=url_for("record.record_complaint")),
    )


@blueprint.errorhandler(CSRFError)
def expired(_error: CSRFError) -> tuple[str, int]:
    """The form came back without a valid CSRF token: nothing is recorded, and what was
    typed comes back with a fresh token (signed in) or on a page to copy it from."""
    user = current_staff()
    if user is None or user.role not in RECORDERS:
        return _kept(), 400
    mechanisms = _mechanisms(user)
    if not mechanisms:
        return forbidden()[0], 400
    return _page(_form(mechanisms), expired=True), 400
