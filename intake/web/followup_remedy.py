"""The remedy plan on the complainant's follow-up page (issue #13, item 5), in their
language: every item of the plan and where it stands; while the reviewers ask, whether
the complainant agrees, disagrees or wants to talk; for each item a company reported
done, whether it really happened. Its routes join the follow-up blueprint; the page's
template includes `intake/_followup_remedy.html`, which calls `remedy_section`."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import HiddenField, RadioField
from wtforms.validators import DataRequired

from grievance.extensions import db
from grievance.extensions import intake_limiter as limiter
from grievance.http import uploads
from grievance.http.context import service_context
from grievance.http.forms import CHOOSE, TranslatedForm, choices
from grievance.http.remedy_labels import (
    ANSWER_NAMES,
    RESPONSE_NAMES,
    STATUS_NAMES,
    type_name,
)
from grievance.models import (
    Case,
    ComplainantResponse,
    ConsultationAnswer,
    RemedyAction,
    RemedyPlan,
)
from grievance.services import remedy_delivery, remedy_plan
from grievance.services.actors import Actor
from grievance.services.casereads.remedy import plan_view
from grievance.services.errors import ServiceError
from intake.web.followup import MessageForm, _case_page, _signed_in, blueprint


class PlanAnswerForm(TranslatedForm):
    answer = RadioField(
        _l("Do you agree with this plan?"),
        choices=choices([(answer.value, name) for answer, name in ANSWER_NAMES.items()]),
        validators=[DataRequired(CHOOSE)],
    )


class ItemAnswerForm(TranslatedForm):
    item = HiddenField(validators=[DataRequired()])
    response = RadioField(
        _l("Did this happen?"),
        choices=choices([(value.value, name) for value, name in RESPONSE_NAMES.items()]),
        validators=[DataRequired(CHOOSE)],
    )


def _case() -> tuple[Any, Case] | None:
    complainant = _signed_in()
    if complainant is None:
        return None
    return complainant, db.session.get_one(Case, complainant.case_id)


@blueprint.app_template_global()
def remedy_section(reference: str) -> dict[str, Any] | None:
    """What the follow-up page shows of the plan of the case it shows (its reference comes
    from the page's read model, built for the signed-in complainant: never from a request)."""
    found = db.session.scalar(
        select(RemedyPlan)
        .join(Case, Case.id == RemedyPlan.case_id)
        .where(Case.reference == reference)
    )
    if found is None:  # one query on every follow-up page, none more without a plan
        return None
    case = db.session.get_one(Case, found.case_id)
    plan = plan_view(service_context(), case, plan=found)
    if plan is None or not plan.items:
        return None
    return {
        "plan": plan,
        "plan_form": PlanAnswerForm(formdata=None, prefix="plan") if plan.asked else None,
        "item_form": ItemAnswerForm(formdata=None, prefix="item"),
        "type_name": type_name,
        "status_names": STATUS_NAMES,
        "response_names": RESPONSE_NAMES,
        "answer_names": ANSWER_NAMES,
    }


def _again() -> tuple[str, int]:
    signed = _signed_in()
    assert signed is not None
    return _case_page(signed, MessageForm(), uploads.Uploads()), 422


@blueprint.post("/remedy/plan")
@limiter.limit("30 per hour")
def remedy_plan_answer() -> str | Response | tuple[str, int]:
    found = _case()
    if found is None:
        return redirect(url_for("followup.sign_in"))
    complainant, case = found
    form = PlanAnswerForm(prefix="plan")
    if not form.validate():
        return _again()
    try:
        remedy_plan.answer(
            service_context(),
            case,
            Actor.for_complainant(complainant),
            ConsultationAnswer(form.answer.data),
            "web",
        )
    except ServiceError:
        db.session.rollback()
        return _again()
    db.session.commit()
    return redirect(url_for("followup.case") + "#remedy-plan", code=303)


@blueprint.post("/remedy/items")
@limiter.limit("30 per hour")
def remedy_item_answer() -> str | Response | tuple[str, int]:
    found = _case()
    if found is None:
        return redirect(url_for("followup.sign_in"))
    complainant, case = found
    form = ItemAnswerForm(prefix="item")
    if not form.validate():
        return _again()
    value = form.item.data or ""
    item = db.session.get(RemedyAction, int(value)) if value.isdigit() else None
    if item is None or item.case_id != case.id:
        abort(404)
    try:
        remedy_delivery.respond(
            service_context(),
            item,
            Actor.for_complainant(complainant),
            ComplainantResponse(form.response.data),
            "web",
        )
    except ServiceError:
        db.session.rollback()
        return _again()
    db.session.commit()
    return redirect(url_for("followup.case") + "#remedy-plan", code=303)
