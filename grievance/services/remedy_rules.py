"""The rules the case lifecycle asks of a remedy plan (R19, issue #13):

- a case leaves `remedy_plan` for `remedy_implementation` only with its plan approved
  (the complainant consulted, two reviewers: `services.remedy_plan`);
- a case with a remedy plan closes only when every item of the plan is verified by a
  reviewer and none is disputed by the complainant, unless two reviewers close it with
  their reasons (`services.remedy_closing`), logged as closed with remedy disputed.

Below `services.cases`, which calls these checks; they read, never write.
"""

from __future__ import annotations

from sqlalchemy import select

from grievance.models import (
    Case,
    ComplainantResponse,
    DecisionProposal,
    PlanState,
    ProposalState,
    RemedyAction,
    RemedyPlan,
    RemedyStatus,
    Stage,
)
from grievance.services.context import Context
from grievance.services.errors import ServiceError

#: Items that are part of a plan (a company's proposal is not until a reviewer takes it in).
IN_PLAN = (RemedyStatus.PLANNED, RemedyStatus.IN_PROGRESS, RemedyStatus.COMPLETED)


class PlanNotApproved(ServiceError):
    """The remedy plan is not approved: the case cannot go into implementation."""


class RemedyOutstanding(ServiceError):
    """An item of the remedy plan is unverified or disputed: the case cannot close
    without two reviewers' reasons (`remedy_closing.propose_closing_override`)."""


def plan_of(ctx: Context, case: Case) -> RemedyPlan | None:
    return ctx.session.scalar(select(RemedyPlan).where(RemedyPlan.case_id == case.id))


def plan_items(ctx: Context, plan: RemedyPlan) -> list[RemedyAction]:
    return list(
        ctx.session.scalars(
            select(RemedyAction).where(RemedyAction.plan_id == plan.id).order_by(RemedyAction.id)
        )
    )


def outstanding(items: list[RemedyAction]) -> list[RemedyAction]:
    """The items that keep a case open: in the plan and not verified, or disputed."""
    return [
        item
        for item in items
        if item.status in IN_PLAN
        and (item.verified_at is None or item.complainant_response is ComplainantResponse.DISPUTED)
    ]


def _pending_proposal(ctx: Context, case: Case) -> DecisionProposal | None:
    return ctx.session.scalar(
        select(DecisionProposal).where(
            DecisionProposal.case_id == case.id, DecisionProposal.state == ProposalState.PENDING
        )
    )


def override_in_force(ctx: Context, case: Case, plan: RemedyPlan) -> bool:
    """Whether the closing override a first reviewer proposed still stands: their decision
    proposal to close is the one pending (a withdrawn proposal takes the override with it).
    While it is being proposed (`override_proposal_id` not yet set), it stands too."""
    if plan.override_proposed_by_id is None:
        return False
    if plan.override_proposal_id is None:
        return True
    pending = _pending_proposal(ctx, case)
    return pending is not None and pending.id == plan.override_proposal_id


def check_move(ctx: Context, case: Case, target: Stage) -> None:
    """Refuse a move the remedy plan does not allow (called for every move of a case)."""
    if case.stage is Stage.REMEDY_PLAN and target is Stage.REMEDY_IMPLEMENTATION:
        plan = plan_of(ctx, case)
        if plan is None or plan.state is not PlanState.APPROVED:
            raise PlanNotApproved("the remedy plan is not approved")
    if target is Stage.CLOSED:
        plan = plan_of(ctx, case)
        if plan is None or not outstanding(plan_items(ctx, plan)):
            return
        if not override_in_force(ctx, case, plan):
            raise RemedyOutstanding("an item of the remedy plan is unverified or disputed")
        if plan.override_proposal_id is not None and plan.override_confirmed_by_id is None:
            # the second reviewer confirms with reasons of their own (remedy_closing)
            raise RemedyOutstanding("the second reviewer confirms the override with reasons")
