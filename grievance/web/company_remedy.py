"""A company's remedy items in a case (`/staff/company/cases/<reference>/remedy`, issue
#13 item 5), for the users of a company in the case (a current involvement; any other
reference is a 404, whether the case exists or not): the items it is responsible for and
where they stand, proposing an item, and reporting progress with evidence files (checked
and stripped as every upload, sealed under the case's key). A company never verifies its
own remedy: the reviewers do. The company's case page links here."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from grievance.extensions import db
from grievance.http import uploads
from grievance.http.context import service_context
from grievance.http.labels import STAGE_NAMES
from grievance.http.remedy_labels import RESPONSE_NAMES, STATUS_NAMES, type_name
from grievance.models import Case, RemedyAction, Role, User
from grievance.services import attachments, remedy_delivery, remedy_plan
from grievance.services.actors import Actor, acts_on_case
from grievance.services.casereads.remedy import plan_view
from grievance.services.errors import ServiceError
from grievance.web.auth import current_staff, staff_required
from grievance.web.remedy_forms import ItemForm, ReportForm, refusal

blueprint = Blueprint("company_remedy", __name__, url_prefix="/staff/company")


def _case_or_404(reference: str) -> tuple[User, Case]:
    user = current_staff()
    assert user is not None  # staff_required let a company user in
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    if case is None or not acts_on_case(service_context().session, Actor.for_user(user), case):
        abort(404)  # never say whether it exists
    return user, case


def _page(
    case: Case,
    user: User,
    *,
    propose: ItemForm | None = None,
    report: ReportForm | None = None,
    error: str = "",
) -> str:
    ctx = service_context()
    if propose is None:
        propose = ItemForm(formdata=None, prefix="propose")
        propose.offer(ctx.case_policy(case), None)
    return render_template(
        "remedy/company.html",
        case=case,
        stage=STAGE_NAMES[case.stage],
        plan=plan_view(ctx, case, company_id=user.company_id),
        propose=propose,
        report=report or ReportForm(formdata=None, prefix="report"),
        error=error,
        accept=uploads.ACCEPT,
        type_name=type_name,
        status_names=STATUS_NAMES,
        response_names=RESPONSE_NAMES,
    )


@blueprint.get("/cases/<reference>/remedy")
@staff_required(Role.COMPANY)
def remedy(reference: str) -> str:
    user, case = _case_or_404(reference)
    return _page(case, user)


@blueprint.post("/cases/<reference>/remedy/propose")
@staff_required(Role.COMPANY)
def propose(reference: str) -> str | Response | tuple[str, int]:
    user, case = _case_or_404(reference)
    ctx = service_context()
    form = ItemForm(prefix="propose")
    form.offer(ctx.case_policy(case), None)
    if not form.validate():
        return _page(case, user, propose=form), 422
    try:
        remedy_plan.propose_item(ctx, case, Actor.for_user(user), form.item_input())
    except ServiceError as error:
        db.session.rollback()
        return _page(case, user, propose=form, error=refusal(error, form)), 422
    db.session.commit()
    return redirect(url_for("company_remedy.remedy", reference=case.reference), code=303)


@blueprint.post("/cases/<reference>/remedy/report")
@staff_required(Role.COMPANY)
def report(reference: str) -> str | Response | tuple[str, int]:
    user, case = _case_or_404(reference)
    ctx = service_context()
    form = ReportForm(prefix="report")
    files = uploads.collect(ctx)
    valid = form.validate()
    if files.errors:
        form.files.errors = [*form.files.errors, *files.errors]
        valid = False
    if not valid:
        db.session.commit()  # keeps the files held for the form's next try
        return _page(case, user, report=form), 422
    item_id = form.item_id()
    item = db.session.get(RemedyAction, item_id) if item_id is not None else None
    if item is None or item.case_id != case.id:
        abort(404)
    try:
        remedy_delivery.report_progress(
            ctx,
            item,
            Actor.for_user(user),
            form.note.data or "",
            completed=bool(form.completed.data),
            files=files.clean_files,
        )
    except ServiceError as error:
        db.session.rollback()
        return _page(case, user, report=form, error=refusal(error, form)), 422
    attachments.release(ctx, files.tokens)
    db.session.commit()
    return redirect(url_for("company_remedy.remedy", reference=case.reference), code=303)
