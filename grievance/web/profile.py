"""Reviewers' profiles (issue #5): the signed-in reviewer keeps their own at
`/staff/profile` (languages, themes, countries, capacity, availability, conflicts of
interest); an administrator sees and changes any reviewer's at
`/staff/admin/users/<id>/profile`. Everyone else gets 403.

A channel only: `grievance.services.reviewers` decides who may change what, routes the
cases a change concerns and writes the audit log.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from grievance.extensions import db
from grievance.http import refusals
from grievance.http.context import service_context
from grievance.http.fields import CheckboxList
from grievance.http.forms import CHOOSE, TOO_LONG, TranslatedForm, choices, country_choices
from grievance.http.i18n import language_name
from grievance.models import Company, Conflict, Role, Site, User
from grievance.services import reviewers
from grievance.services.actors import Actor
from grievance.services.errors import Code, InvalidInput, NotAllowed, ReasonRequired
from grievance.web.auth import current_staff, forbidden, staff_required

blueprint = Blueprint("profile", __name__, url_prefix="/staff/profile")
#: The administrators' view of a reviewer's profile, beside their other account pages.
admin_blueprint = Blueprint("admin_profile", __name__, url_prefix="/staff/admin/users")

AVAILABILITY = [
    ("yes", _l("Available: routing may give new cases")),
    ("no", _l("Not available for new cases for now (current cases stay)")),
]

#: What the reviewers service's refusal says here, where it says more than the code's message.
REFUSALS = {
    ("languages", Code.UNKNOWN): _l("Choose languages from the list."),
    ("themes", Code.UNKNOWN): _l("Choose themes from the list."),
    ("countries", Code.UNKNOWN): _l("Choose countries from the list."),
    ("capacity", Code.OUT_OF_RANGE): _l("Give a whole number from 0 to %(max)d."),
}


class ProfileForm(TranslatedForm):
    languages = CheckboxList(_l("Languages (read and spoken)"))
    themes = CheckboxList(_l("Themes of expertise"))
    countries = CheckboxList(_l("Countries known well"))
    capacity = StringField(
        _l("Capacity: open cases at most"),
        description=_l("Routing gives no new case beyond this number of open cases."),
        validators=[InputRequired(_l("Give a whole number from 0 to %(max)d."))],
    )
    available = RadioField(
        _l("Availability"), choices=choices(AVAILABILITY), validators=[InputRequired(CHOOSE)]
    )

    def validate_capacity(self, field: StringField) -> None:
        text = (field.data or "").strip()
        if not (text.isascii() and text.isdigit()) or int(text) > reviewers.MAX_CAPACITY:
            raise ValidationError(
                gettext("Give a whole number from 0 to %(max)d.", max=reviewers.MAX_CAPACITY)
            )


class ConflictForm(TranslatedForm):
    subject = SelectField(
        _l("Company or site"),
        validators=[InputRequired(_l("Choose the company or the site."))],
    )
    reason = TextAreaField(
        _l("What the conflict is"),
        description=_l(
            "For example: a former employer, a client, a relative working there. "
            "Companies never see it."
        ),
        validators=[
            DataRequired(_l("Say what the conflict is.")),
            Length(max=reviewers.REASON_MAX, message=TOO_LONG),
        ],
    )


class WithdrawForm(TranslatedForm):
    reason = TextAreaField(
        _l("Why the conflict no longer stands"),
        validators=[
            DataRequired(_l("Say why the conflict no longer stands.")),
            Length(max=reviewers.REASON_MAX, message=TOO_LONG),
        ],
    )


# -- choices --------------------------------------------------------------------------------


def _with_current(pairs: list[tuple[str, str]], current: Any) -> list[tuple[str, str]]:
    """The choices, and any code the profile has that the policies no longer list."""
    known = {value for value, _label in pairs}
    return pairs + [(code, code) for code in current if code not in known]


def _profile_form(reviewer: User, *, fresh: bool = False) -> ProfileForm:
    ctx = service_context()
    settings = reviewers.current_settings(ctx, reviewer)
    data = {
        "languages": list(settings.languages),
        "themes": list(settings.themes),
        "countries": list(settings.countries),
        "capacity": str(settings.capacity),
        "available": "yes" if settings.available else "no",
    }
    form = ProfileForm(formdata=None, data=data) if fresh else ProfileForm(data=data)
    form.languages.choices = choices(
        _with_current(
            [(item.code, language_name(item.code)) for item in reviewers.offered_languages(ctx)],
            settings.languages,
        )
    )
    # policy labels are extracted for translation by grievance.policies.extract
    form.themes.choices = choices(
        _with_current(
            [(item.code, str(gettext(item.label))) for item in reviewers.offered_themes(ctx)],
            settings.themes,
        )
    )
    countries = [(c.value, str(c.label)) for c in country_choices() if c.value]
    chosen = set(settings.countries)
    # the countries chosen come first: the list is long
    ordered = sorted(countries, key=lambda pair: pair[0] not in chosen)  # a stable sort
    form.countries.choices = choices(_with_current(ordered, settings.countries))
    return form


def _subjects(reviewer: User) -> list[tuple[str, str]]:
    """Every company and site, but those of the reviewer's standing conflicts."""
    standing = [
        c for c in reviewers.conflicts_of(service_context(), reviewer) if c.withdrawn_on is None
    ]
    company_ids = {c.company_id for c in standing if c.company_id is not None}
    site_ids = {c.site_id for c in standing if c.site_id is not None}
    companies = db.session.scalars(
        select(Company).where(Company.id.not_in(company_ids)).order_by(Company.name)
    ).all()
    sites = db.session.execute(
        select(Site, Company.name)
        .join(Company, Company.id == Site.company_id)
        .where(Site.id.not_in(site_ids))
        .order_by(Site.name)
    ).all()
    return [
        ("", gettext("Choose the company or the site")),
        *((f"company:{c.id}", gettext("Company: %(name)s", name=c.name)) for c in companies),
        *(
            (
                f"site:{site.id}",
                gettext(
                    "Site: %(name)s (%(company)s, %(country)s)",
                    name=site.name,
                    company=company,
                    country=site.country,
                ),
            )
            for site, company in sites
        ),
    ]


def _conflict_form(reviewer: User, *, fresh: bool = False) -> ConflictForm:
    form = (
        ConflictForm(prefix="conflict", formdata=None) if fresh else ConflictForm(prefix="conflict")
    )
    form.subject.choices = choices(_subjects(reviewer))
    return form


def _subject_of(value: str) -> Company | Site | None:
    kind, _, number = value.partition(":")
    if not (number.isascii() and number.isdigit()):
        return None
    if kind == "company":
        return db.session.get(Company, int(number))
    if kind == "site":
        return db.session.get(Site, int(number))
    return None


# -- the page -----------------------------------------------------------------------------------


def _page(
    reviewer: User,
    *,
    admin: bool,
    profile_form: ProfileForm | None = None,
    conflict_form: ConflictForm | None = None,
    withdraw_forms: dict[int, WithdrawForm] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    ctx = service_context()
    conflicts = reviewers.conflicts_of(ctx, reviewer)
    forms = withdraw_forms or {}
    if not admin:
        for conflict in conflicts:
            if conflict.withdrawn_on is None and conflict.id not in forms:
                forms[conflict.id] = WithdrawForm(prefix=f"withdraw-{conflict.id}", formdata=None)
    page = render_template(
        "staff/profile.html",
        reviewer=reviewer,
        admin=admin,
        has_profile=reviewers.profile_of(ctx, reviewer) is not None,
        form=profile_form or _profile_form(reviewer, fresh=True),
        conflict_form=conflict_form or _conflict_form(reviewer, fresh=True),
        withdraw_forms=forms,
        standing=[c for c in conflicts if c.withdrawn_on is None],
        withdrawn=[c for c in conflicts if c.withdrawn_on is not None],
        save_url=_url(reviewer, admin, "save"),
        declare_url=_url(reviewer, admin, "declare"),
    )
    return page, status


def _url(reviewer: User, admin: bool, what: str) -> str:
    """`what`: "save" (the page, and its profile form) or "declare" (a conflict)."""
    if admin:
        return url_for(f"admin_profile.{what}_for", user_id=reviewer.id)
    return url_for(f"profile.{what}")


def _save(reviewer: User, admin: bool) -> Response | tuple[str, int]:
    form = _profile_form(reviewer)
    if not form.validate():
        return _page(reviewer, admin=admin, profile_form=form, status=422)
    ctx = service_context()
    me = current_staff()
    assert me is not None
    settings = reviewers.ProfileSettings(
        languages=form.languages.data or [],
        themes=form.themes.data or [],
        countries=form.countries.data or [],
        capacity=int((form.capacity.data or "0").strip()),
        available=form.available.data == "yes",
    )
    try:
        saved = reviewers.update_profile(ctx, Actor.for_user(me), reviewer, settings)
    except NotAllowed:
        return forbidden()
    except InvalidInput as refused:
        for name in refused.errors:
            field = getattr(form, name, None) or form.capacity
            field.errors = [*field.errors, refusals.message(refused, name, REFUSALS)]
        return _page(reviewer, admin=admin, profile_form=form, status=422)
    db.session.commit()
    flash(gettext("The profile was saved."))
    if saved.taken:
        count = len(saved.taken)
        if admin:
            text = ngettext(
                "The reviewer was put on %(num)d case that was waiting for a reviewer.",
                "The reviewer was put on %(num)d cases that were waiting for a reviewer.",
                count,
            )
        else:
            text = ngettext(
                "You were put on %(num)d case that was waiting for a reviewer.",
                "You were put on %(num)d cases that were waiting for a reviewer.",
                count,
            )
        flash(text)
    return redirect(_url(reviewer, admin, "save"))


def _declare(reviewer: User, admin: bool) -> Response | tuple[str, int]:
    form = _conflict_form(reviewer)
    subject = _subject_of(form.subject.data or "")
    valid = form.validate()
    if valid and subject is None:
        form.subject.errors = [*form.subject.errors, str(_l("Choose the company or the site."))]
        valid = False
    if not valid or subject is None:
        return _page(reviewer, admin=admin, conflict_form=form, status=422)
    me = current_staff()
    assert me is not None
    try:
        declared = reviewers.declare_conflict(
            service_context(), Actor.for_user(me), reviewer, subject, form.reason.data or ""
        )
    except NotAllowed:
        return forbidden()
    except ReasonRequired:
        form.reason.errors = [*form.reason.errors, str(_l("Say what the conflict is."))]
        return _page(reviewer, admin=admin, conflict_form=form, status=422)
    except InvalidInput as refused:
        for name in refused.errors:
            field = form.reason if name == "reason" else form.subject
            field.errors = [*field.errors, refusals.message(refused, name)]
        return _page(reviewer, admin=admin, conflict_form=form, status=422)
    db.session.commit()
    flash(gettext("The conflict was recorded."))
    if declared.left:
        count = len(declared.left)
        if admin:
            text = ngettext(
                "The reviewer left %(num)d case it touches; routing looks for someone else.",
                "The reviewer left %(num)d cases it touches; routing looks for someone else.",
                count,
            )
        else:
            text = ngettext(
                "You left %(num)d case it touches; routing looks for someone else.",
                "You left %(num)d cases it touches; routing looks for someone else.",
                count,
            )
        flash(text)
    return redirect(_url(reviewer, admin, "save") + "#conflicts")


# -- the reviewer's own -------------------------------------------------------------------------


def _me() -> User:
    user = current_staff()
    assert user is not None
    return user


@blueprint.route("", methods=["GET", "POST"])
@staff_required(Role.REVIEWER)
def save() -> Response | tuple[str, int]:
    if request.method == "POST":
        return _save(_me(), admin=False)
    return _page(_me(), admin=False)


@blueprint.post("/conflicts")
@staff_required(Role.REVIEWER)
def declare() -> Response | tuple[str, int]:
    return _declare(_me(), admin=False)


@blueprint.post("/conflicts/<int:conflict_id>/withdraw")
@staff_required(Role.REVIEWER)
def withdraw(conflict_id: int) -> Response | tuple[str, int]:
    me = _me()
    conflict = db.session.get(Conflict, conflict_id)
    if conflict is None or conflict.reviewer_id != me.id:
        abort(404)  # not theirs: nothing to say about it
    form = WithdrawForm(prefix=f"withdraw-{conflict.id}")
    if not form.validate():
        return _page(me, admin=False, withdraw_forms={conflict.id: form}, status=422)
    try:
        reviewers.withdraw_conflict(
            service_context(), Actor.for_user(me), conflict, form.reason.data or ""
        )
    except NotAllowed:
        return forbidden()
    except InvalidInput as refused:
        for name in refused.errors:
            form.reason.errors = [*form.reason.errors, refusals.message(refused, name)]
        return _page(me, admin=False, withdraw_forms={conflict.id: form}, status=422)
    db.session.commit()
    flash(gettext("The conflict was withdrawn. It stays in the record, with your reason."))
    return redirect(url_for("profile.save") + "#conflicts")


# -- an administrator's view --------------------------------------------------------------------


def _reviewer_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.role is not Role.REVIEWER:
        abort(404)  # only reviewers have a profile
    return user


@admin_blueprint.route("/<int:user_id>/profile", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def save_for(user_id: int) -> Response | tuple[str, int]:
    reviewer = _reviewer_or_404(user_id)
    if request.method == "POST":
        return _save(reviewer, admin=True)
    return _page(reviewer, admin=True)


@admin_blueprint.post("/<int:user_id>/profile/conflicts")
@staff_required(Role.ADMIN)
def declare_for(user_id: int) -> Response | tuple[str, int]:
    return _declare(_reviewer_or_404(user_id), admin=True)
