"""The remedy plan in the JSON follow-up API (issue #13, item 5), with the receipt code
as the other follow-up operations: the plan as the complainant may see it
(`casereads.remedy.plan_view`), their answer on it while the reviewers ask (agree,
disagree, talk), and whether an item reported done really happened. Its routes join the
API's blueprint; `OPERATIONS` and `MODELS` join its OpenAPI document."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from flask import jsonify
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field

from grievance.extensions import db
from grievance.http.context import service_context
from grievance.http.limits import receipt_code_everyone, receipt_code_per_client
from grievance.models import (
    Case,
    Complainant,
    ComplainantResponse,
    ConsultationAnswer,
    RemedyAction,
)
from grievance.services import remedy_delivery, remedy_plan
from grievance.services.actors import Actor
from grievance.services.casereads.remedy import plan_view
from grievance.services.errors import ServiceError
from intake.api import (
    _complainant,
    _parse,
    _Refused,
    blueprint,
)
from intake.api.partners import refuse_wrong_keys
from intake.api.schemas import FollowupIn, _In


class RemedyAnswerIn(_In):
    receipt_code: str = Field(max_length=64)
    answer: Literal["agree", "disagree", "talk"]


class RemedyItemAnswerIn(_In):
    receipt_code: str = Field(max_length=64)
    item: int = Field(ge=1, le=2**31 - 1)
    response: Literal["confirmed", "disputed"]


class RemedyItemOut(BaseModel):
    id: int
    type: str
    description: str
    company: str
    share_percent: int | None
    beneficiary_count: int | None
    beneficiaries: str
    due_on: date | None
    status: str
    verified: bool
    complainant_response: str | None


class RemedyOut(BaseModel):
    #: The reviewers ask the complainant about the plan as it is now.
    asked: bool
    answer: str | None
    approved: bool
    items: list[RemedyItemOut]


MODELS: list[type[BaseModel]] = [RemedyAnswerIn, RemedyItemAnswerIn, RemedyOut]


def _remedy(complainant: Complainant) -> RemedyOut:
    case = db.session.get_one(Case, complainant.case_id)
    plan = plan_view(service_context(), case)
    if plan is None:
        return RemedyOut(asked=False, answer=None, approved=False, items=[])
    return RemedyOut(
        asked=plan.asked,
        answer=plan.answer.value if plan.answer else None,
        approved=plan.approved,
        items=[
            RemedyItemOut(
                id=item.id,
                type=item.remedy_type,
                description=item.description,
                company=item.company,
                share_percent=item.share_percent,
                beneficiary_count=item.beneficiary_count,
                beneficiaries=item.beneficiaries,
                due_on=item.due_on,
                status=item.status.value,
                verified=item.verified,
                complainant_response=(
                    item.complainant_response.value if item.complainant_response else None
                ),
            )
            for item in plan.items
        ],
    )


@blueprint.post("/followup/remedy")
@receipt_code_per_client
@receipt_code_everyone
@refuse_wrong_keys
def followup_remedy() -> ResponseReturnValue:
    payload = _parse(FollowupIn)
    return jsonify(_remedy(_complainant(payload.receipt_code)).model_dump(mode="json"))


@blueprint.post("/followup/remedy/answer")
@receipt_code_per_client
@receipt_code_everyone
@refuse_wrong_keys
def followup_remedy_answer() -> ResponseReturnValue:
    payload = _parse(RemedyAnswerIn)
    complainant = _complainant(payload.receipt_code)
    case = db.session.get_one(Case, complainant.case_id)
    actor = Actor.for_complainant(complainant)
    try:
        remedy_plan.answer(
            service_context(), case, actor, ConsultationAnswer(payload.answer), "api"
        )
    except ServiceError:  # its savepoint is rolled back already (`atomic`)
        raise _Refused(422, [("answer", "No remedy plan waits for your answer.")]) from None
    db.session.commit()
    return jsonify(_remedy(complainant).model_dump(mode="json"))


@blueprint.post("/followup/remedy/items")
@receipt_code_per_client
@receipt_code_everyone
@refuse_wrong_keys
def followup_remedy_item() -> ResponseReturnValue:
    payload = _parse(RemedyItemAnswerIn)
    complainant = _complainant(payload.receipt_code)
    item = db.session.get(RemedyAction, payload.item)
    if item is None or item.case_id != complainant.case_id:
        raise _Refused(422, [("item", "No such item in the remedy plan of your case.")])
    actor = Actor.for_complainant(complainant)
    try:
        remedy_delivery.respond(
            service_context(), item, actor, ComplainantResponse(payload.response), "api"
        )
    except ServiceError:  # its savepoint is rolled back already (`atomic`)
        raise _Refused(422, [("item", "This item is not reported done yet.")]) from None
    db.session.commit()
    return jsonify(_remedy(complainant).model_dump(mode="json"))


def operations(operation: Any) -> dict[str, Any]:
    """The OpenAPI paths of these operations (`operation`: the API's own builder)."""
    return {
        "/api/v1/followup/remedy": {
            "post": operation("Read the remedy plan of a complaint", FollowupIn, 200, RemedyOut)
        },
        "/api/v1/followup/remedy/answer": {
            "post": operation("Answer on the remedy plan", RemedyAnswerIn, 200, RemedyOut)
        },
        "/api/v1/followup/remedy/items": {
            "post": operation(
                "Say whether an item of the plan happened", RemedyItemAnswerIn, 200, RemedyOut
            )
        },
    }
