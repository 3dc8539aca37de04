"""Stopping, restarting and extending a case's clocks (R10, R11).

While the mechanism waits for the complainant (information requested), the pausable
time limits stop; they restart when the complainant answers or a reviewer resumes
them, and every due time moves by exactly the time paused. An extension needs reasons,
stays within the policy's maximum, and is a `parties` event the complainant sees. A
missed time limit cannot be extended: it stays missed.
"""

from __future__ import annotations

from datetime import timedelta

from grievance.models import Case, Deadline, Role
from grievance.services import case_notices, caselog, deadlines
from grievance.services.actors import Actor, require_part
from grievance.services.context import Context, atomic
from grievance.services.errors import Code, InvalidInput, NotAllowed, ReasonRequired, ServiceError
from grievance.services.texts import clean_text

CLOCK_KEEPERS = (Role.REVIEWER, Role.SECRETARIAT)


@atomic
def pause_clock(ctx: Context, case: Case, actor: Actor, reason: str) -> Case:
    """Stop the pausable time limits while the mechanism waits for the complainant."""
    case = ctx.lock_case(case)
    if actor.role not in CLOCK_KEEPERS:
        raise NotAllowed("only reviewers and the secretariat stop the clock")
    require_part(ctx, actor, case)
    reason = clean_text(reason, "reason")
    if not reason:
        raise ReasonRequired("say what the mechanism waits for")
    if case.has_ended:
        raise ServiceError("the case has ended")
    if case.clock_paused_at is not None:
        raise ServiceError("the clock is already stopped")
    now = ctx.now()
    policy = ctx.case_policy(case)
    paused = []
    for deadline in deadlines.open_deadlines(ctx.session, case):
        limit = policy.time_limit_for(deadline.code)
        if limit is not None and limit.pausable:
            deadline.paused_at = now
            paused.append(deadline.code)
    case.clock_paused_at = now
    deadlines.refresh_next_due(ctx.session, case)
    caselog.append(
        ctx.session,
        case,
        "clock_paused",
        actor,
        now,
        {"reason": reason, "deadlines": paused},
    )
    case_notices.information_requested(ctx, case)
    return case


@atomic
def resume_clock(ctx: Context, case: Case, actor: Actor) -> Case:
    """Restart the stopped time limits; each due time moves by the time paused."""
    case = ctx.lock_case(case)
    if actor.role not in CLOCK_KEEPERS:
        raise NotAllowed("only reviewers and the secretariat restart the clock")
    require_part(ctx, actor, case)
    if case.clock_paused_at is None:
        raise ServiceError("the clock is not stopped")
    restart(ctx, case, actor, by_message=False)
    return case


def restart(ctx: Context, case: Case, actor: Actor, *, by_message: bool) -> None:
    """Restart a stopped clock (the case locked by the caller); used when the complainant
    answers, too."""
    assert case.clock_paused_at is not None
    now = ctx.now()
    moved = []
    for deadline in deadlines.open_deadlines(ctx.session, case):
        if deadline.paused_at is None:
            continue
        shift = now - deadline.paused_at
        deadline.due_at += shift
        deadline.remind_at += shift
        deadline.paused_at = None
        moved.append({"code": deadline.code, "due_at": deadline.due_at})
    paused_seconds = int((now - case.clock_paused_at).total_seconds())
    case.clock_paused_at = None
    deadlines.refresh_next_due(ctx.session, case)
    caselog.append(
        ctx.session,
        case,
        "clock_resumed",
        actor,
        now,
        {"paused_seconds": paused_seconds, "deadlines": moved, "by_message": by_message},
    )


@atomic
def extend_deadline(
    ctx: Context, deadline: Deadline, actor: Actor, days: int, reason: str
) -> Deadline:
    """Give a time limit more days, with reasons the complainant reads."""
    case = ctx.lock_case(ctx.session.get_one(Case, deadline.case_id))
    ctx.session.refresh(deadline)
    if actor.role not in CLOCK_KEEPERS:
        raise NotAllowed("only reviewers and the secretariat extend a time limit")
    require_part(ctx, actor, case)
    reason = clean_text(reason, "reason")
    if not reason:
        raise ReasonRequired("say why more time is needed")
    if deadline.closed_at is not None:
        raise ServiceError("the time limit is no longer running")
    now = ctx.now()
    if now > deadline.due_at:
        raise ServiceError("a missed time limit cannot be extended: it stays missed")
    limit = ctx.case_policy(case).time_limit_for(deadline.code)
    allowed = limit.max_extension_days if limit is not None else 0
    if days < 1 or deadline.extended_days + days > allowed:
        left = max(allowed - deadline.extended_days, 0)
        if not left:
            raise InvalidInput({"days": Code.NO_EXTENSION_LEFT})
        raise InvalidInput({"days": Code.OUT_OF_RANGE}, {"days": {"min": 1, "max": left}})
    previous = deadline.due_at
    calendar = ctx.case_policy(case).calendar
    if calendar.business_days:
        deadline.due_at = deadlines.add_business_days(previous, days, calendar)
    else:
        deadline.due_at = previous + timedelta(days=days)
    deadline.remind_at += deadline.due_at - previous
    deadline.extended_days += days
    deadlines.refresh_next_due(ctx.session, case)
    caselog.append(
        ctx.session,
        case,
        "deadline_extended",
        actor,
        now,
        {
            "code": deadline.code,
            "due_at": deadline.due_at,
            "previous_due_at": previous,
            "days": days,
            "reason": reason,
        },
    )
    return deadline
