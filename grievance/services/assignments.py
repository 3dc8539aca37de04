"""Who is on a case: its reviewers' assignments, and putting a reviewer on or off it.

Routing (`services.routing`) chooses whom to put on a case and calls `place_reviewer`
and `end_assignment` here; a reviewer's recusal (`cases.recuse`) ends their assignment
and routes the case again. Every change is logged in the caller's transaction, with the
case locked by the caller (except `assign_reviewer`, which locks it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from grievance.models import (
    Assignment,
    AssignmentRole,
    Case,
    Conflict,
    Involvement,
    ReviewerProfile,
    Role,
    User,
)
from grievance.services import case_notices, caselog, events, loads
from grievance.services.actors import Actor
from grievance.services.context import Context, atomic
from grievance.services.errors import Code, ConflictOfInterest, InvalidInput, NotAllowed

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
    trigger: str | None = None,
    override_reason: str | None = None,
) -> Assignment:
    """Put `reviewer` on the (locked) case as `role`, ending whoever held it, and log it.
    Refuses anyone who is not an active reviewer, has a conflict with a company or site of
    the case (R06), recused from it, or is already on it."""
    profile = ctx.session.get(ReviewerProfile, reviewer.id)
    if reviewer.role is not Role.REVIEWER or profile is None or not reviewer.active:
        raise InvalidInput({"reviewer": Code.NOT_A_REVIEWER})
    if conflicts_with_case(ctx, reviewer.id, case):
        raise ConflictOfInterest(f"reviewer {reviewer.id} declared a conflict with this case")
    if reviewer.id in recused_from(ctx, case):
        raise ConflictOfInterest(f"reviewer {reviewer.id} recused from this case")
    current = active_assignments(ctx, case)
    if any(row.reviewer_id == reviewer.id for row in current.values()):
        raise InvalidInput({"reviewer": Code.ALREADY_ASSIGNED})
    now = ctx.now()
    if role in current:
        end_assignment(ctx, case, current[role], actor, END_REASSIGNED, now)
    assignment = Assignment(
        case_id=case.id,
        reviewer_id=reviewer.id,
        role=role,
        reasons={"score": score, "reasons": reasons},
        assigned_at=now,
        case_open=not case.has_ended,
        queue_rank=case.queue_rank,
        next_due_at=case.next_due_at,
    )
    ctx.session.add(assignment)
    ctx.session.flush()
    if assignment.case_open:
        loads.change(ctx.session, [reviewer.id], +1)
    case.needs_interpreter = interpreter_needed(ctx, case)
    entry = events.reviewer_assigned(
        reviewer_id=reviewer.id,
        role=role,
        score=score,
        reasons=reasons,
        needs_interpreter=case.needs_interpreter,
        trigger=trigger,
        override_reason=override_reason,
    )
    caselog.record(ctx.session, case, entry, actor, now)
    ctx.session.expire(case, ["assignments"])
    case_notices.reviewer_placed(ctx, case, reviewer.id)
    return assignment


def case_stage_changed(ctx: Context, case: Case) -> None:
    """The (locked) case has just ended, or been reopened: its reviewers' loads change
    (`services.loads`), and `Assignment.case_open` of its assignments follows."""
    is_open = not case.has_ended
    current = [row.reviewer_id for row in active_assignments(ctx, case).values()]
    loads.change(ctx.session, current, +1 if is_open else -1)
    ctx.session.execute(
        update(Assignment)
        .where(Assignment.case_id == case.id, Assignment.case_open.is_not(is_open))
        .values(case_open=is_open)
        .execution_options(synchronize_session="fetch")
    )


def end_assignment(
    ctx: Context, case: Case, assignment: Assignment, actor: Actor, reason: str, now: datetime
) -> None:
    """End an assignment of the (locked) case and log it; `reason` starts with an END_*
    code. Filling the role again is the caller's business (routing)."""
    assignment.ended_at = now
    assignment.end_reason = reason[:40]
    ctx.session.flush()
    if assignment.case_open:
        loads.change(ctx.session, [assignment.reviewer_id], -1)
    case.needs_interpreter = interpreter_needed(ctx, case)
    entry = events.reviewer_unassigned(
        reviewer_id=assignment.reviewer_id,
        role=assignment.role,
        reason=reason,
        needs_interpreter=case.needs_interpreter,
    )
    caselog.record(ctx.session, case, entry, actor, now)
    ctx.session.expire(case, ["assignments"])
