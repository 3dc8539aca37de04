"""The queue keys kept on the case: `queue_rank` (filing and assessments) and
`next_due_at` (every change to a deadline)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from grievance.models import (
    Case,
    Channel,
    Deadline,
    DeadlineState,
    ReprisalRisk,
    Stage,
)
from grievance.services import cases, messages
from grievance.services.actors import Actor
from grievance.services.timekeeping import extend_deadline, pause_clock, resume_clock
from tests.conftest import START
from tests.factories import make_mechanism, new_case, open_deadline, staff_case

# -- queue_rank ---------------------------------------------------------------------------


def test_filing_ranks_urgent_cases_before_ordinary_ones(ctx):
    tex = make_mechanism(ctx, "TEX")
    ordinary = new_case(ctx, tex).case
    urgent = new_case(ctx, tex, urgent=True).case
    reprisal = new_case(ctx, tex, themes=["reprisal"]).case
    assert (urgent.queue_rank, reprisal.queue_rank, ordinary.queue_rank) == (0, 0, 1000)


def test_assessments_rank_the_case(ctx):
    filed, lead, _ = staff_case(ctx, urgent=True)
    case, actor = filed.case, Actor.for_user(lead)
    assert case.queue_rank == 0  # urgent, not yet assessed
    cases.assess_severity(ctx, case, actor, scale=3, scope=2, irremediability=2, likelihood=4)
    assert case.queue_rank == 2081  # assessed: not irremediable
    cases.assess_reprisal_risk(ctx, case, actor, ReprisalRisk.HIGH)
    assert case.queue_rank == 81  # a reprisal jumps the queue (R16)
    cases.assess_reprisal_risk(ctx, case, actor, ReprisalRisk.LOW)
    cases.assess_severity(ctx, case, actor, scale=2, scope=2, irremediability=5, likelihood=1)
    assert case.queue_rank == 64
    stored = ctx.session.scalar(select(Case.queue_rank).where(Case.id == case.id))
    assert stored == 64


def test_the_queue_puts_the_irremediable_case_first_whatever_its_likelihood(ctx):
    """R17's check, through the services and the queue index's order."""
    tex = make_mechanism(ctx, "TEX")
    severe, severe_lead, _ = staff_case(ctx, mechanism=tex)
    irremediable, irremediable_lead, _ = staff_case(ctx, mechanism=tex)
    fresh = new_case(ctx, tex)
    cases.assess_severity(
        ctx,
        severe.case,
        Actor.for_user(severe_lead),
        scale=5,
        scope=5,
        irremediability=3,
        likelihood=5,
    )
    cases.assess_severity(
        ctx,
        irremediable.case,
        Actor.for_user(irremediable_lead),
        scale=1,
        scope=1,
        irremediability=4,
        likelihood=1,
    )
    ctx.session.flush()
    queue = ctx.session.scalars(
        select(Case.id)
        .where(Case.mechanism_id == tex.id)
        .order_by(Case.queue_rank, Case.next_due_at, Case.id)
    ).all()
    assert queue == [irremediable.case.id, fresh.case.id, severe.case.id]


# -- next_due_at --------------------------------------------------------------------------


def earliest_running(ctx, case: Case) -> datetime | None:
    """Computed here, not by the service."""
    rows = ctx.session.scalars(
        select(Deadline).where(Deadline.case_id == case.id, Deadline.state == DeadlineState.OPEN)
    ).all()
    return min((row.due_at for row in rows if row.paused_at is None), default=None)


def test_next_due_at_follows_every_deadline_change(ctx, clock):
    filed, lead, _ = staff_case(ctx)
    case, actor = filed.case, Actor.for_user(lead)
    complainant = Actor.for_complainant(filed.complainant)

    def check(expected: datetime | None) -> None:
        assert case.next_due_at == expected
        assert earliest_running(ctx, case) == expected
        stored = ctx.session.scalar(select(Case.next_due_at).where(Case.id == case.id))
        assert stored == expected

    check(START + timedelta(days=7))  # filed: acknowledge
    clock.set(START + timedelta(days=1))
    cases.transition(ctx, case, Stage.ACKNOWLEDGED, actor)
    check(START + timedelta(days=31))  # the first progress update
    clock.set(START + timedelta(days=2))
    pause_clock(ctx, case, actor, "Waiting for the payslips.")
    check(None)  # every running limit is pausable
    clock.set(START + timedelta(days=7))
    resume_clock(ctx, case, actor)
    check(START + timedelta(days=36))  # moved by the five days paused
    extend_deadline(ctx, open_deadline(ctx.session, case, "progress_update"), actor, 10, "Ill.")
    check(START + timedelta(days=46))
    clock.set(START + timedelta(days=8))
    messages.add_message(ctx, case, actor, "We are looking into it.", Channel.WEB)
    check(START + timedelta(days=38))  # met, and the next one opened
    # a remedy item's time limit: tests/integration/test_remedy.py
    cases.transition(ctx, case, Stage.WITHDRAWN, complainant, "We settled it ourselves.")
    check(None)  # every limit waived
