"""Staff accounts, for administrators: the list (searched by name or address), a new
account, changing a name, role or scope, a password reset and deactivation (each asked
to confirm first, and said done after). Administrators run the system, not cases.
Every change is written to the `grievance.audit` log by the accounts service, with user
ids only."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectField, StringField
from wtforms.validators import InputRequired, Length

from grievance.extensions import db
from grievance.http.context import service_context
from grievance.http.fields import CheckboxList
from grievance.models import STAFF_ROLES, Company, Mechanism, Role, User
from grievance.services import accounts
from grievance.services.actors import Actor
from grievance.services.errors import NotAllowed
from grievance.web.auth import ROLE_NAMES, current_staff, forbidden, staff_required

blueprint = Blueprint("admin", __name__, url_prefix="/staff/admin")

ACCOUNT_PROBLEMS = {
    accounts.AccountProblem.EMAIL_INVALID: _l("Give an e-mail address, like name@example.org."),
    accounts.AccountProblem.EMAIL_TAKEN: _l("There is an account with this e-mail address."),
    accounts.AccountProblem.NAME_MISSING: _l("Give the person's name (at most 120 characters)."),
    accounts.AccountProblem.ROLE_INVALID: _l("Choose a role."),
    accounts.AccountProblem.COMPANY_REQUIRED: _l("Choose the company this person works for."),
    accounts.AccountProblem.COMPANY_NOT_ALLOWED: _l("Only company staff belong to a company."),
    accounts.AccountProblem.MECHANISM_REQUIRED: _l("Choose at least one mechanism."),
    accounts.AccountProblem.MECHANISM_NOT_ALLOWED: _l(
        "Only secretariat staff belong to mechanisms."
    ),
    accounts.AccountProblem.REVIEWER_HAS_CASES: _l(
        "This reviewer is still on cases: hand them over before changing the role."
    ),
    accounts.AccountProblem.OWN_ROLE: _l("You cannot change your own role."),
}

#: The most accounts one page lists; a search narrows it.
LIST_LIMIT = 200


class UserScopeForm(FlaskForm):
    """A user's name, role and what they belong to (changing an existing account)."""

    display_name = StringField(
        _l("Name"),
        validators=[
            InputRequired(_l("Give the person's name.")),
            Length(max=120, message=_l("Use at most %(max)d characters.")),
        ],
    )
    # The choices are checked by the accounts service, which says what is wrong.
    role = RadioField(_l("Role"), validate_choice=False)
    company = SelectField(_l("Company (company staff only)"), validate_choice=False)
    mechanisms = CheckboxList(_l("Mechanisms (secretariat only)"), validate_choice=False)


class NewUserForm(UserScopeForm):
    """A new account: its scope, and the address its sign-in goes to."""

    email = StringField(
        _l("E-mail address"),
        validators=[
            InputRequired(_l("Give an e-mail address, like name@example.org.")),
            Length(max=254, message=_l("Use at most %(max)d characters.")),
        ],
    )


def _admin() -> User:
    user = current_staff()
    assert user is not None
    assert user.role is Role.ADMIN
    return user


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@blueprint.get("/users")
@staff_required(Role.ADMIN)
def users() -> str:
    query = (request.args.get("q") or "").strip()[:120]
    statement = (
        select(User)
        .options(selectinload(User.company), selectinload(User.mechanisms))
        .order_by(User.role, User.display_name, User.id)
    )
    if query:
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(
            or_(
                User.display_name.ilike(pattern, escape="\\"),
                User.email.ilike(pattern, escape="\\"),
            )
        )
    rows = db.session.scalars(statement.limit(LIST_LIMIT + 1)).all()
    return render_template(
        "staff/admin_users.html",
        users=rows[:LIST_LIMIT],
        more=len(rows) > LIST_LIMIT,
        query=query,
        role_names=ROLE_NAMES,
        me=_admin(),
    )


def _choices(form: UserScopeForm | NewUserForm) -> tuple[list[Company], list[Mechanism]]:
    form.role.choices = [(role.value, ROLE_NAMES[role]) for role in STAFF_ROLES]
    companies = list(db.session.scalars(select(Company).order_by(Company.name)))
    form.company.choices = [("", gettext("None")), *((str(c.id), c.name) for c in companies)]
    mechanisms = list(db.session.scalars(select(Mechanism).order_by(Mechanism.name)))
    form.mechanisms.choices = [(str(m.id), f"{m.name} ({m.code})") for m in mechanisms]
    return companies, mechanisms


@blueprint.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def edit_user(user_id: int) -> str | Response | tuple[str, int]:
    user = _user_or_404(user_id)
    form = UserScopeForm()
    companies, mechanisms = _choices(form)
    if request.method == "GET":
        form.display_name.data = user.display_name
        form.role.data = user.role.value
        form.company.data = str(user.company.id) if user.company else ""
        form.mechanisms.data = [str(m.id) for m in user.mechanisms]
    elif form.validate_on_submit():
        role = next((r for r in STAFF_ROLES if r.value == form.role.data), None)
        company = next((c for c in companies if str(c.id) == form.company.data), None)
        chosen = [m for m in mechanisms if str(m.id) in (form.mechanisms.data or [])]
        if role is None:
            form.role.errors = [str(ACCOUNT_PROBLEMS[accounts.AccountProblem.ROLE_INVALID])]
        else:
            try:
                changed = accounts.update_user(
                    service_context(),
                    Actor.for_user(_admin()),
                    user,
                    display_name=form.display_name.data or "",
                    role=role,
                    company=company,
                    mechanisms=chosen,
                )
            except accounts.AccountRejected as refused:
                db.session.rollback()
                for name, problem in refused.problems.items():
                    getattr(form, name).errors = [str(ACCOUNT_PROBLEMS[problem])]
            else:
                db.session.commit()
                flash(
                    gettext("The account of %(name)s is changed.", name=user.display_name)
                    if changed
                    else gettext("Nothing was changed.")
                )
                return redirect(url_for("admin.users"))
    status = 422 if request.method == "POST" else 200
    page = render_template("staff/admin_user_edit.html", form=form, user=user)
    return (page, status) if status != 200 else page


@blueprint.route("/users/new", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def new_user() -> str | tuple[str, int]:
    form = NewUserForm()
    companies, mechanisms = _choices(form)
    if form.validate_on_submit():
        role = next((r for r in STAFF_ROLES if r.value == form.role.data), None)
        company = next((c for c in companies if str(c.id) == form.company.data), None)
        chosen = [m for m in mechanisms if str(m.id) in (form.mechanisms.data or [])]
        if role is None:
            form.role.errors = [str(ACCOUNT_PROBLEMS[accounts.AccountProblem.ROLE_INVALID])]
        else:
            try:
                created = accounts.create_user(
                    service_context(),
                    Actor.for_user(_admin()),
                    email=form.email.data or "",
                    display_name=form.display_name.data or "",
                    role=role,
                    company=company,
                    mechanisms=chosen,
                )
            except accounts.AccountRejected as refused:
                for name, problem in refused.problems.items():
                    getattr(form, name).errors = [str(ACCOUNT_PROBLEMS[problem])]
            else:
                db.session.commit()
                return render_template(
                    "staff/admin_password.html",
                    user=created.user,
                    password=created.temporary_password,
                    created=True,
                )
    status = 422 if request.method == "POST" else 200
    page = render_template("staff/admin_user_new.html", form=form)
    return (page, status) if status != 200 else page


@blueprint.route("/users/<int:user_id>/reset", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def reset(user_id: int) -> str | tuple[str, int]:
    """GET asks to confirm (and whether to remove the second factor too); POST resets."""
    user = _user_or_404(user_id)
    if user.id == _admin().id:
        return forbidden()
    if request.method == "GET":
        return render_template("staff/admin_confirm.html", user=user, reset=True)
    remove = request.form.get("remove_second_factor") == "yes"
    try:
        temporary = accounts.admin_reset_password(
            service_context(), Actor.for_user(_admin()), user, remove_second_factor=remove
        )
    except NotAllowed:
        return forbidden()
    db.session.commit()
    return render_template(
        "staff/admin_password.html",
        user=user,
        password=temporary,
        created=False,
        removed_second_factor=remove,
    )


@blueprint.route("/users/<int:user_id>/deactivate", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def deactivate(user_id: int) -> str | Response | tuple[str, int]:
    """GET asks to confirm; POST deactivates."""
    if request.method == "GET":
        user = _user_or_404(user_id)
        if user.id == _admin().id:
            return forbidden()
        return render_template("staff/admin_confirm.html", user=user, reset=False)
    return _set_active(user_id, False)


@blueprint.post("/users/<int:user_id>/reactivate")
@staff_required(Role.ADMIN)
def reactivate(user_id: int) -> Response | tuple[str, int]:
    return _set_active(user_id, True)


def _set_active(user_id: int, active: bool) -> Response | tuple[str, int]:
    user = _user_or_404(user_id)
    try:
        accounts.set_active(service_context(), Actor.for_user(_admin()), user, active)
    except NotAllowed:
        return forbidden()
    db.session.commit()
    if active:
        message = gettext(
            "The account of %(name)s is active again: they can sign in.", name=user.display_name
        )
    else:
        message = gettext(
            "The account of %(name)s is deactivated: they are signed out everywhere and "
            "cannot sign in until it is reactivated.",
            name=user.display_name,
        )
    flash(message)
    return redirect(url_for("admin.users"))
