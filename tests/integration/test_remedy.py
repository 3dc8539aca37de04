"""Remedy items: typed by the policy's vocabulary, each with its own due date as a
deadline of the case (R19, R20), and the complainant's word on whether it happened."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from grievance.models import ComplainantResponse, Deadline, DeadlineState, RemedyStatus, Stage
from grievance.services import remedy
from grievance.services.actors import Actor
from grievance.services.errors import InvalidInput, NotAllowed
from grievance.services.sweep import sweep_deadlines
from tests.factories import staff_case, walk_to


@pytest.fixture
def planning(ctx):
    filed, lead, second = staff_case(ctx)
    case = walk_to(ctx, filed, Stage.REMEDY_PLAN, lead, second)
    return case, Actor.for_user(lead), Actor.for_complainant(filed.complainant)


def _item_deadline(ctx, action) -> Deadline:
    return ctx.session.scalars(
        select(Deadline).where(Deadline.code == f"remedy_action.{action.id}")
    ).one()


def test_an_item_with_a_due_date_is_a_deadline_met_when_completed(ctx, clock, planning):
    case, lead, _ = planning
    due_on = (clock.now() + timedelta(days=30)).date()
    action = remedy.record_remedy_action(
        ctx,
        case,
        lead,
        remedy_type="compensation_financial",
        description="Back pay.",
        due_on=due_on,
    )
    deadline = _item_deadline(ctx, action)
    # the end of the due day in the mechanism's time zone (Europe/Amsterdam, summer time)
    assert deadline.due_at == datetime.combine(due_on, datetime.min.time(), UTC) + timedelta(
        hours=21, minutes=59, seconds=59
    )
    event = case.events[-1]
    assert event.payload["deadlines_opened"][0]["code"] == f"remedy_action.{action.id}"

    clock.advance(days=25)  # past 70 % of the time: the reviewers are reminded
    assert sweep_deadlines(ctx).reminders >= 1
    clock.advance(days=2)
    remedy.update_remedy_status(ctx, action, lead, RemedyStatus.COMPLETED)
    ctx.session.refresh(deadline)
    assert deadline.state is DeadlineState.MET
    assert case.events[-1].payload["deadlines_closed"] == [
        {"code": f"remedy_action.{action.id}", "state": "met"}
    ]


def test_a_late_item_stays_missed_and_an_abandoned_one_is_waived(ctx, clock, planning):
    case, lead, _ = planning
    today = clock.now().date()
    late = remedy.record_remedy_action(
        ctx, case, lead, remedy_type="apology", description="Apology.", due_on=today
    )
    dropped = remedy.record_remedy_action(
        ctx, case, lead, remedy_type="restitution", description="Reinstatement.", due_on=today
    )
    clock.advance(days=3)
    remedy.update_remedy_status(ctx, late, lead, RemedyStatus.COMPLETED)
    remedy.update_remedy_status(ctx, dropped, lead, RemedyStatus.ABANDONED)
    assert _item_deadline(ctx, late).state is DeadlineState.MISSED
    assert _item_deadline(ctx, dropped).state is DeadlineState.WAIVED


def test_an_item_without_a_due_date_opens_no_deadline(ctx, planning):
    case, lead, _ = planning
    action = remedy.record_remedy_action(
        ctx, case, lead, remedy_type="apology", description="Apology."
    )
    assert not ctx.session.scalars(
        select(Deadline).where(Deadline.code == f"remedy_action.{action.id}")
    ).all()


def test_the_vocabulary_is_the_policy_and_the_complainant_has_the_last_word(ctx, planning):
    case, lead, complainant = planning
    with pytest.raises(InvalidInput) as refused:
        remedy.record_remedy_action(ctx, case, lead, remedy_type="hush_money", description="No.")
    assert "remedy_type" in refused.value.errors
    action = remedy.record_remedy_action(
        ctx, case, lead, remedy_type="apology", description="Apology.", due_on=date(2026, 12, 1)
    )
    with pytest.raises(NotAllowed):
        remedy.respond_to_remedy(ctx, action, lead, ComplainantResponse.CONFIRMED)
    remedy.respond_to_remedy(ctx, action, complainant, ComplainantResponse.DISPUTED)
    assert action.complainant_response is ComplainantResponse.DISPUTED
    assert case.events[-1].kind == "remedy_response"
