"""Remedy actions: what companies do, typed by the policy's vocabulary, and whether the
complainant experienced it (R19-R21)."""

from __future__ import annotations

import enum
from datetime import date

from grievance.models import (
    Case,
    Company,
    ComplainantResponse,
    RemedyAction,
    RemedyStatus,
    Role,
)
from grievance.services import case_notices, caselog, deadlines, satisfaction
from grievance.services.actors import Actor, require_part
from grievance.services.context import Context, atomic
from grievance.services.errors import Code, InvalidInput, NotAllowed
from grievance.services.texts import check_texts, normalise

#: A remedy item is due until it is completed or abandoned.
OPEN_REMEDY = (RemedyStatus.PLANNED, RemedyStatus.IN_PROGRESS)


@atomic
def record_remedy_action(
    ctx: Context,
    case: Case,
    actor: Actor,
    *,
    remedy_type: str,
    description: str,
    company: Company | None = None,
    beneficiaries: str = "",
    due_on: date | None = None,
    agreed_with_complainant: bool = False,
    status: RemedyStatus = RemedyStatus.PLANNED,
) -> RemedyAction:
    """A reviewer adds an item to the remedy plan, or a company reports one of its own."""
    case = ctx.lock_case(case)
    if actor.role not in (Role.REVIEWER, Role.COMPANY):
        raise NotAllowed("remedy actions come from reviewers or the companies in the case")
    require_part(ctx, actor, case)
    if actor.role is Role.COMPANY and (company is None or company.id != actor.company_id):
        raise NotAllowed("a company reports only its own remedy actions")
    errors: dict[str, Code] = {}
    if remedy_type not in ctx.case_policy(case).remedy_codes:
        errors["remedy_type"] = Code.UNKNOWN
    if not normalise(description):
        errors["description"] = Code.REQUIRED
    errors.update(check_texts({"description": description, "beneficiaries": beneficiaries}))
    if errors:
        raise InvalidInput(errors)
    now = ctx.now()
    action = RemedyAction(
        case_id=case.id,
        company_id=company.id if company else None,
        remedy_type=remedy_type,
        description=normalise(description),
        beneficiaries=normalise(beneficiaries),
        due_on=due_on,
        agreed_with_complainant=agreed_with_complainant,
        status=status,
        created_at=now,
    )
    ctx.session.add(action)
    ctx.session.flush()
    changes = (
        deadlines.open_for_remedy_action(
            ctx.session, case, ctx.case_policy(case), action.id, due_on, now
        )
        if due_on is not None and status in OPEN_REMEDY
        else deadlines.Changes(opened=[], closed=[])
    )
    caselog.append(
        ctx.session,
        case,
        "remedy_action_recorded",
        actor,
        now,
        {
            "remedy_action_id": action.id,
            "remedy_type": remedy_type,
            "company_id": action.company_id,
            "description": action.description,
            "due_on": due_on,
            "status": status.value,
            **changes.payload(),
        },
    )
    case_notices.remedy_reported(ctx, case, actor, action.company_id, bool(changes.opened))
    return action


@atomic
def update_remedy_status(
    ctx: Context, action: RemedyAction, actor: Actor, status: RemedyStatus
) -> RemedyAction:
    case = ctx.lock_case(ctx.session.get_one(Case, action.case_id))
    if actor.role not in (Role.REVIEWER, Role.COMPANY):
        raise NotAllowed("remedy status comes from reviewers or the responsible company")
    require_part(ctx, actor, case)
    if actor.role is Role.COMPANY and action.company_id != actor.company_id:
        raise NotAllowed("a company updates only its own remedy actions")
    previous = action.status
    action.status = status
    if status is RemedyStatus.COMPLETED and actor.role is Role.REVIEWER:
        action.verified_by_id = actor.user_id
        action.verified_at = ctx.now()
    changes = deadlines.Changes(opened=[], closed=[])
    if status not in OPEN_REMEDY:
        changes = deadlines.close_for_remedy_action(
            ctx.session, case, action.id, ctx.now(), abandoned=status is RemedyStatus.ABANDONED
        )
    caselog.append(
        ctx.session,
        case,
        "remedy_status_changed",
        actor,
        ctx.now(),
        {
            "remedy_action_id": action.id,
            "status": status.value,
            "previous_status": previous.value,
            **changes.payload(),
        },
    )
    case_notices.remedy_reported(ctx, case, actor, action.company_id, due=False)
    return action


@atomic
def respond_to_remedy(
    ctx: Context, action: RemedyAction, actor: Actor, response: ComplainantResponse
) -> RemedyAction:
    """The complainant says whether they experienced the remedy (R21)."""
    case = ctx.lock_case(ctx.session.get_one(Case, action.case_id))
    if actor.role is not Role.COMPLAINANT:
        raise NotAllowed("only the complainant confirms or disputes remedy")
    require_part(ctx, actor, case)
    action.complainant_response = response
    action.complainant_response_at = ctx.now()
    caselog.append(
        ctx.session,
        case,
        "remedy_response",
        actor,
        ctx.now(),
        {"remedy_action_id": action.id, "response": response.value},
    )
    if response is ComplainantResponse.DISPUTED:
        case_notices.remedy_disputed(ctx, case)
    return action


class Satisfaction(enum.StrEnum):
    """Whether the complainant experienced remedy (R21), asked at and after closing."""

    YES = "yes"
    PARTLY = "partly"
    NO = "no"


@atomic
def record_satisfaction(ctx: Context, case: Case, actor: Actor, response: Satisfaction) -> None:
    """The complainant's answer to the satisfaction check, given by them or recorded by a
    reviewer who asked them (by phone, in person). It meets the satisfaction time limit."""
    case = ctx.lock_case(case)
    if actor.role not in (Role.COMPLAINANT, Role.REVIEWER):
        raise NotAllowed("only the complainant answers, or a reviewer records their answer")
    require_part(ctx, actor, case)
    now = ctx.now()
    kind = "satisfaction_recorded"
    changes = deadlines.on_event(ctx.session, case, ctx.case_policy(case), kind, now)
    caselog.append(
        ctx.session, case, kind, actor, now, {"response": response.value, **changes.payload()}
    )
    satisfaction.mark_answered(ctx, case, actor.complainant_id)
