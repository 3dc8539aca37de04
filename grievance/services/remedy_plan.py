"""The remedy plan of a case (R19; standards.md section 4): reviewers draft its items,
companies in the case propose items of their own, the complainant is consulted on the
plan in their language and on their channel, and two reviewers approve it.

What the complainant's answer means for approval (issue #13, item 5):

- `agree`: the plan as shown (its `version`) may be approved; one reviewer proposes
  approval, a second confirms, and the approval records the answer, its channel and
  the version it was given on.
- `disagree`: approval is refused. The reviewers change the plan (any change of an
  item makes a new version) and consult again; a plan is never imposed on the
  complainant.
- `talk`: approval is refused until the reviewers have talked with the complainant
  (a message, a call, a meeting with the company: CSDDD 14(4)) and asked again; the
  answer after the talk decides.

Any change of the plan's items after the complainant was asked makes a new version
and the question is asked again: an answer counts only for what the complainant saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from grievance.models import (
    Case,
    Company,
    ConsultationAnswer,
    PlanState,
    RemedyAction,
    RemedyPlan,
    RemedyStatus,
    Role,
    Stage,
)
from grievance.services import case_notices, caselog, cases, deadlines
from grievance.services.actors import Actor, require_part
from grievance.services.context import Context, atomic
from grievance.services.errors import (
    Code,
    FourEyesViolation,
    InvalidInput,
    NotAllowed,
    ReasonRequired,
    ServiceError,
)
from grievance.services.involvement import current_involvement
from grievance.services.remedy_rules import IN_PLAN, plan_items, plan_of
from grievance.services.texts import check_texts, clean_text, normalise

#: The stages in which the plan is drafted.
DRAFTING_STAGES = (Stage.FINDINGS, Stage.REMEDY_PLAN)
#: The most people an item names as its beneficiaries (a number, never who).
MAX_BENEFICIARIES = 1_000_000
CHANNELS = ("web", "api", "sms", "staff")


class PlanClosed(ServiceError):
    """The plan is approved (or its approval proposed): its items no longer change."""


class ConsultationMissing(ServiceError):
    """The complainant has not agreed to this version of the plan."""


@dataclass(frozen=True)
class ItemInput:
    """What a reviewer or a company gives for an item of the plan."""

    remedy_type: str
    description: str
    company_id: int | None = None
    share_percent: int | None = None
    beneficiary_count: int | None = None
    beneficiaries: str = ""
    due_on: date | None = None


def _reviewer(ctx: Context, actor: Actor, case: Case) -> None:
    if actor.role is not Role.REVIEWER:
        raise NotAllowed("reviewers decide on the remedy plan")
    require_part(ctx, actor, case)


def _company_in_case(ctx: Context, case: Case, company_id: int | None) -> Company | None:
    if company_id is None:
        return None
    company = ctx.session.get(Company, company_id)
    if company is None or current_involvement(ctx, case, company) is None:
        raise InvalidInput({"company_id": Code.NOT_IN_CASE})
    return company


def _open_plan(ctx: Context, case: Case) -> RemedyPlan:
    """The plan, made on the first item; refused once approval is under way."""
    if case.stage not in DRAFTING_STAGES:
        raise PlanClosed(f"the plan is drafted at findings or remedy plan, not {case.stage}")
    plan = plan_of(ctx, case)
    if plan is None:
        plan = RemedyPlan(case_id=case.id, state=PlanState.DRAFT, version=1, created_at=ctx.now())
        ctx.session.add(plan)
        ctx.session.flush()
    elif plan.state in (PlanState.APPROVAL_PROPOSED, PlanState.APPROVED):
        raise PlanClosed("the plan's approval is under way or done")
    return plan


def _changed(plan: RemedyPlan) -> None:
    """A change of the plan's items: a new version, to be put to the complainant again."""
    plan.version += 1
    plan.state = PlanState.DRAFT


def _check_item(ctx: Context, case: Case, data: ItemInput) -> dict[str, str | None]:
    errors: dict[str, Code] = {}
    limits: dict[str, dict[str, int]] = {}
    if data.remedy_type not in ctx.case_policy(case).remedy_codes:
        errors["remedy_type"] = Code.UNKNOWN
    if not normalise(data.description):
        errors["description"] = Code.REQUIRED
    if data.share_percent is not None and not 1 <= data.share_percent <= 100:
        errors["share_percent"] = Code.OUT_OF_RANGE
        limits["share_percent"] = {"min": 1, "max": 100}
    if data.beneficiary_count is not None and not 1 <= data.beneficiary_count <= MAX_BENEFICIARIES:
        errors["beneficiary_count"] = Code.OUT_OF_RANGE
        limits["beneficiary_count"] = {"min": 1, "max": MAX_BENEFICIARIES}
    if data.due_on is not None and data.due_on < ctx.now().date():
        errors["due_on"] = Code.OUT_OF_RANGE
    errors.update(
        check_texts({"description": data.description, "beneficiaries": data.beneficiaries})
    )
    if errors:
        raise InvalidInput(errors, limits)
    return {
        "description": normalise(data.description),
        "beneficiaries": normalise(data.beneficiaries),
    }


def _add_item(
    ctx: Context, case: Case, actor: Actor, data: ItemInput, status: RemedyStatus
) -> RemedyAction:
    plan = _open_plan(ctx, case)
    texts = _check_item(ctx, case, data)
    _company_in_case(ctx, case, data.company_id)
    now = ctx.now()
    item = RemedyAction(
        case_id=case.id,
        plan_id=plan.id,
        company_id=data.company_id,
        remedy_type=data.remedy_type,
        description=texts["description"],
        beneficiaries=texts["beneficiaries"],
        beneficiary_count=data.beneficiary_count,
        share_percent=data.share_percent,
        due_on=data.due_on,
        proposed_by_role=actor.role.value,
        agreed_with_complainant=False,
        status=status,
        created_at=now,
    )
    ctx.session.add(item)
    ctx.session.flush()
    if status is RemedyStatus.PLANNED:
        _changed(plan)
    caselog.append(
        ctx.session,
        case,
        "remedy_action_recorded",
        actor,
        now,
        {
            "remedy_action_id": item.id,
            "remedy_type": item.remedy_type,
            "company_id": item.company_id,
            "description": item.description,
            "due_on": item.due_on,
            "status": status.value,
            "share_percent": item.share_percent,
            "beneficiary_count": item.beneficiary_count,
            "beneficiaries": item.beneficiaries,
            "plan_version": plan.version,
        },
    )
    return item


@atomic
def draft_item(ctx: Context, case: Case, actor: Actor, data: ItemInput) -> RemedyAction:
    """A reviewer adds an item to the plan."""
    case = ctx.lock_case(case)
    _reviewer(ctx, actor, case)
    return _add_item(ctx, case, actor, data, RemedyStatus.PLANNED)


@atomic
def propose_item(ctx: Context, case: Case, actor: Actor, data: ItemInput) -> RemedyAction:
    """A company in the case proposes an item it will carry out; the reviewers take it
    into the plan or decline it."""
    case = ctx.lock_case(case)
    if actor.role is not Role.COMPANY or actor.company_id is None:
        raise NotAllowed("companies propose remedy items")
    require_part(ctx, actor, case)
    if data.company_id not in (None, actor.company_id):
        raise NotAllowed("a company proposes items for itself only")
    data = ItemInput(**{**data.__dict__, "company_id": actor.company_id})
    item = _add_item(ctx, case, actor, data, RemedyStatus.PROPOSED)
    case_notices.remedy_reported(ctx, case, actor, item.company_id, due=False)
    return item


def _item(ctx: Context, item: RemedyAction) -> tuple[Case, RemedyPlan]:
    case = ctx.lock_case(ctx.session.get_one(Case, item.case_id))
    ctx.session.refresh(item)
    plan = plan_of(ctx, case)
    if plan is None or item.plan_id != plan.id:
        raise ServiceError("the item belongs to no plan")
    return case, plan


def _status_changed(
    ctx: Context,
    case: Case,
    actor: Actor,
    item: RemedyAction,
    previous: RemedyStatus,
    note: str,
    changes: deadlines.Changes | None = None,
) -> None:
    caselog.append(
        ctx.session,
        case,
        "remedy_status_changed",
        actor,
        ctx.now(),
        {
            "remedy_action_id": item.id,
            "status": item.status.value,
            "previous_status": previous.value,
            **({"note": note} if note else {}),
            **(changes.payload() if changes else {}),
        },
    )


@atomic
def take_in(ctx: Context, item: RemedyAction, actor: Actor) -> RemedyAction:
    """A reviewer takes a company's proposal into the plan."""
    case, plan = _item(ctx, item)
    _reviewer(ctx, actor, case)
    _open_plan(ctx, case)
    if item.status is not RemedyStatus.PROPOSED:
        raise ServiceError("only a proposal is taken in")
    item.status = RemedyStatus.PLANNED
    _changed(plan)
    _status_changed(ctx, case, actor, item, RemedyStatus.PROPOSED, "")
    return item


@atomic
def set_aside(ctx: Context, item: RemedyAction, actor: Actor, reason: str) -> RemedyAction:
    """A reviewer declines a company's proposal, or drops an item from the plan (before
    approval: a new version; after: the item is abandoned, its time limit waived)."""
    case, plan = _item(ctx, item)
    _reviewer(ctx, actor, case)
    reason = clean_text(reason, "reason")
    if not reason:
        raise ReasonRequired("say why the item is set aside")
    previous = item.status
    changes = deadlines.Changes(opened=[], closed=[])
    if previous is RemedyStatus.PROPOSED:
        _open_plan(ctx, case)
        item.status = RemedyStatus.DECLINED
    elif previous in IN_PLAN and item.verified_at is None:
        if plan.state is not PlanState.APPROVED:
            _open_plan(ctx, case)
            _changed(plan)
        item.status = RemedyStatus.ABANDONED
        changes = deadlines.close_for_remedy_action(
            ctx.session, case, item.id, ctx.now(), abandoned=True
        )
    else:
        raise ServiceError(f"an item {previous} is not set aside")
    _status_changed(ctx, case, actor, item, previous, reason, changes)
    return item


# -- consultation ----------------------------------------------------------------------


@atomic
def put_to_complainant(ctx: Context, case: Case, actor: Actor) -> RemedyPlan:
    """A reviewer asks the complainant about the plan as it is now (the follow-up page
    and the API show it; an SMS complainant gets a numbered question)."""
    case = ctx.lock_case(case)
    _reviewer(ctx, actor, case)
    plan = _open_plan(ctx, case)
    if not [item for item in plan_items(ctx, plan) if item.status in IN_PLAN]:
        raise InvalidInput({"plan": Code.REQUIRED})
    plan.state = PlanState.CONSULTING
    plan.consulted_version = plan.version
    plan.consultation_asked_at = ctx.now()
    plan.consultation_answer = None
    plan.consultation_channel = None
    plan.consultation_answered_at = None
    plan.texted_version = None  # each time it is put, an SMS complainant is texted again
    caselog.append(
        ctx.session, case, "remedy_plan_put", actor, ctx.now(), {"plan_version": plan.version}
    )
    return plan


@atomic
def answer(
    ctx: Context, case: Case, actor: Actor, response: ConsultationAnswer, channel: str
) -> RemedyPlan:
    """The complainant's answer on the plan they were shown."""
    case = ctx.lock_case(case)
    if actor.role is not Role.COMPLAINANT:
        raise NotAllowed("the complainant answers on the plan")
    require_part(ctx, actor, case)
    if channel not in CHANNELS:
        raise ValueError(channel)
    plan = plan_of(ctx, case)
    if plan is None or plan.state is not PlanState.CONSULTING:
        raise ServiceError("no plan waits for the complainant's answer")
    plan.consultation_answer = response
    plan.consultation_channel = channel
    plan.consultation_answered_at = ctx.now()
    caselog.append(
        ctx.session,
        case,
        "remedy_plan_answered",
        actor,
        ctx.now(),
        {"answer": response.value, "channel": channel, "plan_version": plan.version},
    )
    if response is not ConsultationAnswer.AGREE:
        case_notices.remedy_disputed(ctx, case)
    return plan


def waiting_question(ctx: Context, case: Case) -> RemedyPlan | None:
    """The plan the complainant is asked about and has not answered yet, if any."""
    plan = plan_of(ctx, case)
    if plan is None or plan.state is not PlanState.CONSULTING or plan.consultation_answer:
        return None
    return plan


# -- approval (four eyes) --------------------------------------------------------------


@atomic
def propose_approval(ctx: Context, case: Case, actor: Actor, reason: str) -> RemedyPlan:
    """The first reviewer's half: only a plan the complainant agreed to, as it is now."""
    case = ctx.lock_case(case)
    _reviewer(ctx, actor, case)
    reason = clean_text(reason, "reason")
    plan = _open_plan(ctx, case)
    if case.stage is not Stage.REMEDY_PLAN:
        raise PlanClosed("a plan is approved in the remedy plan stage")
    if (
        plan.state is not PlanState.CONSULTING
        or plan.consulted_version != plan.version
        or plan.consultation_answer is not ConsultationAnswer.AGREE
    ):
        raise ConsultationMissing("the complainant has not agreed to this plan")
    plan.state = PlanState.APPROVAL_PROPOSED
    plan.approval_proposed_by_id = actor.user_id
    plan.approval_proposed_at = ctx.now()
    plan.approval_reason = reason
    caselog.append(
        ctx.session,
        case,
        "remedy_plan_approval_proposed",
        actor,
        ctx.now(),
        {"plan_version": plan.version, "reason": reason},
    )
    assert actor.user_id is not None
    case_notices.decision_proposed(ctx, case, actor.user_id)
    return plan


@atomic
def withdraw_approval(ctx: Context, case: Case, actor: Actor, reason: str) -> RemedyPlan:
    """Either reviewer drops a proposed approval (the second one: declines it)."""
    case = ctx.lock_case(case)
    _reviewer(ctx, actor, case)
    reason = clean_text(reason, "reason")
    if not reason:
        raise ReasonRequired("say why the approval is withdrawn")
    plan = plan_of(ctx, case)
    if plan is None or plan.state is not PlanState.APPROVAL_PROPOSED:
        raise ServiceError("no approval is proposed")
    plan.state = PlanState.CONSULTING
    plan.approval_proposed_by_id = None
    plan.approval_proposed_at = None
    plan.approval_reason = ""
    caselog.append(
        ctx.session,
        case,
        "remedy_plan_approval_withdrawn",
        actor,
        ctx.now(),
        {"plan_version": plan.version, "reason": reason},
    )
    return plan


@atomic
def confirm_approval(ctx: Context, case: Case, actor: Actor) -> RemedyPlan:
    """The second reviewer's half: the plan is approved with the complainant's answer,
    each dated item becomes a time limit of the case (reminded and escalated as the
    others), and the case moves into implementation."""
    case = ctx.lock_case(case)
    _reviewer(ctx, actor, case)
    plan = plan_of(ctx, case)
    if plan is None or plan.state is not PlanState.APPROVAL_PROPOSED:
        raise ServiceError("no approval is proposed")
    if actor.user_id == plan.approval_proposed_by_id:
        raise FourEyesViolation("the reviewer who proposed the approval cannot confirm it")
    now = ctx.now()
    plan.state = PlanState.APPROVED
    plan.approved_by_id = actor.user_id
    plan.approved_at = now
    policy = ctx.case_policy(case)
    opened = []
    items = [item for item in plan_items(ctx, plan) if item.status in IN_PLAN]
    for item in items:
        item.agreed_with_complainant = True
        if item.due_on is not None:
            opened += deadlines.open_for_remedy_action(
                ctx.session, case, policy, item.id, item.due_on, now
            ).opened
    caselog.append(
        ctx.session,
        case,
        "remedy_plan_approved",
        actor,
        now,
        {
            "plan_version": plan.version,
            "proposed_by": plan.approval_proposed_by_id,
            "reason": plan.approval_reason,
            "answer": plan.consultation_answer.value if plan.consultation_answer else None,
            "answer_channel": plan.consultation_channel,
            "remedy_action_ids": [item.id for item in items],
            **deadlines.Changes(opened=opened, closed=[]).payload(),
        },
    )
    for company_id in sorted({item.company_id for item in items if item.company_id}):
        case_notices.remedy_reported(ctx, case, actor, company_id, due=True)
    cases.transition(ctx, case, Stage.REMEDY_IMPLEMENTATION, actor, plan.approval_reason)
    return plan


def items_of(ctx: Context, case: Case) -> list[RemedyAction]:
    """Every item of the case's plan (proposals and set-aside ones too), in order."""
    return list(
        ctx.session.scalars(
            select(RemedyAction)
            .where(RemedyAction.case_id == case.id, RemedyAction.plan_id.is_not(None))
            .order_by(RemedyAction.id)
        )
    )
