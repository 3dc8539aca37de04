"""Deadlines as rows: opened, met, missed and waived as a case moves and as messages are
sent, each change listed in the payload of the event that made it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from grievance.models import (
    Case,
    CaseEvent,
    Channel,
    ConsultationAnswer,
    Deadline,
    DeadlineState,
    Role,
    Stage,
)
from grievance.services import (
    caselog,
    cases,
    hearing,
    involvement,
    lifecycle,
    messages,
    remedy,
    remedy_delivery,
    remedy_plan,
)
from grievance.services.actors import SYSTEM, Actor
from grievance.services.deadlines import add_months
from grievance.services.errors import NotAllowed
from tests.conftest import START
from tests.factories import make_company, make_user, staff_case, walk_to

MET, MISSED, WAIVED, OPEN = (
    DeadlineState.MET,
    DeadlineState.MISSED,
    DeadlineState.WAIVED,
    DeadlineState.OPEN,
)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def deadlines(ctx, case: Case, state: DeadlineState | None = None) -> list[Deadline]:
    query = select(Deadline).where(Deadline.case_id == case.id).order_by(Deadline.id)
    if state is not None:
        query = query.where(Deadline.state == state)
    return list(ctx.session.scalars(query))


def by_code(rows: list[Deadline]) -> dict[str, Deadline]:
    codes = [row.code for row in rows]
    assert len(codes) == len(set(codes)), codes
    return {row.code: row for row in rows}


def last_event(ctx, case: Case) -> CaseEvent:
    return ctx.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq.desc())
    ).first()


@pytest.fixture
def staffed(ctx):
    """A filed case, and its lead and second reviewers as actors."""
    filed, lead, second = staff_case(ctx)
    return filed, Actor.for_user(lead), Actor.for_user(second)


def _acknowledge(ctx, staffed) -> Case:
    filed, lead, _ = staffed
    return cases.transition(ctx, filed.case, Stage.ACKNOWLEDGED, lead)


# -- stage changes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "state"),
    [
        (timedelta(days=2), MET),
        (timedelta(days=7), MET),  # on the dot is in time
        (timedelta(days=7, seconds=1), MISSED),
        (timedelta(days=8), MISSED),
    ],
    ids=["day 2", "day 7 exactly", "a second late", "day 8"],
)
def test_acknowledging_closes_the_acknowledge_deadline(ctx, clock, staffed, after, state):
    clock.advance(after)
    now = clock.now()
    case = _acknowledge(ctx, staffed)

    rows = by_code(deadlines(ctx, case))
    acknowledge = rows["acknowledge"]
    assert (acknowledge.state, acknowledge.closed_at) == (state, now)
    assert rows["admissibility"].state is OPEN, "not ended by acknowledging"
    assert (rows["progress_update"].state, rows["progress_update"].opened_at) == (OPEN, now)
    assert rows["progress_update"].due_at == now + timedelta(days=30)
    assert rows["feedback"].due_at == add_months(now, 3)
    assert case.acknowledged_at == now

    event = last_event(ctx, case)
    assert event.kind == "stage_changed"
    assert event.payload["deadlines_closed"] == [{"code": "acknowledge", "state": state.value}]
    assert event.payload["deadlines_opened"] == [
        {"code": "progress_update", "due_at": iso(now + timedelta(days=30))},
        {"code": "feedback", "due_at": iso(add_months(now, 3))},
    ]


def test_a_move_that_touches_no_deadline_lists_none(ctx, staffed):
    filed, lead, _ = staffed
    _acknowledge(ctx, staffed)
    before = [(d.id, d.state) for d in deadlines(ctx, filed.case)]
    case = cases.transition(ctx, filed.case, Stage.ADMISSIBILITY, lead)
    assert [(d.id, d.state) for d in deadlines(ctx, case)] == before
    payload = last_event(ctx, case).payload
    assert "deadlines_opened" not in payload
    assert "deadlines_closed" not in payload


@pytest.mark.parametrize(
    ("stage", "code", "due"),
    [
        (Stage.INVESTIGATION, "decision", lambda now: add_months(now, 3)),
        (Stage.DIALOGUE, "dialogue", lambda now: add_months(now, 6)),
        (Stage.REMEDY_PLAN, "remedy_plan", lambda now: now + timedelta(days=60)),
        (Stage.APPEAL, "appeal_decision", lambda now: now + timedelta(days=60)),
    ],
    ids=str,
)
def test_entering_a_stage_opens_its_time_limit(ctx, clock, stage, code, due):
    filed, lead, second = staff_case(ctx)
    clock.set(datetime(2026, 8, 31, 10, 0, tzinfo=UTC))
    now = clock.now()
    case = walk_to(ctx, filed, stage, lead, second)
    opened = by_code(deadlines(ctx, case, OPEN))[code]
    assert (opened.opened_at, opened.due_at) == (now, due(now))
    assert {"code": code, "due_at": iso(due(now))} in last_event(ctx, case).payload[
        "deadlines_opened"
    ]


def test_re_entering_a_stage_keeps_its_running_limit(ctx, clock):
    """investigation -> dialogue -> investigation: the decision's time limit, still open,
    keeps running; it is neither restarted nor opened twice (which broke the unique
    index of open deadlines)."""
    filed, lead, second = staff_case(ctx)
    case = walk_to(ctx, filed, Stage.INVESTIGATION, lead, second)
    decision = by_code(deadlines(ctx, case, OPEN))["decision"]
    due = decision.due_at
    reviewer = Actor.for_user(lead)
    clock.advance(days=10)
    hearing.record_hearing(ctx, case, reviewer, heard=True, note="By phone.")  # R08
    cases.transition(ctx, case, Stage.DIALOGUE, reviewer)
    clock.advance(days=20)
    case = cases.transition(ctx, case, Stage.INVESTIGATION, reviewer, "No agreement.")

    assert case.stage is Stage.INVESTIGATION
    rows = [d for d in deadlines(ctx, case) if d.code == "decision"]
    assert [(d.id, d.state, d.due_at) for d in rows] == [(decision.id, OPEN, due)]
    assert by_code(deadlines(ctx, case))["dialogue"].state is MET
    payload = last_event(ctx, case).payload
    assert payload["deadlines_closed"] == [{"code": "dialogue", "state": "met"}]
    assert "deadlines_opened" not in payload


def test_ending_a_case_by_withdrawal_waives_its_open_deadlines(ctx, clock, staffed):
    filed, _, _ = staffed
    clock.advance(days=3)
    complainant = Actor.for_complainant(filed.complainant)
    case = cases.transition(ctx, filed.case, Stage.WITHDRAWN, complainant, "Found another job.")
    rows = by_code(deadlines(ctx, case))
    for code in ("acknowledge", "admissibility"):
        assert rows[code].state is WAIVED
        assert rows[code].note == "case withdrawn"
        assert rows[code].closed_at == clock.now()
    assert deadlines(ctx, case, OPEN) == []
    payload = last_event(ctx, case).payload
    assert payload["deadlines_closed"] == [
        {"code": "acknowledge", "state": "waived"},
        {"code": "admissibility", "state": "waived"},
    ]
    assert "deadlines_opened" not in payload


def test_an_inadmissible_decision_meets_what_it_ends_and_waives_the_rest(ctx, clock, staffed):
    filed, lead, second = staffed
    _acknowledge(ctx, staffed)
    cases.transition(ctx, filed.case, Stage.ADMISSIBILITY, lead)
    clock.advance(days=20)
    proposal = cases.propose_decision(ctx, filed.case, Stage.INADMISSIBLE, lead, "Out of scope.")
    case = cases.confirm_decision(ctx, proposal, second)

    rows = by_code(deadlines(ctx, case))
    assert rows["admissibility"].state is MET  # inadmissible is one of its ends
    assert rows["feedback"].state is MET  # so is it of feedback
    assert rows["progress_update"].state is WAIVED
    assert rows["progress_update"].note == "case inadmissible"
    assert {rows[c].closed_at for c in ("admissibility", "feedback", "progress_update")} == {
        clock.now()
    }
    assert deadlines(ctx, case, OPEN) == []
    closed = last_event(ctx, case).payload["deadlines_closed"]
    assert sorted(closed, key=lambda d: d["code"]) == [
        {"code": "admissibility", "state": "met"},
        {"code": "feedback", "state": "met"},
        {"code": "progress_update", "state": "waived"},
    ]


def test_a_late_decision_is_missed_not_met(ctx, clock, staffed):
    filed, lead, _ = staffed
    _acknowledge(ctx, staffed)
    cases.transition(ctx, filed.case, Stage.ADMISSIBILITY, lead)
    clock.advance(days=91)
    case = cases.transition(ctx, filed.case, Stage.INVESTIGATION, lead, "Admissible.")
    rows = by_code(deadlines(ctx, case))
    assert rows["admissibility"].state is MISSED
    assert {"code": "admissibility", "state": "missed"} in last_event(ctx, case).payload[
        "deadlines_closed"
    ]


def test_closing_a_case_opens_the_satisfaction_check_six_months_later(ctx, clock, staffed):
    filed, lead, second = staffed
    _acknowledge(ctx, staffed)
    cases.transition(ctx, filed.case, Stage.ADMISSIBILITY, lead)
    cases.transition(ctx, filed.case, Stage.INVESTIGATION, lead, "Admissible.")
    hearing.record_hearing(ctx, filed.case, lead, heard=True, note="By phone.")  # R08
    proposal = cases.propose_decision(ctx, filed.case, Stage.FINDINGS, lead, "Unpaid wages.")
    cases.confirm_decision(ctx, proposal, second)
    clock.set(datetime(2026, 8, 31, 9, 0, tzinfo=UTC))
    proposal = cases.propose_decision(ctx, filed.case, Stage.CLOSED, lead, "Paid in full.")
    case = cases.confirm_decision(ctx, proposal, second)

    open_rows = by_code(deadlines(ctx, case, OPEN))
    assert list(open_rows) == ["satisfaction_check"]
    check = open_rows["satisfaction_check"]
    due = datetime(2027, 2, 28, 9, 0, tzinfo=UTC)
    assert (check.opened_at, check.due_at) == (clock.now(), due)
    progress = by_code(deadlines(ctx, case))["progress_update"]
    assert (progress.state, progress.note) == (WAIVED, "case closed")
    payload = last_event(ctx, case).payload
    assert payload["deadlines_opened"] == [{"code": "satisfaction_check", "due_at": iso(due)}]
    assert payload["deadlines_closed"] == [{"code": "progress_update", "state": "waived"}]


# -- messages -------------------------------------------------------------------------


def test_a_message_to_the_complainant_meets_the_progress_update_and_opens_the_next(
    ctx, clock, staffed
):
    _, lead, _ = staffed
    case = _acknowledge(ctx, staffed)
    first = by_code(deadlines(ctx, case, OPEN))["progress_update"]
    assert first.due_at == START + timedelta(days=30)

    clock.advance(days=10)
    sent = clock.now()
    messages.add_message(ctx, case, lead, "We are looking into it.", Channel.SMS)
    ctx.session.refresh(first)
    assert (first.state, first.closed_at) == (MET, sent)
    second = by_code(deadlines(ctx, case, OPEN))["progress_update"]
    assert second.id != first.id
    assert (second.opened_at, second.due_at) == (sent, sent + timedelta(days=30))
    event = last_event(ctx, case)
    assert event.kind == "message_to_complainant"
    assert event.payload["deadlines_closed"] == [{"code": "progress_update", "state": "met"}]
    assert event.payload["deadlines_opened"] == [
        {"code": "progress_update", "due_at": iso(sent + timedelta(days=30))}
    ]

    # recurring: the next one is due 30 days after this message; sent late, it is missed
    clock.advance(days=31)
    late = clock.now()
    messages.add_message(ctx, case, lead, "Still working on it.", Channel.SMS)
    ctx.session.refresh(second)
    assert (second.state, second.closed_at) == (MISSED, late)
    third = by_code(deadlines(ctx, case, OPEN))["progress_update"]
    assert third.due_at == late + timedelta(days=30)
    assert last_event(ctx, case).payload["deadlines_closed"] == [
        {"code": "progress_update", "state": "missed"}
    ]
    assert len([d for d in deadlines(ctx, case) if d.code == "progress_update"]) == 3


def test_the_secretariat_writing_also_counts_as_an_update(ctx, clock, staffed):
    case = _acknowledge(ctx, staffed)
    secretariat = make_user(ctx, Role.SECRETARIAT, mechanisms=[case.mechanism])
    clock.advance(days=1)
    messages.add_message(ctx, case, Actor.for_user(secretariat), "Received.", Channel.WEB)
    states = [d.state for d in deadlines(ctx, case) if d.code == "progress_update"]
    assert states == [MET, OPEN]


def test_a_message_from_the_complainant_meets_no_deadline(ctx, clock, staffed):
    filed, _, _ = staffed
    case = _acknowledge(ctx, staffed)
    before = [(d.id, d.state, d.due_at) for d in deadlines(ctx, case)]
    clock.advance(days=3)
    complainant = Actor.for_complainant(filed.complainant)
    messages.add_message(ctx, case, complainant, "Any news?", Channel.SMS)
    assert [(d.id, d.state, d.due_at) for d in deadlines(ctx, case)] == before
    event = last_event(ctx, case)
    assert event.kind == "message_from_complainant"
    assert "deadlines_closed" not in event.payload
    assert "deadlines_opened" not in event.payload


def test_a_message_before_acknowledgement_opens_nothing(ctx, staffed):
    filed, lead, _ = staffed
    before = [(d.id, d.state) for d in deadlines(ctx, filed.case)]
    messages.add_message(ctx, filed.case, lead, "We got your complaint.", Channel.SMS)
    assert [(d.id, d.state) for d in deadlines(ctx, filed.case)] == before
    assert "deadlines_opened" not in last_event(ctx, filed.case).payload


# -- every change is in the log -------------------------------------------------------


def test_every_deadline_change_is_listed_in_exactly_one_event(ctx, clock, staffed):
    """Walk a case to closed, with time passing and messages sent on the way: the events'
    payloads account for every deadline row opened and every one closed."""
    filed, lead, second = staffed
    case = filed.case
    steps = [
        (timedelta(days=9), Stage.ACKNOWLEDGED),
        (timedelta(days=20), "message"),
        (timedelta(days=5), Stage.ADMISSIBILITY),
        (timedelta(days=50), Stage.INVESTIGATION),
        (timedelta(days=45), "message"),
        (timedelta(days=60), Stage.FINDINGS),
        (timedelta(days=3), Stage.REMEDY_PLAN),
        (timedelta(days=70), Stage.REMEDY_IMPLEMENTATION),
        (timedelta(days=30), Stage.REMEDY_VERIFICATION),
        (timedelta(days=10), Stage.CLOSED),
    ]
    for wait, step in steps:
        clock.advance(wait)
        if step == "message":
            messages.add_message(ctx, case, lead, "An update.", Channel.SMS)
            continue
        move = lifecycle.find(case.stage, step)
        if move.hears_complainant:  # R08: heard before the findings
            hearing.record_hearing(ctx, case, lead, heard=True, note="By phone.")
        if step is Stage.REMEDY_IMPLEMENTATION:  # a plan with a dated item, approved
            company = make_company(ctx, case.mechanism)
            involvement.add_company(ctx, case, company, lead)
            item = remedy_plan.ItemInput(
                "apology",
                "An apology.",
                company.id,
                due_on=(clock.now() + timedelta(days=20)).date(),
            )
            action = remedy_plan.draft_item(ctx, case, lead, item)
            remedy_plan.put_to_complainant(ctx, case, lead)
            complainant = Actor.for_complainant(filed.complainant)
            remedy_plan.answer(ctx, case, complainant, ConsultationAnswer.AGREE, "web")
            remedy_plan.propose_approval(ctx, case, lead, "Agreed.")
            remedy_plan.confirm_approval(ctx, case, second)
        elif move.four_eyes:
            proposal = cases.propose_decision(ctx, case, step, lead, "Reasons.")
            case = cases.confirm_decision(ctx, proposal, second)
        else:
            if step is Stage.REMEDY_VERIFICATION:  # done late: its time limit is missed
                user = Actor.for_user(make_user(ctx, Role.COMPANY, company=company))
                remedy_delivery.report_progress(ctx, action, user, "Done.", completed=True)
                remedy_delivery.verify(ctx, action, lead)
            case = cases.transition(ctx, case, step, lead, "Reasons.")
    assert case.stage is Stage.CLOSED

    opened_in_log, closed_in_log = Counter(), Counter()
    for event in ctx.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)):
        for item in event.payload.get("deadlines_opened", []):
            opened_in_log[item["code"], item["due_at"]] += 1
        for item in event.payload.get("deadlines_closed", []):
            closed_in_log[item["code"], item["state"]] += 1
    rows = deadlines(ctx, case)
    assert opened_in_log == Counter((d.code, iso(d.due_at)) for d in rows)
    assert closed_in_log == Counter((d.code, d.state.value) for d in rows if d.state is not OPEN)
    assert {state for _, state in closed_in_log} == {"met", "missed", "waived"}
    assert caselog.verify_case(ctx.session, case) is None


# -- feedback and satisfaction --------------------------------------------------------


def test_feedback_meets_the_feedback_and_the_progress_limits(ctx, clock, staffed):
    _, lead, _ = staffed
    case = _acknowledge(ctx, staffed)
    clock.advance(days=40)
    messages.add_message(
        ctx, case, lead, "We asked the factory for records.", Channel.WEB, feedback=True
    )
    rows = by_code([d for d in deadlines(ctx, case) if d.state is not OPEN])
    assert rows["feedback"].state is MET
    assert rows["progress_update"].state is MISSED  # 40 days after the last update
    event = last_event(ctx, case)
    assert event.kind == "feedback_given"
    assert {d["code"] for d in event.payload["deadlines_closed"]} == {"feedback", "progress_update"}


def test_only_reviewers_give_feedback(ctx, staffed):
    filed, _, _ = staffed
    case = _acknowledge(ctx, staffed)
    complainant = Actor.for_complainant(filed.complainant)
    with pytest.raises(NotAllowed):
        messages.add_message(ctx, case, complainant, "Thanks", Channel.WEB, feedback=True)


def test_the_satisfaction_answer_meets_the_satisfaction_check(ctx, clock):
    filed, lead, second = staff_case(ctx)
    case = walk_to(ctx, filed, Stage.CLOSED, lead, second)
    check = by_code(deadlines(ctx, case, OPEN))["satisfaction_check"]
    assert check.due_at == add_months(clock.now(), 6)
    clock.advance(days=100)
    complainant = Actor.for_complainant(filed.complainant)
    remedy.record_satisfaction(ctx, case, complainant, remedy.Satisfaction.PARTLY)
    ctx.session.refresh(check)
    assert check.state is MET
    event = last_event(ctx, case)
    assert (event.kind, event.payload["response"]) == ("satisfaction_recorded", "partly")
    assert event.visibility.label == "parties"
    with pytest.raises(NotAllowed):
        remedy.record_satisfaction(ctx, case, SYSTEM, remedy.Satisfaction.YES)
