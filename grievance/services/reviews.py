"""The mechanism's yearly effectiveness review (R24; LkSG §8(5)): a task that is always
open for each mechanism, due a policy-set number of months after the last one, and a
notice to the secretariat once it is due."""

from __future__ import annotations

from sqlalchemy import select

from grievance.models import Mechanism, MechanismTask, Role, TaskState
from grievance.models.mechanism import secretariat_membership
from grievance.services import notifications
from grievance.services.actors import Actor
from grievance.services.context import Context, atomic
from grievance.services.deadlines import add_months
from grievance.services.errors import NotAllowed, ReasonRequired, ServiceError
from grievance.services.texts import clean_text

EFFECTIVENESS_REVIEW = notifications.EFFECTIVENESS_REVIEW


def open_review(ctx: Context, mechanism: Mechanism) -> MechanismTask | None:
    return ctx.session.scalar(
        select(MechanismTask).where(
            MechanismTask.mechanism_id == mechanism.id,
            MechanismTask.kind == EFFECTIVENESS_REVIEW,
            MechanismTask.state == TaskState.OPEN,
        )
    )


def _schedule(ctx: Context, mechanism: Mechanism) -> MechanismTask:
    last = ctx.session.scalar(
        select(MechanismTask.completed_at)
        .where(
            MechanismTask.mechanism_id == mechanism.id,
            MechanismTask.kind == EFFECTIVENESS_REVIEW,
            MechanismTask.state == TaskState.DONE,
        )
        .order_by(MechanismTask.completed_at.desc())
        .limit(1)
    )
    months = ctx.policy(mechanism).review.effectiveness_review_months
    task = MechanismTask(
        mechanism_id=mechanism.id,
        kind=EFFECTIVENESS_REVIEW,
        state=TaskState.OPEN,
        opened_at=ctx.now(),
        due_at=add_months(last or mechanism.created_at, months),
    )
    ctx.session.add(task)
    ctx.session.flush()
    return task


def review_job(ctx: Context) -> int:
    """Make sure each mechanism has its next review scheduled, and tell the secretariat
    once when one is due. A job: commits. Returns the number of notices sent."""
    sent = 0
    for mechanism in ctx.session.scalars(select(Mechanism).order_by(Mechanism.id)).all():
        task = open_review(ctx, mechanism) or _schedule(ctx, mechanism)
        if task.notified_at is None and task.due_at <= ctx.now():
            task.notified_at = ctx.now()
            notifications.notify(
                ctx,
                notifications.secretariat_of(ctx, mechanism.id),
                notifications.EFFECTIVENESS_REVIEW,
                task_id=task.id,
            )
            sent += 1
        ctx.session.commit()
    return sent


@atomic
def complete_review(ctx: Context, mechanism: Mechanism, actor: Actor, note: str) -> MechanismTask:
    """Record a review as done (yearly or ad hoc) and schedule the next one."""
    if actor.role is not Role.SECRETARIAT:
        raise NotAllowed("the secretariat reviews its mechanisms")
    member = ctx.session.scalar(
        select(secretariat_membership.c.user_id).where(
            secretariat_membership.c.user_id == actor.user_id,
            secretariat_membership.c.mechanism_id == mechanism.id,
        )
    )
    if member is None:
        raise NotAllowed("not a secretariat of this mechanism")
    note = clean_text(note, "note")
    if not note:
        raise ReasonRequired("summarise the review's findings")
    task = open_review(ctx, mechanism)
    if task is None:
        raise ServiceError("no review is scheduled")
    task.state = TaskState.DONE
    task.completed_at = ctx.now()
    task.completed_by_id = actor.user_id
    task.note = note
    ctx.session.flush()
    return _schedule(ctx, mechanism)
