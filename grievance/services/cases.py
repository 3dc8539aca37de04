"""Moving a case through its lifecycle, and the reviewers' other changes to it.

Every function here locks the case, checks who acts, changes it and writes the log
event in one savepoint: a refusal or a failure leaves nothing behind.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from grievance.models import (
    Assignment,
    AssignmentRole,
    Case,
    Conflict,
    DecisionProposal,
    Involvement,
    ProposalState,
    ReprisalRisk,
    ReviewerProfile,
    Role,
    Stage,
    User,
)
from grievance.models.case import ENDED_STAGES
from grievance.services import case_notices, caselog, contacts, deadlines, lifecycle, queue
from grievance.services.actors import SYSTEM, Actor, acts_on_case
from grievance.services.context import Context, atomic
from grievance.services.errors import (
    ConflictOfInterest,
    ForbiddenTransition,
    FourEyesRequired,
    FourEyesViolation,
    InvalidInput,
    NotAllowed,
    ProposalPending,
    ReasonRequired,
    ServiceError,
)


def require_part(ctx: Context, actor: Actor, case: Case) -> None:
    if not acts_on_case(ctx.session, actor, case):
        raise NotAllowed(f"{actor.role} has no part in case {case.id}")


def _check_transition(
    ctx: Context, case: Case, target: Stage, actor: Actor, reason: str
) -> lifecycle.Transition:
    move = lifecycle.find(case.stage, target)
    if move is None:
        raise ForbiddenTransition(case.stage, target, actor.role, "no such move")
    if actor.role not in move.roles:
        raise ForbiddenTransition(case.stage, target, actor.role, "not for this role")
    require_part(ctx, actor, case)
    if move.needs_reason and not reason.strip():
        raise ReasonRequired(f"moving to {target} needs reasons")
    return move


def _enter_stage(
    ctx: Context,
    case: Case,
    target: Stage,
    actor: Actor,
    reason: str,
    extra: dict[str, object] | None = None,
) -> None:
    now = ctx.now()
    source = case.stage
    case.stage = target
    case.stage_entered_at = now
    if target is Stage.ACKNOWLEDGED and case.acknowledged_at is None:
        case.acknowledged_at = now
    payload: dict[str, object] = dict(extra or {})
    if target in ENDED_STAGES:
        case.closed_at = now
        forgotten = contacts.forget_anonymous_phones(ctx, case)
        if forgotten:
            payload["phone_contacts_erased"] = forgotten
    elif source in ENDED_STAGES:  # reopened on appeal
        case.closed_at = None
    stale = _pending_proposal(ctx, case)
    if stale is not None:
        # A decision proposed in the stage the case leaves no longer applies.
        _drop_proposal(ctx, case, stale, actor, f"the case moved on to {target.value}")
    changes = deadlines.on_stage_entered(ctx.session, case, ctx.case_policy(case), target, now)
    payload.update(changes.payload())
    if reason.strip():
        payload["reason"] = reason.strip()
    caselog.append(
        ctx.session, case, "stage_changed", actor, now, payload, stage_from=source, stage_to=target
    )
    case_notices.stage_entered(ctx, case, target)


@atomic
def transition(ctx: Context, case: Case, target: Stage, actor: Actor, reason: str = "") -> Case:
    """Move a case to `target`. Decisions that need four eyes go through
    `propose_decision` and `confirm_decision` instead (`decide` chooses for its caller)."""
    case = ctx.lock_case(case)
    move = _check_transition(ctx, case, target, actor, reason)
    if move.four_eyes:
        raise FourEyesRequired(f"moving to {target} takes two reviewers")
    _enter_stage(ctx, case, target, actor, reason)
    return case


def _pending_proposal(ctx: Context, case: Case) -> DecisionProposal | None:
    return ctx.session.scalar(
        select(DecisionProposal).where(
            DecisionProposal.case_id == case.id, DecisionProposal.state == ProposalState.PENDING
        )
    )


@atomic
def propose_decision(
    ctx: Context, case: Case, target: Stage, actor: Actor, reason: str
) -> DecisionProposal:
    """The first reviewer's half of a decision that ends or narrows a case."""
    case = ctx.lock_case(case)
    move = _check_transition(ctx, case, target, actor, reason)
    if not move.four_eyes:
        raise ServiceError(f"moving to {target} needs no second reviewer: use transition")
    return _propose(ctx, case, target, actor, reason)


def _propose(
    ctx: Context, case: Case, target: Stage, actor: Actor, reason: str
) -> DecisionProposal:
    """Record the proposal of a four-eyes move already checked on the locked case."""
    if _pending_proposal(ctx, case) is not None:
        raise ProposalPending(f"case {case.reference} already has a decision waiting")
    assert actor.user_id is not None
    proposal = DecisionProposal(
        case_id=case.id,
        to_stage=target,
        reason=reason.strip(),
        state=ProposalState.PENDING,
        proposed_by_id=actor.user_id,
        proposed_at=ctx.now(),
    )
    ctx.session.add(proposal)
    ctx.session.flush()
    caselog.append(
        ctx.session,
        case,
        "decision_proposed",
        actor,
        ctx.now(),
        {"proposal_id": proposal.id, "to_stage": target.value, "reason": proposal.reason},
    )
    case_notices.decision_proposed(ctx, case, actor.user_id)
    return proposal


class Outcome(enum.Enum):
    """What `decide` did with a move."""

    #: The case is in the new stage now.
    MOVED = "moved"
    #: A decision that needs two reviewers: proposed, in force when the other confirms.
    PROPOSED = "proposed"


@dataclass(frozen=True)
class Decided:
    """The result of `decide`: the case (as it is now), the stage asked for, and the
    proposal waiting for the second reviewer when the move needs one."""

    outcome: Outcome
    case: Case
    target: Stage
    proposal: DecisionProposal | None = None

    @property
    def moved(self) -> bool:
        return self.outcome is Outcome.MOVED

    @property
    def proposed(self) -> bool:
        return self.outcome is Outcome.PROPOSED


@atomic
def decide(ctx: Context, case: Case, target: Stage, actor: Actor, reason: str = "") -> Decided:
    """An actor's move of the case to `target`, whatever kind of move it is: a decision
    that ends or narrows the case (four eyes) is proposed, to take effect when a second
    reviewer confirms it (`confirm_decision`); any other move is made now. Refused as
    `transition` and `propose_decision` refuse (ProposalPending while another decision
    waits)."""
    case = ctx.lock_case(case)
    move = _check_transition(ctx, case, target, actor, reason)
    if move.four_eyes:
        proposal = _propose(ctx, case, target, actor, reason)
        return Decided(Outcome.PROPOSED, case, target, proposal)
    _enter_stage(ctx, case, target, actor, reason)
    return Decided(Outcome.MOVED, case, target)


@atomic
def confirm_decision(ctx: Context, proposal: DecisionProposal, actor: Actor) -> Case:
    """The second reviewer's half: the decision takes effect, and both names are logged."""
    case = ctx.lock_case(proposal.case)
    ctx.session.refresh(proposal)
    if proposal.state is not ProposalState.PENDING:
        raise ServiceError(f"the proposal is {proposal.state}, not pending")
    _check_transition(ctx, case, proposal.to_stage, actor, proposal.reason)
    if actor.user_id == proposal.proposed_by_id:
        raise FourEyesViolation("the reviewer who proposed a decision cannot confirm it")
    proposal.state = ProposalState.CONFIRMED
    proposal.decided_by_id = actor.user_id
    proposal.decided_at = ctx.now()
    _enter_stage(
        ctx,
        case,
        proposal.to_stage,
        actor,
        proposal.reason,
        {"proposal_id": proposal.id, "proposed_by": proposal.proposed_by_id},
    )
    return case


@atomic
def withdraw_decision(
    ctx: Context, proposal: DecisionProposal, actor: Actor, reason: str
) -> DecisionProposal:
    """Either assigned reviewer drops a pending proposal (the second one: declines it)."""
    case = ctx.lock_case(proposal.case)
    ctx.session.refresh(proposal)
    if proposal.state is not ProposalState.PENDING:
        raise ServiceError(f"the proposal is {proposal.state}, not pending")
    if actor.role is not Role.REVIEWER:
        raise NotAllowed("only reviewers decide")
    require_part(ctx, actor, case)
    if not reason.strip():
        raise ReasonRequired("say why the proposal is dropped")
    _drop_proposal(ctx, case, proposal, actor, reason.strip())
    return proposal


def _drop_proposal(
    ctx: Context, case: Case, proposal: DecisionProposal, actor: Actor, reason: str
) -> None:
    proposal.state = ProposalState.WITHDRAWN
    proposal.decided_by_id = actor.user_id
    proposal.decided_at = ctx.now()
    caselog.append(
        ctx.session,
        case,
        "decision_withdrawn",
        actor,
        ctx.now(),
        {"proposal_id": proposal.id, "to_stage": proposal.to_stage.value, "reason": reason},
    )


# -- reviewers ------------------------------------------------------------------------

#: Why an assignment ended (`Assignment.end_reason`, up to 40 characters; a recusal adds
#: its reason after a colon).
END_RECUSED = "recused"
END_REASSIGNED = "reassigned"
END_REMOVED = "removed"
END_CONFLICT = "conflict"
#: Routing never puts a reviewer back on a case they left this way (the secretariat may,
#: with a reason, unless they recused or have a conflict).
NOT_ROUTED_BACK = frozenset({END_RECUSED, END_REASSIGNED, END_REMOVED, END_CONFLICT})


def end_kind(assignment: Assignment) -> str | None:
    """How an ended assignment ended (one of the END_* codes), None while it runs."""
    if assignment.ended_at is None:
        return None
    return (assignment.end_reason or "").split(":", 1)[0].strip()


def active_assignments(ctx: Context, case: Case) -> dict[AssignmentRole, Assignment]:
    """The case's current lead and second, read from the database (not a stale list)."""
    rows = ctx.session.scalars(
        select(Assignment)
        .where(Assignment.case_id == case.id, Assignment.ended_at.is_(None))
        .order_by(Assignment.id)
    )
    return {row.role: row for row in rows}


def _left(ctx: Context, case: Case, kinds: frozenset[str]) -> set[int]:
    ended = ctx.session.scalars(
        select(Assignment).where(Assignment.case_id == case.id, Assignment.ended_at.is_not(None))
    )
    return {row.reviewer_id for row in ended if end_kind(row) in kinds}


def left_case(ctx: Context, case: Case) -> set[int]:
    """Reviewers who left this case in a way routing never undoes (NOT_ROUTED_BACK)."""
    return _left(ctx, case, NOT_ROUTED_BACK)


def recused_from(ctx: Context, case: Case) -> set[int]:
    """Reviewers who recused from this case: nobody puts them back on it."""
    return _left(ctx, case, frozenset({END_RECUSED}))


def conflicts_with_case(ctx: Context, reviewer_id: int, case: Case) -> list[Conflict]:
    """The reviewer's declared, standing conflicts with a company or site of the case."""
    company_ids = {
        involvement.company_id
        for involvement in ctx.session.scalars(
            select(Involvement).where(
                Involvement.case_id == case.id, Involvement.superseded_at.is_(None)
            )
        )
    }
    site_ids = {case.site_id} if case.site_id is not None else set()
    if case.site is not None:
        company_ids.add(case.site.company_id)
    conflicts = ctx.session.scalars(
        select(Conflict).where(Conflict.reviewer_id == reviewer_id, Conflict.withdrawn_on.is_(None))
    )
    return [
        conflict
        for conflict in conflicts
        if conflict.company_id in company_ids or conflict.site_id in site_ids
    ]


def interpreter_needed(ctx: Context, case: Case) -> bool:
    """The case has reviewers and none of them reads its language."""
    reviewer_ids = [row.reviewer_id for row in active_assignments(ctx, case).values()]
    if not reviewer_ids:
        return False
    languages = ctx.session.scalars(
        select(ReviewerProfile.languages).where(ReviewerProfile.user_id.in_(reviewer_ids))
    )
    return not any(case.language in (spoken or []) for spoken in languages)


@atomic
def assign_reviewer(
    ctx: Context,
    case: Case,
    reviewer: User,
    role: AssignmentRole,
    actor: Actor,
    *,
    score: float | None = None,
    reasons: list[str] | None = None,
) -> Assignment:
    """Put a reviewer on a case by hand, as the system (data loads); never one with a
    conflict of interest (R06). Cases are routed by `services.routing`; the secretariat
    overrides its choice with `routing.override_assignment`, giving a reason."""
    case = ctx.lock_case(case)
    if actor.role is not Role.SYSTEM:
        raise NotAllowed("reviewers are assigned by routing; the secretariat overrides it")
    return place_reviewer(ctx, case, reviewer, role, actor, score=score, reasons=reasons or [])


def place_reviewer(
    ctx: Context,
    case: Case,
    reviewer: User,
    role: AssignmentRole,
    actor: Actor,
    *,
    score: float | None,
    reasons: list[str],
    extra: Mapping[str, Any] | None = None,
) -> Assignment:
    """Put `reviewer` on the (locked) case as `role`, ending whoever held it, and log it.
    Refuses anyone who is not an active reviewer, has a conflict with a company or site of
    the case (R06), recused from it, or is already on it."""
    profile = ctx.session.get(ReviewerProfile, reviewer.id)
    if reviewer.role is not Role.REVIEWER or profile is None or not reviewer.active:
        raise InvalidInput({"reviewer": "Not an active reviewer."})
    if conflicts_with_case(ctx, reviewer.id, case):
        raise ConflictOfInterest(f"reviewer {reviewer.id} declared a conflict with this case")
    if reviewer.id in recused_from(ctx, case):
        raise ConflictOfInterest(f"reviewer {reviewer.id} recused from this case")
    current = active_assignments(ctx, case)
    if any(row.reviewer_id == reviewer.id for row in current.values()):
        raise InvalidInput({"reviewer": "Already assigned to this case."})
    now = ctx.now()
    if role in current:
        end_assignment(ctx, case, current[role], actor, END_REASSIGNED, now)
    assignment = Assignment(
        case_id=case.id,
        reviewer_id=reviewer.id,
        role=role,
        reasons={"score": score, "reasons": reasons},
        assigned_at=now,
    )
    ctx.session.add(assignment)
    ctx.session.flush()
    case.needs_interpreter = interpreter_needed(ctx, case)
    caselog.append(
        ctx.session,
        case,
        "reviewer_assigned",
        actor,
        now,
        {
            "reviewer_id": reviewer.id,
            "role": role.value,
            "score": score,
            "reasons": reasons,
            "needs_interpreter": case.needs_interpreter,
            **(extra or {}),
        },
    )
    ctx.session.expire(case, ["assignments"])
    case_notices.reviewer_placed(ctx, case, reviewer.id)
    return assignment


def end_assignment(
    ctx: Context, case: Case, assignment: Assignment, actor: Actor, reason: str, now: datetime
) -> None:
    """End an assignment of the (locked) case and log it; `reason` starts with an END_*
    code. Filling the role again is the caller's business (routing)."""
    assignment.ended_at = now
    assignment.end_reason = reason[:40]
    ctx.session.flush()
    case.needs_interpreter = interpreter_needed(ctx, case)
    caselog.append(
        ctx.session,
        case,
        "reviewer_unassigned",
        actor,
        now,
        {
            "reviewer_id": assignment.reviewer_id,
            "role": assignment.role.value,
            "reason": reason,
            "needs_interpreter": case.needs_interpreter,
        },
    )
    ctx.session.expire(case, ["assignments"])


@atomic
def recuse(ctx: Context, case: Case, actor: Actor, reason: str) -> Assignment:
    """A reviewer steps off a case; routing then finds another, never them again."""
    from grievance.services.routing import fill_roles  # routing builds on this module

    case = ctx.lock_case(case)
    if actor.role is not Role.REVIEWER:
        raise NotAllowed("only a reviewer can recuse")
    require_part(ctx, actor, case)
    if not reason.strip():
        raise ReasonRequired("say why you recuse")
    assignment = next(
        row for row in active_assignments(ctx, case).values() if row.reviewer_id == actor.user_id
    )
    end_assignment(ctx, case, assignment, actor, f"{END_RECUSED}: {reason.strip()}", ctx.now())
    fill_roles(ctx, case, SYSTEM, f"the {assignment.role.value} recused")
    return assignment


# -- assessments ----------------------------------------------------------------------


@atomic
def assess_severity(
    ctx: Context,
    case: Case,
    actor: Actor,
    *,
    scale: int,
    scope: int,
    irremediability: int,
    likelihood: int,
) -> Case:
    """Record the severity assessment (R17): each from 1 (least) to 5 (most)."""
    case = ctx.lock_case(case)
    if actor.role is not Role.REVIEWER:
        raise NotAllowed("only reviewers assess severity")
    require_part(ctx, actor, case)
    values = {
        "scale": scale,
        "scope": scope,
        "irremediability": irremediability,
        "likelihood": likelihood,
    }
    wrong = {name: "From 1 to 5." for name, value in values.items() if not 1 <= value <= 5}
    if wrong:
        raise InvalidInput(wrong)
    for name, value in values.items():
        setattr(case, f"severity_{name}", value)
    queue.refresh_queue_rank(case, ctx.case_policy(case))
    caselog.append(ctx.session, case, "severity_assessed", actor, ctx.now(), values)
    return case


@atomic
def assess_reprisal_risk(ctx: Context, case: Case, actor: Actor, level: ReprisalRisk) -> Case:
    """Record the reprisal-risk rating (R16), at intake and at any stage."""
    case = ctx.lock_case(case)
    if actor.role is not Role.REVIEWER:
        raise NotAllowed("only reviewers assess reprisal risk")
    require_part(ctx, actor, case)
    case.reprisal_risk = level
    queue.refresh_queue_rank(case, ctx.case_policy(case))
    caselog.append(
        ctx.session, case, "reprisal_risk_assessed", actor, ctx.now(), {"level": level.value}
    )
    return case
