"""Moving a case through its lifecycle, and the reviewers' other changes to it.

Every function here locks the case, checks who acts, changes it and writes the log
event in one savepoint: a refusal or a failure leaves nothing behind.

Who is on a case lives in `services.assignments` (below routing, which builds on it);
its names that callers reach through this module are imported here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import select

from grievance.models import (
    Assignment,
    Case,
    DecisionProposal,
    ProposalState,
    ReprisalRisk,
    Role,
    Stage,
)
from grievance.models.case import ENDED_STAGES
from grievance.services import (
    assignments,
    case_notices,
    caselog,
    contacts,
    deadlines,
    events,
    hearing,
    lifecycle,
    queue,
    remedy_rules,
    routing,
)
from grievance.services.actors import SYSTEM, Actor
from grievance.services.actors import require_part as require_part
from grievance.services.assignments import active_assignments as active_assignments
from grievance.services.assignments import assign_reviewer as assign_reviewer
from grievance.services.context import Context, atomic
from grievance.services.errors import (
    Code,
    ForbiddenTransition,
    FourEyesRequired,
    FourEyesViolation,
    InvalidInput,
    NotAllowed,
    ProposalPending,
    ReasonRequired,
    ServiceError,
)
from grievance.services.texts import clean_text


def _check_transition(
    ctx: Context, case: Case, target: Stage, actor: Actor, reason: str
) -> lifecycle.Transition:
    move = lifecycle.find(case.stage, target)
    if move is None:
        raise ForbiddenTransition(case.stage, target, actor.role, "no such move")
    if actor.role not in move.roles:
        raise ForbiddenTransition(case.stage, target, actor.role, "not for this role")
    require_part(ctx, actor, case)
    if move.needs_reason and not reason:
        raise ReasonRequired(f"moving to {target} needs reasons")
    remedy_rules.check_move(ctx, case, target)
    if move.hears_complainant:
        hearing.check_heard(ctx, case)
    return move


def _enter_stage(
    ctx: Context,
    case: Case,
    target: Stage,
    actor: Actor,
    reason: str,
    proposal: DecisionProposal | None = None,
    reason_language: str = "",
) -> None:
    """Move the (locked, checked) case to `target` and log it; `proposal` is the decision
    taken with four eyes, if it is one; `reason_language` the language its reasons are
    written in (shown with them: `reason_language_of`)."""
    now = ctx.now()
    source = case.stage
    case.stage = target
    case.stage_entered_at = now
    if target is Stage.ACKNOWLEDGED and case.acknowledged_at is None:
        case.acknowledged_at = now
    forgotten = 0
    if target in ENDED_STAGES:
        case.closed_at = now
        forgotten = contacts.forget_anonymous_phones(ctx, case)
    elif source in ENDED_STAGES:  # reopened on appeal
        case.closed_at = None
    if (source in ENDED_STAGES) != (target in ENDED_STAGES):
        assignments.case_stage_changed(ctx, case)
    stale = _pending_proposal(ctx, case)
    if stale is not None:
        # A decision proposed in the stage the case leaves no longer applies.
        _drop_proposal(ctx, case, stale, actor, f"the case moved on to {target.value}")
    changes = deadlines.on_stage_entered(ctx.session, case, ctx.case_policy(case), target, now)
    entry = events.stage_changed(
        source,
        target,
        reason=reason,
        reason_language=proposal.reason_language if proposal is not None else reason_language,
        proposal_id=proposal.id if proposal is not None else None,
        proposed_by=proposal.proposed_by_id if proposal is not None else None,
        phone_contacts_erased=forgotten,
        deadlines=changes.payload(),
    )
    caselog.record(ctx.session, case, entry, actor, now)
    case_notices.stage_entered(ctx, case, target)


@atomic
def transition(
    ctx: Context,
    case: Case,
    target: Stage,
    actor: Actor,
    reason: str = "",
    *,
    reason_language: str = "",
) -> Case:
    """Move a case to `target`. Decisions that need four eyes go through
    `propose_decision` and `confirm_decision` instead (`decide` chooses for its caller)."""
    reason = clean_text(reason, "reason")
    case = ctx.lock_case(case)
    move = _check_transition(ctx, case, target, actor, reason)
    if move.four_eyes:
        raise FourEyesRequired(f"moving to {target} takes two reviewers")
    language = reason_language_of(ctx, case, reason, reason_language)
    _enter_stage(ctx, case, target, actor, reason, reason_language=language)
    return case


def reason_language_of(ctx: Context, case: Case, reason: str, language: str) -> str:
    """The language reasons are written in, kept when the case's policy knows it (and
    there are reasons); else none (the reasons are shown unmarked)."""
    if not reason or not language or ctx.case_policy(case).language_named(language) is None:
        return ""
    return language


def _pending_proposal(ctx: Context, case: Case) -> DecisionProposal | None:
    return ctx.session.scalar(
        select(DecisionProposal).where(
            DecisionProposal.case_id == case.id, DecisionProposal.state == ProposalState.PENDING
        )
    )


@atomic
def propose_decision(
    ctx: Context, case: Case, target: Stage, actor: Actor, reason: str, *, reason_language: str = ""
) -> DecisionProposal:
    """The first reviewer's half of a decision that ends or narrows a case."""
    reason = clean_text(reason, "reason")
    case = ctx.lock_case(case)
    move = _check_transition(ctx, case, target, actor, reason)
    if not move.four_eyes:
        raise ServiceError(f"moving to {target} needs no second reviewer: use transition")
    return _propose(ctx, case, target, actor, reason, reason_language)


def _propose(
    ctx: Context, case: Case, target: Stage, actor: Actor, reason: str, reason_language: str = ""
) -> DecisionProposal:
    """Record the proposal of a four-eyes move already checked on the locked case."""
    if _pending_proposal(ctx, case) is not None:
        raise ProposalPending(f"case {case.reference} already has a decision waiting")
    assert actor.user_id is not None
    proposal = DecisionProposal(
        case_id=case.id,
        to_stage=target,
        reason=reason,
        reason_language=reason_language_of(ctx, case, reason, reason_language),
        state=ProposalState.PENDING,
        proposed_by_id=actor.user_id,
        proposed_at=ctx.now(),
    )
    ctx.session.add(proposal)
    ctx.session.flush()
    entry = events.decision_proposed(
        proposal_id=proposal.id, to_stage=target, reason=proposal.reason
    )
    caselog.record(ctx.session, case, entry, actor, ctx.now())
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
def decide(
    ctx: Context,
    case: Case,
    target: Stage,
    actor: Actor,
    reason: str = "",
    *,
    reason_language: str = "",
) -> Decided:
    """An actor's move of the case to `target`, whatever kind of move it is: a decision
    that ends or narrows the case (four eyes) is proposed, to take effect when a second
    reviewer confirms it (`confirm_decision`); any other move is made now. Refused as
    `transition` and `propose_decision` refuse (ProposalPending while another decision
    waits)."""
    reason = clean_text(reason, "reason")
    case = ctx.lock_case(case)
    move = _check_transition(ctx, case, target, actor, reason)
    if move.four_eyes:
        proposal = _propose(ctx, case, target, actor, reason, reason_language)
        return Decided(Outcome.PROPOSED, case, target, proposal)
    language = reason_language_of(ctx, case, reason, reason_language)
    _enter_stage(ctx, case, target, actor, reason, reason_language=language)
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
    _enter_stage(ctx, case, proposal.to_stage, actor, proposal.reason, proposal)
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
    reason = clean_text(reason, "reason")
    if not reason:
        raise ReasonRequired("say why the proposal is dropped")
    _drop_proposal(ctx, case, proposal, actor, reason)
    return proposal


def _drop_proposal(
    ctx: Context, case: Case, proposal: DecisionProposal, actor: Actor, reason: str
) -> None:
    proposal.state = ProposalState.WITHDRAWN
    proposal.decided_by_id = actor.user_id
    proposal.decided_at = ctx.now()
    entry = events.decision_withdrawn(
        proposal_id=proposal.id, to_stage=proposal.to_stage, reason=reason
    )
    caselog.record(ctx.session, case, entry, actor, ctx.now())


# -- reviewers ------------------------------------------------------------------------


@atomic
def recuse(ctx: Context, case: Case, actor: Actor, reason: str) -> Assignment:
    """A reviewer steps off a case; routing then finds another, never them again."""
    case = ctx.lock_case(case)
    if actor.role is not Role.REVIEWER:
        raise NotAllowed("only a reviewer can recuse")
    require_part(ctx, actor, case)
    reason = clean_text(reason, "reason")
    if not reason:
        raise ReasonRequired("say why you recuse")
    assignment = next(
        row
        for row in assignments.active_assignments(ctx, case).values()
        if row.reviewer_id == actor.user_id
    )
    assignments.end_assignment(
        ctx, case, assignment, actor, f"{assignments.END_RECUSED}: {reason}", ctx.now()
    )
    routing.fill_roles(ctx, case, SYSTEM, f"the {assignment.role.value} recused")
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
    entry = events.severity_assessed(
        scale=scale, scope=scope, irremediability=irremediability, likelihood=likelihood
    )
    values = entry.payload
    wrong = [name for name, value in values.items() if not 1 <= value <= 5]
    if wrong:
        raise InvalidInput(
            dict.fromkeys(wrong, Code.OUT_OF_RANGE), {name: {"min": 1, "max": 5} for name in wrong}
        )
    for name, value in values.items():
        setattr(case, f"severity_{name}", value)
    queue.refresh_queue_rank(case, ctx.case_policy(case))
    caselog.record(ctx.session, case, entry, actor, ctx.now())
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
    caselog.record(ctx.session, case, events.reprisal_risk_assessed(level), actor, ctx.now())
    return case
