"""Closing a case whose remedy is unverified or disputed (issue #13, item 5): only two
reviewers, each with reasons of their own; the first proposes closing (a decision
proposal, as every closing), the second confirms it here with their reasons, and the
log says the case closed with remedy disputed, naming the items still open."""

from __future__ import annotations

from grievance.models import Case, DecisionProposal, Role, Stage
from grievance.services import caselog, cases
from grievance.services.actors import Actor, require_part
from grievance.services.context import Context, atomic
from grievance.services.errors import FourEyesViolation, NotAllowed, ReasonRequired, ServiceError
from grievance.services.remedy_rules import (
    outstanding,
    override_in_force,
    plan_items,
    plan_of,
)
from grievance.services.texts import clean_text


def _reasons(ctx: Context, case: Case, actor: Actor, reason: str) -> str:
    if actor.role is not Role.REVIEWER:
        raise NotAllowed("reviewers close cases")
    require_part(ctx, actor, case)
    reason = clean_text(reason, "reason")
    if not reason:
        raise ReasonRequired("closing with remedy outstanding takes reasons")
    return reason


@atomic
def propose_closing_override(
    ctx: Context, case: Case, actor: Actor, reason: str
) -> DecisionProposal:
    """The first reviewer proposes closing although remedy is unverified or disputed."""
    case = ctx.lock_case(case)
    reason = _reasons(ctx, case, actor, reason)
    plan = plan_of(ctx, case)
    if plan is None or not outstanding(plan_items(ctx, plan)):
        raise ServiceError("nothing is outstanding: close the case as usual")
    plan.override_proposed_by_id = actor.user_id
    plan.override_proposal_id = None
    plan.override_reason = reason
    plan.override_confirmed_by_id = None
    plan.override_second_reason = ""
    proposal = cases.propose_decision(ctx, case, Stage.CLOSED, actor, reason)
    plan.override_proposal_id = proposal.id
    return proposal


@atomic
def confirm_closing_override(ctx: Context, case: Case, actor: Actor, reason: str) -> Case:
    """The second reviewer confirms with reasons: the case closes, logged as closed with
    remedy disputed (both reviewers, both reasons, the items outstanding)."""
    case = ctx.lock_case(case)
    reason = _reasons(ctx, case, actor, reason)
    plan = plan_of(ctx, case)
    if plan is None or not override_in_force(ctx, case, plan) or plan.override_proposal_id is None:
        raise ServiceError("no closing with remedy outstanding is proposed")
    if actor.user_id == plan.override_proposed_by_id:
        raise FourEyesViolation("the reviewer who proposed closing cannot confirm it")
    open_items = outstanding(plan_items(ctx, plan))
    plan.override_confirmed_by_id = actor.user_id
    plan.override_second_reason = reason
    proposal = ctx.session.get_one(DecisionProposal, plan.override_proposal_id)
    case = cases.confirm_decision(ctx, proposal, actor)
    caselog.append(
        ctx.session,
        case,
        "closed_with_remedy_disputed",
        actor,
        ctx.now(),
        {
            "proposed_by": plan.override_proposed_by_id,
            "confirmed_by": actor.user_id,
            "reason": plan.override_reason,
            "second_reason": reason,
            "remedy_action_ids": [item.id for item in open_items],
        },
    )
    return case
