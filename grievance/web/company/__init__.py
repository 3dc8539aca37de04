"""The company portal (`/staff/company/`, issue #13): the cases the signed-in user's
company is party to, and on each the company's side of the case.

Thin over the services: each page builds from the company's read model
(`casereads.company_view`: never an identity, the complainant's words, nor another
company's involvement, responses or time limits), and each action is one form (CSRF)
calling one service (`services.obligations`), which checks the company is in the case
again. A case the company is not in is a 404, whether it exists or not. A refused action
comes back on the case page with a translated message and what was typed kept."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response

from grievance.extensions import db
from grievance.http import refusals, uploads
from grievance.http.company_events import obligation_label
from grievance.http.context import service_context
from grievance.http.events import describe
from grievance.http.labels import INVOLVEMENT_NAMES, STAGE_NAMES, limit_label
from grievance.models import Case, Obligation, Role, User
from grievance.services import attachments, casereads, company_cases
from grievance.services import obligations as company_side
from grievance.services.actors import Actor, acts_on_case
from grievance.services.casereads import Audience
from grievance.services.errors import Code, InvalidInput, NotAllowed, ReasonRequired, ServiceError
from grievance.web.auth import current_staff, staff_required
from grievance.web.company.labels import (
    LEVERAGE_NAMES,
    OBLIGATION_STATUS_NAMES,
    REMEDY_STATUS_NAMES,
)

blueprint = Blueprint("company", __name__, url_prefix="/staff/company")

GIVE_REASONS = _l("Give your reasons.")
NOT_DONE = _l("This could not be done. Reload the page and try again.")


def _user() -> User:
    user = current_staff()
    assert user is not None
    assert user.role is Role.COMPANY
    return user


def _case_or_404(reference: str) -> tuple[User, Case]:
    user = _user()
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    if (
        case is None
        or user.company_id is None
        or not acts_on_case(service_context().session, Actor.for_user(user), case)
    ):
        abort(404)  # never say whether it exists
    return user, case


@blueprint.get("/")
@staff_required(Role.COMPANY)
def cases() -> str:
    user = _user()
    after = request.args.get("after", type=int)
    page = (
        company_cases.company_cases(service_context(), user.company_id, after)
        if user.company_id is not None
        else company_cases.CompanyCasePage((), None)
    )
    return render_template(
        "company/cases.html",
        page=page,
        stage_names=STAGE_NAMES,
        involvement_names=INVOLVEMENT_NAMES,
        first_page=after is None,
    )


Page = tuple[str, int]


def _page(
    case: Case,
    user: User,
    error: str = "",
    form: str = "",
    kept: Any = None,
    files: Any = None,
) -> Page:
    ctx = service_context()
    company = user.company
    assert company is not None
    view = casereads.company_view(ctx, case, company)
    audience = Audience.company(company.id)
    conversation = [e for e in view.events if e.kind == "company_message"]
    answered = any(e.kind == "company_responded" for e in view.events)
    html = render_template(
        "company/case.html",
        case=case,
        view=view,
        stage=STAGE_NAMES[view.facts.stage],
        involvement_names=INVOLVEMENT_NAMES,
        leverage_names=LEVERAGE_NAMES,
        status_names=OBLIGATION_STATUS_NAMES,
        remedy_status_names=REMEDY_STATUS_NAMES,
        obligation_label=obligation_label,
        limits=[
            (limit_label(limit), limit.due_at, limit.paused, limit.overdue)
            for limit in view.time_limits
        ],
        timeline=[
            (e.at, describe(e, audience)) for e in view.events if e.kind != "company_message"
        ],
        conversation=conversation,
        answered=answered,
        error=error,
        form=form,
        kept=kept or {},
        files=files,
        accept=uploads.ACCEPT,
    )
    return html, 422 if error else 200


@blueprint.get("/cases/<reference>")
@staff_required(Role.COMPANY)
def case(reference: str) -> Page:
    user, the_case = _case_or_404(reference)
    return _page(the_case, user)


def _refused(case: Case, user: User, form: str, refused: ServiceError, files: Any = None) -> Page:
    if isinstance(refused, ReasonRequired):
        message = str(GIVE_REASONS)
    elif isinstance(refused, InvalidInput):
        field = next(iter(refused.errors))
        message = refusals.message(refused, field)
    else:
        message = str(NOT_DONE)
    return _page(case, user, message, form, request.form, files)


def _done(case: Case, message: str, anchor: str) -> Response:
    flash(message)
    return redirect(url_for("company.case", reference=case.reference) + f"#{anchor}", code=303)


@blueprint.post("/cases/<reference>/respond")
@staff_required(Role.COMPANY)
def respond(reference: str) -> Response | Page:
    user, the_case = _case_or_404(reference)
    try:
        company_side.respond(
            service_context(), the_case, Actor.for_user(user), request.form.get("response", "")
        )
    except NotAllowed:
        abort(404)
    except ServiceError as refused:
        return _refused(the_case, user, "respond", refused)
    return _done(the_case, gettext("Your response was sent to the reviewers."), "respond")


@blueprint.post("/cases/<reference>/classification")
@staff_required(Role.COMPANY)
def classification(reference: str) -> Response | Page:
    user, the_case = _case_or_404(reference)
    answer = request.form.get("answer", "")
    if answer not in ("accept", "contest"):
        return _refused(the_case, user, "classification", InvalidInput({"answer": Code.UNKNOWN}))
    try:
        company_side.answer_classification(
            service_context(),
            the_case,
            Actor.for_user(user),
            answer == "accept",
            request.form.get("reasons", ""),
        )
    except NotAllowed:
        abort(404)
    except ServiceError as refused:
        return _refused(the_case, user, "classification", refused)
    return _done(the_case, gettext("Your answer was sent to the reviewers."), "classification")


@blueprint.post("/cases/<reference>/obligations/<int:obligation_id>")
@staff_required(Role.COMPANY)
def report(reference: str, obligation_id: int) -> Response | Page:
    user, the_case = _case_or_404(reference)
    obligation = db.session.get(Obligation, obligation_id)
    if obligation is None or obligation.case_id != the_case.id:
        abort(404)
    name = f"obligation-{obligation_id}"
    ctx = service_context()
    files = uploads.collect(ctx)  # checked and stripped, held while the form comes back
    fulfilled = request.form.get("fulfilled", "")
    if files.errors:
        return _page(the_case, user, " ".join(files.errors), name, request.form, files)
    if fulfilled not in ("yes", "no"):
        return _refused(the_case, user, name, InvalidInput({"fulfilled": Code.UNKNOWN}), files)
    try:
        company_side.report_obligation(
            ctx,
            obligation,
            Actor.for_user(user),
            fulfilled == "yes",
            request.form.get("reasons", ""),
            files.clean_files,
        )
    except NotAllowed:
        abort(404)  # another company's obligation: nothing to say about it
    except ServiceError as refused:
        return _refused(the_case, user, name, refused, files)
    attachments.release(ctx, files.tokens)
    db.session.commit()
    return _done(
        the_case, gettext("Your report was sent to the reviewers for verification."), "obligations"
    )


@blueprint.post("/cases/<reference>/messages")
@staff_required(Role.COMPANY)
def write(reference: str) -> Response | Page:
    user, the_case = _case_or_404(reference)
    assert user.company is not None
    try:
        company_side.write(
            service_context(), the_case, user.company, Actor.for_user(user),
            request.form.get("text", ""),
        )  # fmt: skip
    except NotAllowed:
        abort(404)
    except ServiceError as refused:
        return _refused(the_case, user, "message", refused)
    return _done(the_case, gettext("Your message was sent to the reviewers."), "conversation")
