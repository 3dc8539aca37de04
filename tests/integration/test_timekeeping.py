"""Stopping, restarting and extending a case's clocks (R10, R11), and time limits counted
in a mechanism's business days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from grievance.models import Case, Channel, Deadline, DeadlineState, Role, Stage, Visibility
from grievance.services import caselog, cases, involvement, messages
from grievance.services.actors import SYSTEM, Actor
from grievance.services.deadlines import add_months
from grievance.services.errors import Code, InvalidInput, NotAllowed, ReasonRequired, ServiceError
from grievance.services.timekeeping import extend_deadline, pause_clock, resume_clock
from tests.conftest import START
from tests.factories import (
    case_state,
    events_of,
    make_company,
    make_mechanism,
    make_reviewer,
    make_secretariat,
    make_user,
    open_deadline,
    staff_case,
    table_counts,
)

PAUSED_FOR = timedelta(days=5, hours=3)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def clocks(session, case: Case) -> dict[str, tuple[Any, ...]]:
    """Each open deadline's due time, reminder time, pause and extension."""
    rows = session.scalars(
        select(Deadline)
        .where(Deadline.case_id == case.id, Deadline.state == DeadlineState.OPEN)
        .execution_options(populate_existing=True)
    )
    return {d.code: (d.due_at, d.remind_at, d.paused_at, d.extended_days) for d in rows}


def snapshot(session, case: Case) -> tuple[Any, ...]:
    """Everything a refused change must leave as it was."""
    session.flush()
    paused = session.scalar(select(Case.clock_paused_at).where(Case.id == case.id))
    return table_counts(session), case_state(session, case.id), clocks(session, case), paused


@pytest.fixture
def staffed(ctx):
    """A filed case, its lead and second reviewers as actors."""
    filed, lead, second = staff_case(ctx)
    return filed, Actor.for_user(lead), Actor.for_user(second)


def acknowledged(ctx, staffed) -> Case:
    filed, lead, _ = staffed
    return cases.transition(ctx, filed.case, Stage.ACKNOWLEDGED, lead)


# -- pausing --------------------------------------------------------------------------


def test_pausing_stops_the_pausable_limits_but_not_acknowledging(ctx, clock, staffed):
    filed, lead, _ = staffed
    case = filed.case
    clock.advance(days=1)
    before = clocks(ctx.session, case)
    case = pause_clock(ctx, case, lead, "  Waiting for the pay slips.  ")

    now = clock.now()
    after = clocks(ctx.session, case)
    assert after["admissibility"][2] == now
    assert after["acknowledge"] == before["acknowledge"]  # not pausable (R04)
    assert after["acknowledge"][2] is None
    assert case.clock_paused_at == now

    (event,) = events_of(ctx.session, case, "clock_paused")
    assert (event.actor_role, event.actor_id, event.created_at) == (
        Role.REVIEWER,
        lead.user_id,
        now,
    )
    assert event.payload == {"reason": "Waiting for the pay slips.", "deadlines": ["admissibility"]}
    assert event.visibility is Visibility.PARTIES  # the complainant sees why the clock stopped
    assert caselog.visible_payload(event, Visibility.PARTIES) == event.payload
    assert caselog.verify_case(ctx.session, case) is None


def test_pausing_an_acknowledged_case_stops_every_running_limit(ctx, clock, staffed):
    _, lead, _ = staffed
    case = acknowledged(ctx, staffed)
    clock.advance(days=2)
    pause_clock(ctx, case, lead, "Waiting for the complainant's answer.")
    paused = clocks(ctx.session, case)
    assert set(paused) == {"admissibility", "progress_update", "feedback"}
    assert {values[2] for values in paused.values()} == {clock.now()}
    (event,) = events_of(ctx.session, case, "clock_paused")
    assert sorted(event.payload["deadlines"]) == sorted(paused)


def test_the_secretariat_of_the_mechanism_may_stop_and_restart_the_clock(ctx, clock, staffed):
    filed, _, _ = staffed
    (secretariat,) = make_secretariat(ctx, filed.case.mechanism)
    actor = Actor.for_user(secretariat)
    pause_clock(ctx, filed.case, actor, "Asked for the contract.")
    clock.advance(days=1)
    case = resume_clock(ctx, filed.case, actor)
    assert case.clock_paused_at is None
    assert [e.actor_id for e in events_of(ctx.session, case) if e.kind.startswith("clock_")] == [
        secretariat.id,
        secretariat.id,
    ]


# -- resuming -------------------------------------------------------------------------


def test_resuming_moves_each_paused_time_by_exactly_the_time_paused(ctx, clock, staffed):
    _, lead, second = staffed
    case = acknowledged(ctx, staffed)
    clock.advance(days=2)
    before = clocks(ctx.session, case)
    pause_clock(ctx, case, lead, "Waiting for the complainant's answer.")
    clock.advance(PAUSED_FOR)
    case = resume_clock(ctx, case, second)

    after = clocks(ctx.session, case)
    assert set(after) == set(before)
    for code, (due, remind, _, extended) in before.items():
        assert after[code] == (due + PAUSED_FOR, remind + PAUSED_FOR, None, extended), code
    assert case.clock_paused_at is None

    (event,) = events_of(ctx.session, case, "clock_resumed")
    assert (event.actor_id, event.created_at) == (second.user_id, clock.now())
    assert event.payload["paused_seconds"] == 5 * 86_400 + 3 * 3_600
    assert event.payload["by_message"] is False
    assert sorted(event.payload["deadlines"], key=lambda item: item["code"]) == [
        {"code": code, "due_at": iso(after[code][0])} for code in sorted(after)
    ]
    assert event.visibility is Visibility.PARTIES
    # whether a message restarted it is the reviewers' business
    assert "by_message" not in caselog.visible_payload(event, Visibility.PARTIES)
    assert caselog.verify_case(ctx.session, case) is None


def test_the_acknowledge_limit_runs_on_while_the_clock_is_stopped(ctx, clock, staffed):
    filed, lead, _ = staffed
    due = open_deadline(ctx.session, filed.case, "acknowledge").due_at
    pause_clock(ctx, filed.case, lead, "Waiting.")
    clock.advance(days=3)
    resume_clock(ctx, filed.case, lead)
    assert open_deadline(ctx.session, filed.case, "acknowledge").due_at == due


def test_a_message_from_the_complainant_restarts_the_clock(ctx, clock, staffed):
    filed, lead, _ = staffed
    case = acknowledged(ctx, staffed)
    pause_clock(ctx, case, lead, "Asked for the dates of the overtime.")
    before = clocks(ctx.session, case)
    clock.advance(days=2, hours=5)
    complainant = Actor.for_complainant(filed.complainant)
    messages.add_message(ctx, case, complainant, "It was in May and June.", Channel.SMS)

    ctx.session.refresh(case)
    assert case.clock_paused_at is None
    shift = timedelta(days=2, hours=5)
    after = clocks(ctx.session, case)
    for code, (due, remind, _, _) in before.items():
        assert after[code][:3] == (due + shift, remind + shift, None), code
    last_two = events_of(ctx.session, case)[-2:]
    assert [e.kind for e in last_two] == ["message_from_complainant", "clock_resumed"]
    resumed = last_two[1]
    assert resumed.actor_role is Role.COMPLAINANT
    assert resumed.payload["by_message"] is True
    assert resumed.payload["paused_seconds"] == int(shift.total_seconds())
    assert caselog.verify_case(ctx.session, case) is None


def test_a_message_to_the_complainant_leaves_the_clock_stopped(ctx, clock, staffed):
    _, lead, _ = staffed
    case = acknowledged(ctx, staffed)
    pause_clock(ctx, case, lead, "Asked for the dates.")
    paused_at = clock.now()
    clock.advance(days=1)
    messages.add_message(ctx, case, lead, "Did you find the dates?", Channel.SMS)
    ctx.session.refresh(case)
    assert case.clock_paused_at == paused_at
    assert clocks(ctx.session, case)["feedback"][2] == paused_at
    assert events_of(ctx.session, case, "clock_resumed") == []


@pytest.mark.parametrize(
    ("paused_on_day", "state"),
    [(80, DeadlineState.MET), (90, DeadlineState.MET), (91, DeadlineState.MISSED)],
    ids=["stopped in time", "stopped on the dot", "stopped too late"],
)
def test_a_limit_closed_while_its_clock_is_stopped_counts_until_it_stopped(
    ctx, clock, staffed, paused_on_day, state
):
    """Admissibility is due on day 90. The clock stops on `paused_on_day`; the decision
    comes on day 120 with the clock still stopped (the answer came another way)."""
    _, lead, _ = staffed
    case = acknowledged(ctx, staffed)
    case = cases.transition(ctx, case, Stage.ADMISSIBILITY, lead)
    clock.set(START + timedelta(days=paused_on_day))
    pause_clock(ctx, case, lead, "Asked for the employment contract.")
    clock.set(START + timedelta(days=120))
    case = cases.transition(ctx, case, Stage.INVESTIGATION, lead, "Admissible.")
    admissibility = ctx.session.scalars(
        select(Deadline).where(Deadline.case_id == case.id, Deadline.code == "admissibility")
    ).one()
    assert (admissibility.state, admissibility.closed_at) == (state, clock.now())
    closed = events_of(ctx.session, case)[-1].payload["deadlines_closed"]
    assert {"code": "admissibility", "state": state.value} in closed


# -- refusals of pauses ---------------------------------------------------------------


def test_stopping_a_stopped_clock_or_restarting_a_running_one_is_refused(ctx, staffed):
    filed, lead, _ = staffed
    before = snapshot(ctx.session, filed.case)
    with pytest.raises(ServiceError, match="not stopped"):
        resume_clock(ctx, filed.case, lead)
    assert snapshot(ctx.session, filed.case) == before

    pause_clock(ctx, filed.case, lead, "Waiting.")
    before = snapshot(ctx.session, filed.case)
    with pytest.raises(ServiceError, match="already stopped"):
        pause_clock(ctx, filed.case, lead, "Waiting again.")
    assert snapshot(ctx.session, filed.case) == before


def test_a_pause_needs_a_reason(ctx, staffed):
    filed, lead, _ = staffed
    before = snapshot(ctx.session, filed.case)
    with pytest.raises(ReasonRequired):
        pause_clock(ctx, filed.case, lead, "   ")
    assert snapshot(ctx.session, filed.case) == before


def test_an_ended_case_has_no_clock_to_stop(ctx, staffed):
    filed, lead, _ = staffed
    complainant = Actor.for_complainant(filed.complainant)
    case = cases.transition(ctx, filed.case, Stage.WITHDRAWN, complainant, "No longer needed.")
    before = snapshot(ctx.session, case)
    with pytest.raises(ServiceError, match="ended"):
        pause_clock(ctx, case, lead, "Waiting.")
    assert snapshot(ctx.session, case) == before


# -- extensions -----------------------------------------------------------------------


def test_an_extension_moves_the_due_time_and_is_told_to_the_parties(ctx, clock, staffed):
    _, lead, _ = staffed
    case = acknowledged(ctx, staffed)
    feedback = open_deadline(ctx.session, case, "feedback")
    previous, remind = feedback.due_at, feedback.remind_at
    assert previous == add_months(START, 3)
    clock.advance(days=10)

    extended = extend_deadline(ctx, feedback, lead, 30, "  The factory audit is next month. ")
    assert extended.due_at == previous + timedelta(days=30)
    assert extended.remind_at == remind + timedelta(days=30)
    assert extended.extended_days == 30
    assert extended.state is DeadlineState.OPEN

    (event,) = events_of(ctx.session, case, "deadline_extended")
    assert event.payload == {
        "code": "feedback",
        "due_at": iso(previous + timedelta(days=30)),
        "previous_due_at": iso(previous),
        "days": 30,
        "reason": "The factory audit is next month.",
    }
    assert (event.actor_id, event.created_at) == (lead.user_id, clock.now())
    assert event.visibility is Visibility.PARTIES
    assert caselog.visible_payload(event, Visibility.PARTIES) == event.payload
    assert caselog.verify_case(ctx.session, case) is None


def test_extensions_add_up_to_the_policy_maximum_and_no_further(ctx, staffed):
    """Feedback may be extended by 92 days in all (6 months, WBD 11)."""
    _, lead, _ = staffed
    case = acknowledged(ctx, staffed)
    feedback = open_deadline(ctx.session, case, "feedback")
    original = feedback.due_at
    with pytest.raises(InvalidInput) as refused:
        extend_deadline(ctx, feedback, lead, 93, "A long audit.")
    assert refused.value.errors == {"days": Code.OUT_OF_RANGE}
    assert refused.value.limits == {"days": {"min": 1, "max": 92}}

    extend_deadline(ctx, feedback, lead, 60, "A long audit.")
    with pytest.raises(InvalidInput) as refused:
        extend_deadline(ctx, feedback, lead, 33, "A longer audit.")
    assert refused.value.errors == {"days": Code.OUT_OF_RANGE}
    assert refused.value.limits == {"days": {"min": 1, "max": 32}}
    extend_deadline(ctx, feedback, lead, 32, "A longer audit.")
    assert (feedback.due_at, feedback.extended_days) == (original + timedelta(days=92), 92)

    before = snapshot(ctx.session, case)
    with pytest.raises(InvalidInput) as refused:
        extend_deadline(ctx, feedback, lead, 1, "Just one more day.")
    assert refused.value.errors == {"days": Code.NO_EXTENSION_LEFT}
    assert snapshot(ctx.session, case) == before
    assert [e.payload["days"] for e in events_of(ctx.session, case, "deadline_extended")] == [
        60,
        32,
    ]


@pytest.mark.parametrize("days", [0, -5])
def test_an_extension_is_of_at_least_one_day(ctx, staffed, days):
    _, lead, _ = staffed
    case = acknowledged(ctx, staffed)
    feedback = open_deadline(ctx.session, case, "feedback")
    before = snapshot(ctx.session, case)
    with pytest.raises(InvalidInput):
        extend_deadline(ctx, feedback, lead, days, "Reasons.")
    assert snapshot(ctx.session, case) == before


def test_acknowledging_cannot_be_extended(ctx, staffed):
    filed, lead, _ = staffed
    acknowledge = open_deadline(ctx.session, filed.case, "acknowledge")
    before = snapshot(ctx.session, filed.case)
    with pytest.raises(InvalidInput) as refused:
        extend_deadline(ctx, acknowledge, lead, 1, "Too busy.")
    assert refused.value.errors == {"days": Code.NO_EXTENSION_LEFT}
    assert snapshot(ctx.session, filed.case) == before


def test_an_extension_needs_a_reason(ctx, staffed):
    _, lead, _ = staffed
    case = acknowledged(ctx, staffed)
    feedback = open_deadline(ctx.session, case, "feedback")
    before = snapshot(ctx.session, case)
    with pytest.raises(ReasonRequired):
        extend_deadline(ctx, feedback, lead, 10, " \n ")
    assert snapshot(ctx.session, case) == before


def test_a_missed_time_limit_cannot_be_extended(ctx, clock, staffed):
    _, lead, _ = staffed
    case = acknowledged(ctx, staffed)
    feedback = open_deadline(ctx.session, case, "feedback")
    due = feedback.due_at

    clock.set(due + timedelta(microseconds=1))
    before = snapshot(ctx.session, case)
    with pytest.raises(ServiceError, match="missed") as refused:
        extend_deadline(ctx, feedback, lead, 10, "The audit slipped.")
    assert type(refused.value) is ServiceError
    assert snapshot(ctx.session, case) == before

    clock.set(due)  # on the dot, it is still running
    assert extend_deadline(ctx, feedback, lead, 10, "The audit slipped.").due_at == due + timedelta(
        days=10
    )


def test_a_closed_time_limit_cannot_be_extended(ctx, staffed):
    filed, lead, _ = staffed
    acknowledge = open_deadline(ctx.session, filed.case, "acknowledge")
    case = acknowledged(ctx, staffed)
    before = snapshot(ctx.session, case)
    with pytest.raises(ServiceError, match="no longer running"):
        extend_deadline(ctx, acknowledge, lead, 1, "Reasons.")
    assert snapshot(ctx.session, case) == before


# -- who may -------------------------------------------------------------------------


def _outsiders(ctx, case: Case) -> dict[str, Actor]:
    company = make_company(ctx, case.mechanism, name="Stitch Ltd")
    involvement.add_company(ctx, case, company, SYSTEM)
    other_mechanism = make_mechanism(ctx, code="OUT")
    return {
        "company of the case": Actor.for_user(make_user(ctx, Role.COMPANY, company=company)),
        "admin": Actor.for_user(make_user(ctx, Role.ADMIN)),
        "complainant": Actor.for_complainant(case.complainants[0]),
        "reviewer not assigned": Actor.for_user(make_reviewer(ctx)),
        "secretariat of another mechanism": Actor.for_user(
            make_user(ctx, Role.SECRETARIAT, mechanisms=[other_mechanism])
        ),
    }


OUTSIDERS = [
    "company of the case",
    "admin",
    "complainant",
    "reviewer not assigned",
    "secretariat of another mechanism",
]


@pytest.mark.parametrize("who", OUTSIDERS)
@pytest.mark.parametrize("change", ["pause", "resume", "extend"])
def test_only_the_reviewers_and_the_secretariat_keep_the_clock(ctx, staffed, who, change):
    _, lead, _ = staffed
    case = acknowledged(ctx, staffed)
    actor = _outsiders(ctx, case)[who]
    if change == "resume":
        pause_clock(ctx, case, lead, "Waiting.")
    feedback = open_deadline(ctx.session, case, "feedback")
    before = snapshot(ctx.session, case)
    act = {
        "pause": lambda: pause_clock(ctx, case, actor, "Waiting."),
        "resume": lambda: resume_clock(ctx, case, actor),
        "extend": lambda: extend_deadline(ctx, feedback, actor, 5, "Reasons."),
    }[change]
    with pytest.raises(NotAllowed):
        act()
    assert snapshot(ctx.session, case) == before


# -- business days --------------------------------------------------------------------

HOLIDAYS = ["2026-03-09", "2026-03-13"]  # a Monday and a Friday


def business_mechanism(ctx, code: str = "BUS", holidays: list[str] | None = None):
    return make_mechanism(
        ctx,
        code=code,
        overrides={"calendar": {"business_days": True, "holidays": holidays or HOLIDAYS}},
    )


def test_a_mechanism_counting_business_days_sets_the_acknowledge_deadline_on_one(ctx, clock):
    """Filed on Thursday 5 March 2026 at 18:00 in Amsterdam: 7 business days, without the
    weekends and the holidays of 9 and 13 March, end on Wednesday 18 March, at 18:00."""
    clock.set(datetime(2026, 3, 5, 17, 0, tzinfo=UTC))
    filed, _, _ = staff_case(ctx, mechanism=business_mechanism(ctx))
    acknowledge = open_deadline(ctx.session, filed.case, "acknowledge")
    due = datetime(2026, 3, 18, 17, 0, tzinfo=UTC)
    assert acknowledge.due_at == due
    assert acknowledge.remind_at == clock.now() + (due - clock.now()) * 0.714
    event = events_of(ctx.session, filed.case, "case_filed")[0]
    assert {"code": "acknowledge", "due_at": iso(due)} in event.payload["deadlines_opened"]

    # the same filing in a mechanism counting calendar days: 12 March
    other, _, _ = staff_case(ctx, mechanism=make_mechanism(ctx, code="CAL"))
    assert open_deadline(ctx.session, other.case, "acknowledge").due_at == datetime(
        2026, 3, 12, 17, 0, tzinfo=UTC
    )


def test_a_business_day_mechanism_rolls_month_limits_to_a_business_day(ctx, clock):
    """Acknowledged on Saturday 7 March, 11:00 in Amsterdam: feedback 3 months later is
    Sunday 7 June, which rolls to Monday 8 June, a holiday there, and so to Tuesday 9 June,
    11:00 local time, now summer time (09:00 UTC)."""
    mechanism = business_mechanism(ctx, holidays=["2026-06-08"])
    filed, lead, _ = staff_case(ctx, mechanism=mechanism)
    clock.set(datetime(2026, 3, 7, 10, 0, tzinfo=UTC))
    case = cases.transition(ctx, filed.case, Stage.ACKNOWLEDGED, Actor.for_user(lead))
    assert open_deadline(ctx.session, case, "feedback").due_at == datetime(
        2026, 6, 9, 9, 0, tzinfo=UTC
    )


def test_an_extension_counts_business_days_where_the_mechanism_does(ctx, clock):
    """Admissibility: 90 business days from Monday 2 March 2026, 10:00 in Amsterdam, is
    Monday 6 July, 10:00 summer time. Five more business days, Thursday 9 July a
    holiday, end on Tuesday 14 July."""
    mechanism = business_mechanism(ctx, holidays=["2026-07-09"])
    filed, lead, _ = staff_case(ctx, mechanism=mechanism)
    admissibility = open_deadline(ctx.session, filed.case, "admissibility")
    assert admissibility.due_at == datetime(2026, 7, 6, 8, 0, tzinfo=UTC)
    remind = admissibility.remind_at

    extended = extend_deadline(ctx, admissibility, Actor.for_user(lead), 5, "Site visit.")
    new_due = datetime(2026, 7, 14, 8, 0, tzinfo=UTC)
    assert extended.due_at == new_due
    assert extended.remind_at == remind + (new_due - datetime(2026, 7, 6, 8, 0, tzinfo=UTC))
    assert extended.extended_days == 5  # business days, as asked
    (event,) = events_of(ctx.session, filed.case, "deadline_extended")
    assert event.payload["due_at"] == iso(new_due)
    assert event.payload["previous_due_at"] == iso(datetime(2026, 7, 6, 8, 0, tzinfo=UTC))
    assert date(2026, 7, 14).isoweekday() == 2


def test_limits_opened_while_the_clock_is_stopped_start_stopped(ctx, clock, staffed):
    """The case moves on while the mechanism waits for the complainant: the new stage's
    pausable limits open stopped, and start when the clock restarts."""
    filed, lead, _ = staffed
    case = cases.transition(ctx, filed.case, Stage.ACKNOWLEDGED, lead)
    pause_clock(ctx, case, lead, "Waiting for the pay slips.")
    clock.advance(days=2)
    case = cases.transition(ctx, case, Stage.ADMISSIBILITY, lead)
    case = cases.transition(ctx, case, Stage.INVESTIGATION, lead, "Admissible.")
    decision = by_code_open(ctx, case)["decision"]
    assert decision.paused_at == clock.now()
    opened_at, due = decision.opened_at, decision.due_at
    clock.advance(days=10)
    resume_clock(ctx, case, lead)
    ctx.session.refresh(decision)
    assert decision.paused_at is None
    assert decision.due_at == due + timedelta(days=10)
    assert decision.opened_at == opened_at


def by_code_open(ctx, case: Case) -> dict[str, Deadline]:
    rows = ctx.session.scalars(
        select(Deadline).where(Deadline.case_id == case.id, Deadline.state == DeadlineState.OPEN)
    )
    return {row.code: row for row in rows}
