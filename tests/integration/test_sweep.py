"""The deadline sweep (R04, R10; DESIGN invariant 5), with the clock injected: reviewers
are reminded after the policy's share of the time, the secretariat is told when a time
limit is breached, each exactly once however often the sweep runs, in due order after
an outage, and every notice is in the case's log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from grievance.models import (
    Case,
    CaseEvent,
    Deadline,
    DeadlineNotice,
    DeadlineState,
    Mechanism,
    NoticeKind,
    Role,
    StaffNotification,
    Stage,
    User,
    Visibility,
)
from grievance.services import caselog, cases, timekeeping
from grievance.services.actors import Actor
from grievance.services.sweep import SweepResult, sweep_deadlines
from tests.conftest import START
from tests.factories import (
    events_of,
    make_mechanism,
    make_secretariat,
    make_user,
    new_case,
    open_deadline,
    staff_case,
)

REMINDER, ESCALATION = NoticeKind.REMINDER, NoticeKind.ESCALATION
#: 0.714 of the 7 days to acknowledge (R04: a reminder on day 5).
ACK_REMINDER = timedelta(seconds=431_827, microseconds=200_000)
ACK_DUE = timedelta(days=7)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class World:
    mechanism: Mechanism
    secretariat: list[User]  # active, of this mechanism
    retired: User  # a secretariat user of this mechanism who no longer works
    elsewhere: User  # the secretariat of another mechanism

    @property
    def secretariat_ids(self) -> list[int]:
        return sorted(user.id for user in self.secretariat)


@pytest.fixture
def world(ctx) -> World:
    mechanism = make_mechanism(ctx, code="SWP")
    secretariat = make_secretariat(ctx, mechanism, count=2)
    (retired,) = make_secretariat(ctx, mechanism)
    retired.active = False
    elsewhere = make_user(ctx, Role.SECRETARIAT, mechanisms=[make_mechanism(ctx, code="OTH")])
    ctx.session.flush()
    return World(mechanism, secretariat, retired, elsewhere)


def sweep_at(ctx, clock, moment: datetime, **options) -> SweepResult:
    clock.set(moment)
    return sweep_deadlines(ctx, **options)


def notices(session) -> list[tuple[int, str, NoticeKind, datetime]]:
    """(case id, time limit, kind, when) of every notice, in the order they were made."""
    rows = session.execute(
        select(Deadline.case_id, Deadline.code, DeadlineNotice.kind, DeadlineNotice.created_at)
        .join(Deadline, Deadline.id == DeadlineNotice.deadline_id)
        .order_by(DeadlineNotice.id)
    )
    return [tuple(row) for row in rows]


def notified(session, case_id: int, kind: str) -> list[int]:
    """The users told about a case, by kind of notification (sorted user ids)."""
    return list(
        session.scalars(
            select(StaffNotification.user_id)
            .where(StaffNotification.case_id == case_id, StaffNotification.kind == kind)
            .order_by(StaffNotification.user_id)
        )
    )


def counts(session) -> tuple[int, int, int]:
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (DeadlineNotice, StaffNotification, CaseEvent)
    )


def insert(session, row: object) -> None:
    """Add a row in a savepoint, so that a refusal leaves the session usable."""
    with session.begin_nested():
        session.add(row)
        session.flush()


def assert_chains_verify(session) -> None:
    assert list(caselog.verify_all(session)) == []


# -- reminders ------------------------------------------------------------------------


def test_the_reminder_comes_at_the_configured_share_of_the_time_and_not_before(ctx, clock, world):
    filed, lead, second = staff_case(ctx, mechanism=world.mechanism)
    case = filed.case
    acknowledge = open_deadline(ctx.session, case, "acknowledge")
    assert acknowledge.remind_at == START + ACK_REMINDER
    events_before = case.event_count

    assert sweep_at(ctx, clock, START + ACK_REMINDER - timedelta(seconds=1)) == SweepResult()
    assert notices(ctx.session) == []
    assert notified(ctx.session, case.id, "deadline_reminder") == []
    assert case.event_count == events_before

    moment = START + ACK_REMINDER
    assert sweep_at(ctx, clock, moment) == SweepResult(reminders=1)
    assert notices(ctx.session) == [(case.id, "acknowledge", REMINDER, moment)]
    reviewers = sorted([lead.id, second.id])
    assert notified(ctx.session, case.id, "deadline_reminder") == reviewers  # not the secretariat
    row = ctx.session.scalars(
        select(StaffNotification).where(StaffNotification.kind == "deadline_reminder")
    ).first()
    assert (row.deadline_id, row.created_at, row.read_at) == (acknowledge.id, moment, None)
    ctx.session.refresh(acknowledge)
    assert (acknowledge.reminded_at, acknowledge.escalated_at) == (moment, None)
    assert acknowledge.state is DeadlineState.OPEN

    (event,) = events_of(ctx.session, case, "deadline_reminder")
    assert event.seq == events_before + 1
    assert (event.actor_role, event.created_at, event.visibility) == (
        Role.SYSTEM,
        moment,
        Visibility.REVIEWERS,
    )
    assert event.payload == {
        "code": "acknowledge",
        "due_at": iso(START + ACK_DUE),
        "notified": reviewers,
    }
    assert caselog.visible_payload(event, Visibility.PARTIES) is None  # staff business
    assert "notified" not in caselog.visible_payload(event, Visibility.REVIEWERS)
    assert_chains_verify(ctx.session)


def test_a_reminder_for_a_case_without_reviewers_goes_to_the_secretariat(ctx, clock, world):
    filed = new_case(ctx, world.mechanism)
    sweep_at(ctx, clock, START + ACK_REMINDER)
    assert notified(ctx.session, filed.case.id, "deadline_reminder") == world.secretariat_ids
    (event,) = events_of(ctx.session, filed.case, "deadline_reminder")
    assert event.payload["notified"] == world.secretariat_ids
    assert_chains_verify(ctx.session)


def test_a_reviewer_who_recused_is_not_reminded(ctx, clock, world):
    filed, lead, second = staff_case(ctx, mechanism=world.mechanism)
    cases.recuse(ctx, filed.case, Actor.for_user(lead), "My cousin runs the factory.")
    sweep_at(ctx, clock, START + ACK_REMINDER)
    assert notified(ctx.session, filed.case.id, "deadline_reminder") == [second.id]


# -- escalations ----------------------------------------------------------------------


def test_an_unacknowledged_case_is_escalated_to_the_secretariat_on_day_seven(ctx, clock, world):
    filed, lead, second = staff_case(ctx, mechanism=world.mechanism)
    case = filed.case
    assert sweep_at(ctx, clock, START + ACK_DUE - timedelta(seconds=1)) == SweepResult(reminders=1)
    assert notified(ctx.session, case.id, "deadline_escalated") == []

    moment = START + ACK_DUE
    assert sweep_at(ctx, clock, moment) == SweepResult(escalations=1)
    assert [n[1:3] for n in notices(ctx.session)] == [
        ("acknowledge", REMINDER),
        ("acknowledge", ESCALATION),
    ]
    # the secretariat of this mechanism (those still active), and the reviewers
    expected = sorted([*world.secretariat_ids, lead.id, second.id])
    assert notified(ctx.session, case.id, "deadline_escalated") == expected
    assert world.retired.id not in expected
    assert world.elsewhere.id not in expected

    acknowledge = open_deadline(ctx.session, case, "acknowledge")
    assert acknowledge.escalated_at == moment
    assert acknowledge.state is DeadlineState.OPEN  # missed only when acknowledged late
    (event,) = events_of(ctx.session, case, "deadline_escalated")
    assert event.payload == {
        "code": "acknowledge",
        "due_at": iso(moment),
        "notified": expected,
    }
    assert event.visibility is Visibility.REVIEWERS
    assert_chains_verify(ctx.session)


def test_an_escalation_for_a_case_without_reviewers_goes_to_the_secretariat(ctx, clock, world):
    filed = new_case(ctx, world.mechanism)
    sweep_at(ctx, clock, START + ACK_DUE)
    for kind in ("deadline_reminder", "deadline_escalated"):
        assert notified(ctx.session, filed.case.id, kind) == world.secretariat_ids


@pytest.mark.parametrize(
    ("acknowledged_after", "sent"),
    [
        (timedelta(days=3), []),
        (timedelta(days=6), [("acknowledge", REMINDER)]),
        (ACK_DUE, [("acknowledge", REMINDER)]),  # on the dot is in time
    ],
    ids=["before the reminder", "after the reminder", "on the dot"],
)
def test_acknowledging_in_time_means_no_escalation(ctx, clock, world, acknowledged_after, sent):
    filed, lead, _ = staff_case(ctx, mechanism=world.mechanism)
    if acknowledged_after > ACK_REMINDER:
        sweep_at(ctx, clock, START + ACK_REMINDER)
    clock.set(START + acknowledged_after)
    cases.transition(ctx, filed.case, Stage.ACKNOWLEDGED, Actor.for_user(lead))
    for later in (timedelta(days=8), timedelta(days=9)):
        sweep_at(ctx, clock, START + later)
    assert [n[1:3] for n in notices(ctx.session)] == sent
    assert notified(ctx.session, filed.case.id, "deadline_escalated") == []
    assert events_of(ctx.session, filed.case, "deadline_escalated") == []


def test_an_ended_case_is_not_swept(ctx, clock, world):
    filed, _, _ = staff_case(ctx, mechanism=world.mechanism)
    clock.set(START + timedelta(days=1))
    complainant = Actor.for_complainant(filed.complainant)
    cases.transition(ctx, filed.case, Stage.WITHDRAWN, complainant, "Settled elsewhere.")
    assert sweep_at(ctx, clock, START + timedelta(days=200)) == SweepResult()
    assert notices(ctx.session) == []


# -- exactly once ---------------------------------------------------------------------


def test_a_second_sweep_sends_nothing(ctx, clock, world):
    filed, _, _ = staff_case(ctx, mechanism=world.mechanism)
    new_case(ctx, world.mechanism)
    assert sweep_at(ctx, clock, START + timedelta(days=8)) == SweepResult(2, 2)
    sent = counts(ctx.session)
    assert sweep_at(ctx, clock, START + timedelta(days=8)) == SweepResult()
    assert sweep_at(ctx, clock, START + timedelta(days=8, hours=1)) == SweepResult()
    assert counts(ctx.session) == sent
    assert len(events_of(ctx.session, filed.case, "deadline_reminder")) == 1
    assert len(events_of(ctx.session, filed.case, "deadline_escalated")) == 1
    assert_chains_verify(ctx.session)


def test_the_database_refuses_a_second_notice_of_a_kind(ctx, clock, world):
    filed, lead, _ = staff_case(ctx, mechanism=world.mechanism)
    sweep_at(ctx, clock, START + ACK_REMINDER)
    acknowledge = open_deadline(ctx.session, filed.case, "acknowledge")
    with pytest.raises(IntegrityError):
        insert(
            ctx.session,
            DeadlineNotice(deadline_id=acknowledge.id, kind=REMINDER, created_at=clock.now()),
        )
    with pytest.raises(IntegrityError):
        insert(
            ctx.session,
            StaffNotification(
                user_id=lead.id,
                kind="deadline_reminder",
                case_id=filed.case.id,
                deadline_id=acknowledge.id,
                created_at=clock.now(),
            ),
        )
    # an escalation of the same deadline is another kind: allowed
    ctx.session.add(
        DeadlineNotice(deadline_id=acknowledge.id, kind=ESCALATION, created_at=clock.now())
    )
    ctx.session.flush()


def test_a_notice_already_recorded_is_not_sent_again(ctx, clock, world):
    """Another worker sent the reminder after this one read the deadline as due (here:
    the deadline reads as not reminded): the unique notice stops the second one, and
    nothing else of it is written."""
    filed, _, _ = staff_case(ctx, mechanism=world.mechanism)
    sweep_at(ctx, clock, START + ACK_REMINDER)
    sent = counts(ctx.session)
    acknowledge = open_deadline(ctx.session, filed.case, "acknowledge")
    acknowledge.reminded_at = None
    ctx.session.flush()

    result = sweep_at(ctx, clock, START + ACK_REMINDER + timedelta(minutes=1))
    assert result == SweepResult(skipped=1)
    assert counts(ctx.session) == sent
    assert len(events_of(ctx.session, filed.case, "deadline_reminder")) == 1
    assert_chains_verify(ctx.session)


# -- pauses ---------------------------------------------------------------------------


def test_a_paused_deadline_is_not_swept(ctx, clock, world):
    filed, lead, _ = staff_case(ctx, mechanism=world.mechanism)
    case = filed.case
    clock.set(START + timedelta(days=1))
    timekeeping.pause_clock(ctx, case, Actor.for_user(lead), "Waiting for the pay slips.")
    admissibility = open_deadline(ctx.session, case, "admissibility")
    assert admissibility.due_at == START + timedelta(days=90)

    # acknowledging is not pausable: it is reminded and escalated; admissibility is not
    assert sweep_at(ctx, clock, START + timedelta(days=95)) == SweepResult(1, 1)
    assert {n[1] for n in notices(ctx.session)} == {"acknowledge"}

    timekeeping.resume_clock(ctx, case, Actor.for_user(lead))  # paused for 94 days
    ctx.session.refresh(admissibility)
    assert admissibility.due_at == START + timedelta(days=184)
    assert sweep_at(ctx, clock, START + timedelta(days=95, hours=1)) == SweepResult()
    assert sweep_at(ctx, clock, admissibility.remind_at) == SweepResult(reminders=1)
    assert sweep_at(ctx, clock, admissibility.due_at) == SweepResult(escalations=1)
    assert [n[1:3] for n in notices(ctx.session)][2:] == [
        ("admissibility", REMINDER),
        ("admissibility", ESCALATION),
    ]
    assert_chains_verify(ctx.session)


# -- catching up ----------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [500, 2], ids=["one batch", "batches of two"])
def test_a_worker_back_after_three_days_catches_up_in_order(ctx, clock, world, batch_size):
    """Five cases received at different times (recorded later, so their ids are not in
    due order). The worker sweeps, is down for three days, and catches up: every
    reminder, then every escalation, each kind in due order."""
    received = {"A": 30, "B": 0, "C": 40, "D": 10, "E": 20}  # hours after START
    clock.set(START + timedelta(days=2))
    ids = {}
    for name, hours in received.items():
        filed = new_case(ctx, world.mechanism, received_at=START + timedelta(hours=hours))
        ids[name] = filed.case.id
    assert sorted(ids.values()) == [ids[name] for name in "ABCDE"]
    names = {case_id: name for name, case_id in ids.items()}

    def sent_since(count: int) -> list[tuple[str, NoticeKind, datetime]]:
        return [(names[n[0]], n[2], n[3]) for n in notices(ctx.session)[count:]]

    last_run = START + timedelta(days=5)
    assert sweep_at(ctx, clock, last_run, batch_size=batch_size) == SweepResult(reminders=1)
    assert sent_since(0) == [("B", REMINDER, last_run)]

    back = last_run + timedelta(days=3)
    result = sweep_at(ctx, clock, back, batch_size=batch_size)
    assert result == SweepResult(reminders=4, escalations=3)
    assert sent_since(1) == [
        ("D", REMINDER, back),  # reminders due at 10, 20, 30, 40 hours + 4.998 days
        ("E", REMINDER, back),
        ("A", REMINDER, back),
        ("C", REMINDER, back),
        ("B", ESCALATION, back),  # escalations due at 0, 10, 20 hours + 7 days
        ("D", ESCALATION, back),
        ("E", ESCALATION, back),
    ]
    # the log of each case agrees: its reminder before its escalation
    case_e = ctx.session.get(Case, ids["E"])
    kinds = [event.kind for event in events_of(ctx.session, case_e)]
    assert kinds[-2:] == ["deadline_reminder", "deadline_escalated"]

    later = START + timedelta(days=9)
    assert sweep_at(ctx, clock, later, batch_size=batch_size) == SweepResult(escalations=2)
    assert sent_since(8) == [("A", ESCALATION, later), ("C", ESCALATION, later)]
    assert sweep_at(ctx, clock, later, batch_size=batch_size) == SweepResult()
    assert_chains_verify(ctx.session)
