"""The mechanism's effectiveness review (R24; LkSG §8(5)): always one open review per
mechanism, due 12 months (the policy's figure) after the mechanism's creation or the
last completed review; the secretariat is told once when it is due."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from grievance.models import MechanismTask, Role, StaffNotification, TaskState
from grievance.services.actors import SYSTEM, Actor
from grievance.services.deadlines import add_months
from grievance.services.errors import NotAllowed, ReasonRequired, ServiceError
from grievance.services.reviews import EFFECTIVENESS_REVIEW, complete_review, review_job
from tests.conftest import START
from tests.factories import (
    make_company,
    make_mechanism,
    make_reviewer,
    make_secretariat,
    make_user,
    table_counts,
)


def tasks(session, mechanism) -> list[tuple[TaskState, object, object]]:
    """(state, due, completed) of the mechanism's reviews, oldest first."""
    rows = session.execute(
        select(MechanismTask.state, MechanismTask.due_at, MechanismTask.completed_at)
        .where(MechanismTask.mechanism_id == mechanism.id)
        .order_by(MechanismTask.id)
    )
    return [tuple(row) for row in rows]


def open_task(session, mechanism) -> MechanismTask:
    return session.scalars(
        select(MechanismTask).where(
            MechanismTask.mechanism_id == mechanism.id, MechanismTask.state == TaskState.OPEN
        )
    ).one()


def told(session, task: MechanismTask | None = None) -> list[int]:
    """The users told that a review is due (of one task), sorted."""
    query = select(StaffNotification.user_id).where(StaffNotification.kind == EFFECTIVENESS_REVIEW)
    if task is not None:
        query = query.where(StaffNotification.task_id == task.id)
    return sorted(session.scalars(query))


def test_each_mechanism_gets_one_open_review_due_after_the_policy_months(ctx, clock):
    yearly = make_mechanism(ctx, code="YRL")
    clock.set(START + timedelta(days=31))
    half_yearly = make_mechanism(
        ctx, code="HLF", overrides={"review": {"effectiveness_review_months": 6}}
    )
    clock.set(START + timedelta(days=60))
    assert review_job(ctx) == 0
    assert tasks(ctx.session, yearly) == [(TaskState.OPEN, add_months(START, 12), None)]
    assert tasks(ctx.session, half_yearly) == [
        (TaskState.OPEN, add_months(START + timedelta(days=31), 6), None)
    ]
    task = open_task(ctx.session, yearly)
    assert (task.kind, task.opened_at, task.notified_at) == (
        EFFECTIVENESS_REVIEW,
        clock.now(),
        None,
    )

    clock.advance(days=1)
    assert review_job(ctx) == 0
    assert len(tasks(ctx.session, yearly)) == len(tasks(ctx.session, half_yearly)) == 1


def test_the_secretariat_is_told_once_when_the_review_is_due(ctx, clock):
    mechanism = make_mechanism(ctx, code="REV")
    secretariat = make_secretariat(ctx, mechanism, count=2)
    other = make_mechanism(ctx, code="OTR")
    make_secretariat(ctx, other)
    make_reviewer(ctx)
    review_job(ctx)
    task = open_task(ctx.session, mechanism)
    due = add_months(START, 12)
    assert task.due_at == due

    clock.set(due - timedelta(seconds=1))
    assert review_job(ctx) == 0
    assert told(ctx.session) == []

    clock.set(due)
    assert review_job(ctx) == 2  # both mechanisms were made at START
    assert told(ctx.session, task) == sorted(user.id for user in secretariat)
    ctx.session.refresh(task)
    assert task.notified_at == due
    assert task.state is TaskState.OPEN  # still to be done
    notices = ctx.session.scalar(select(func.count()).select_from(StaffNotification))
    assert notices == 3  # two here, one for the other mechanism's secretariat

    for later in (timedelta(hours=1), timedelta(days=40)):
        clock.set(due + later)
        assert review_job(ctx) == 0
    assert ctx.session.scalar(select(func.count()).select_from(StaffNotification)) == notices


def test_completing_a_review_closes_it_and_schedules_the_next(ctx, clock):
    mechanism = make_mechanism(ctx, code="REV")
    (secretariat,) = make_secretariat(ctx, mechanism)
    review_job(ctx)
    first = open_task(ctx.session, mechanism)
    clock.set(add_months(START, 13))  # a month late
    review_job(ctx)
    done_at = clock.now()

    following = complete_review(
        ctx, mechanism, Actor.for_user(secretariat), "  Complainants find the SMS line easy.  "
    )
    ctx.session.refresh(first)
    assert (first.state, first.completed_at, first.completed_by_id) == (
        TaskState.DONE,
        done_at,
        secretariat.id,
    )
    assert first.note == "Complainants find the SMS line easy."
    assert (following.state, following.opened_at, following.notified_at) == (
        TaskState.OPEN,
        done_at,
        None,
    )
    assert following.due_at == add_months(done_at, 12)  # after the last review, not the due date
    assert open_task(ctx.session, mechanism).id == following.id

    assert review_job(ctx) == 0  # neither due nor doubled
    assert len(tasks(ctx.session, mechanism)) == 2
    clock.set(following.due_at)
    assert review_job(ctx) == 1
    assert told(ctx.session, following) == [secretariat.id]


def test_an_ad_hoc_review_restarts_the_year(ctx, clock):
    mechanism = make_mechanism(ctx, code="REV")
    (secretariat,) = make_secretariat(ctx, mechanism)
    review_job(ctx)
    clock.set(add_months(START, 3))
    following = complete_review(ctx, mechanism, Actor.for_user(secretariat), "After a flood.")
    assert following.due_at == add_months(START, 15)
    assert [state for state, _, _ in tasks(ctx.session, mechanism)] == [
        TaskState.DONE,
        TaskState.OPEN,
    ]


@pytest.mark.parametrize(
    "who",
    ["reviewer", "company", "admin", "system", "secretariat of another mechanism"],
)
def test_only_the_secretariat_of_the_mechanism_completes_its_review(ctx, who):
    mechanism = make_mechanism(ctx, code="REV")
    make_secretariat(ctx, mechanism)
    review_job(ctx)
    actor = {
        "reviewer": lambda: Actor.for_user(make_reviewer(ctx)),
        "company": lambda: Actor.for_user(
            make_user(ctx, Role.COMPANY, company=make_company(ctx, mechanism))
        ),
        "admin": lambda: Actor.for_user(make_user(ctx, Role.ADMIN)),
        "system": lambda: SYSTEM,
        "secretariat of another mechanism": lambda: Actor.for_user(
            make_secretariat(ctx, make_mechanism(ctx, code="OTR"))[0]
        ),
    }[who]()
    ctx.session.flush()
    before = table_counts(ctx.session), tasks(ctx.session, mechanism)
    with pytest.raises(NotAllowed):
        complete_review(ctx, mechanism, actor, "We looked at ourselves.")
    assert (table_counts(ctx.session), tasks(ctx.session, mechanism)) == before


def test_a_review_needs_a_note(ctx):
    mechanism = make_mechanism(ctx, code="REV")
    (secretariat,) = make_secretariat(ctx, mechanism)
    review_job(ctx)
    before = table_counts(ctx.session), tasks(ctx.session, mechanism)
    with pytest.raises(ReasonRequired):
        complete_review(ctx, mechanism, Actor.for_user(secretariat), " \t ")
    assert (table_counts(ctx.session), tasks(ctx.session, mechanism)) == before


def test_a_review_that_was_never_scheduled_cannot_be_completed(ctx):
    mechanism = make_mechanism(ctx, code="REV")
    (secretariat,) = make_secretariat(ctx, mechanism)
    before = table_counts(ctx.session)
    with pytest.raises(ServiceError, match="no review"):
        complete_review(ctx, mechanism, Actor.for_user(secretariat), "A review.")
    assert table_counts(ctx.session) == before


def test_a_deactivated_secretariat_user_is_not_told(ctx, clock):
    mechanism = make_mechanism(ctx, code="OFF")
    active, gone = make_secretariat(ctx, mechanism, count=2)
    gone.active = False
    ctx.session.flush()
    review_job(ctx)
    clock.set(open_task(ctx.session, mechanism).due_at)
    review_job(ctx)
    assert told(ctx.session) == [active.id]
