"""The secretariat's view of deadlines (overdue, due soon, by reviewer and by company),
the `flask grievance deadlines` command that prints it, and `flask grievance worker
--once`, which runs every job of the scheduler once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from grievance.models import (
    AssignmentRole,
    Case,
    Company,
    CompanyKind,
    DeadlineNotice,
    InvolvementKind,
    MechanismTask,
    NoticeKind,
    ReviewerProfile,
    StaffNotification,
    Stage,
    User,
)
from grievance.models.vault import DataKey
from grievance.services import cases, involvement, timekeeping
from grievance.services.actors import SYSTEM, Actor
from grievance.services.overview import DeadlineRow, deadline_overview
from tests.conftest import START
from tests.factories import (
    classify,
    closed_case,
    make_company,
    make_mechanism,
    make_reviewer,
    make_secretariat,
    new_case,
    open_deadline,
    staff_case,
)

NOW = START + timedelta(days=8)


@dataclass
class Board:
    """Three cases in two mechanisms, seen on day 8:
    - first (OVA, filed day 0, lead `lead`, two companies): acknowledging is overdue;
    - third (OVB, filed day 1, lead `other_lead`): acknowledging is due now;
    - second (OVA, filed day 3, no reviewers, the supplier): due on day 10."""

    first: Case
    second: Case
    third: Case
    lead: User
    other_lead: User
    brand: Company
    supplier: Company
    other_brand: Company


@pytest.fixture
def board(ctx, clock) -> Board:
    ova, ovb = make_mechanism(ctx, code="OVA"), make_mechanism(ctx, code="OVB")
    brand = make_company(ctx, ova, name="Brand Noord")
    supplier = make_company(ctx, ova, CompanyKind.SUPPLIER, name="Akter Garments")
    other_brand = make_company(ctx, ovb, name="Brand Zuid")

    first, lead, _ = staff_case(ctx, mechanism=ova)
    involvement.add_company(ctx, first.case, brand, SYSTEM)
    involvement.add_company(ctx, first.case, supplier, SYSTEM)
    clock.set(START + timedelta(days=1))
    third, other_lead, _ = staff_case(ctx, mechanism=ovb)
    involvement.add_company(ctx, third.case, other_brand, SYSTEM)
    clock.set(START + timedelta(days=3))
    for profile in ctx.session.scalars(select(ReviewerProfile)):
        profile.available = False  # nobody to route the second case to: it stays unassigned
    second = new_case(ctx, ova)
    involvement.add_company(ctx, second.case, supplier, SYSTEM)
    clock.set(NOW)
    return Board(
        first.case, second.case, third.case, lead, other_lead, brand, supplier, other_brand
    )


def row(case: Case, code: str, due: datetime, reviewer: User | None, *companies: Company):
    return DeadlineRow(
        case_id=case.id,
        reference=case.reference,
        mechanism=case.mechanism.code,
        code=code,
        due_at=due,
        paused=False,
        reviewer=reviewer.display_name if reviewer else None,
        companies=tuple(company.name for company in companies),
    )


def test_overdue_and_due_soon_with_lead_reviewer_and_companies(ctx, board):
    overview = deadline_overview(ctx)
    first_row = row(
        board.first,
        "acknowledge",
        START + timedelta(days=7),
        board.lead,
        board.supplier,  # by name: Akter before Brand
        board.brand,
    )
    assert overview.overdue == [first_row]
    assert overview.due_soon == [
        row(board.third, "acknowledge", NOW, board.other_lead, board.other_brand),  # due now
        row(board.second, "acknowledge", START + timedelta(days=10), None, board.supplier),
    ]
    assert overview.by_reviewer == {
        "(unassigned)": (0, 1),
        board.lead.display_name: (1, 0),
        board.other_lead.display_name: (0, 1),
    }
    # the case's own time limits are the reviewers' to keep, not the companies' (#15, 9)
    assert overview.by_company == {}


def test_companies_are_counted_for_their_own_deadlines_only(ctx, board):
    month = deadline_overview(ctx, days=30)  # the companies' 30 days to respond
    responses = [r for r in month.due_soon if r.code.endswith(".response")]
    assert sorted(r.owner for r in responses) == [
        "Akter Garments",
        "Akter Garments",
        "Brand Noord",
        "Brand Zuid",
    ]
    assert month.by_company == {
        "Akter Garments": (0, 2),
        "Brand Noord": (0, 1),
        "Brand Zuid": (0, 1),
    }


def test_the_overview_filters_by_mechanism(ctx, board):
    ova = deadline_overview(ctx, ["OVA"])
    assert [(r.case_id, r.code) for r in ova.overdue] == [(board.first.id, "acknowledge")]
    assert [(r.case_id, r.code) for r in ova.due_soon] == [(board.second.id, "acknowledge")]
    assert ova.by_reviewer == {"(unassigned)": (0, 1), board.lead.display_name: (1, 0)}
    assert ova.by_company == {}

    ovb = deadline_overview(ctx, ["OVB"])
    assert ovb.overdue == []
    assert [r.case_id for r in ovb.due_soon] == [board.third.id]
    assert ovb.by_company == {}

    both = deadline_overview(ctx, ["OVA", "OVB"])
    assert both == deadline_overview(ctx)
    assert deadline_overview(ctx, ["NONE"]).due_soon == []


def test_every_deadline_carries_its_case_mechanism_for_the_overview_index(ctx, board):
    """The overview seeks its mechanisms' deadlines by `Deadline.mechanism_id` (issue 17:
    through `case` it walked every mechanism's due deadlines); each deadline written gets
    its case's, whoever writes it."""
    from sqlalchemy import select

    from grievance.models import Case, Deadline

    rows = ctx.session.execute(
        select(Deadline.mechanism_id, Case.mechanism_id).join(Case, Case.id == Deadline.case_id)
    ).all()
    assert rows
    assert all(mine == theirs for mine, theirs in rows)


def test_the_overview_looks_as_far_ahead_as_asked(ctx, board):
    assert [r.case_id for r in deadline_overview(ctx, days=1).due_soon] == [board.third.id]
    assert [r.case_id for r in deadline_overview(ctx, days=3).due_soon] == [
        board.third.id,
        board.second.id,
    ]
    # 90 days ahead: admissibility too, for all three
    far = deadline_overview(ctx, days=90)
    assert sorted((r.case_id, r.code) for r in far.due_soon if r.code == "admissibility") == sorted(
        (case.id, "admissibility") for case in (board.first, board.second, board.third)
    )


def test_what_is_done_leaves_the_overview_and_what_is_paused_says_so(ctx, board):
    cases.transition(ctx, board.first, Stage.ACKNOWLEDGED, Actor.for_user(board.lead))
    timekeeping.pause_clock(ctx, board.third, Actor.for_user(board.other_lead), "Waiting.")
    overview = deadline_overview(ctx, days=90)
    assert [r.case_id for r in overview.overdue] == []  # acknowledged, late: missed, closed
    paused = {(r.case_id, r.code): r.paused for r in overview.due_soon}
    assert paused[board.third.id, "admissibility"] is True
    assert paused[board.third.id, "acknowledge"] is False  # not pausable
    assert paused[board.first.id, "admissibility"] is False


def test_a_reclassified_company_is_listed_once(ctx, board):
    second = make_reviewer(ctx)
    cases.assign_reviewer(ctx, board.first, second, AssignmentRole.SECOND, SYSTEM)
    classify(ctx, board.first, board.supplier, InvolvementKind.CAUSE, board.lead, second)
    classify(
        ctx, board.first, board.supplier, InvolvementKind.CONTRIBUTE, second, board.lead,
        "A buyer's prices too.", trigger="new_evidence",
    )  # fmt: skip
    (overdue,) = deadline_overview(ctx).overdue
    assert overdue.companies == ("Akter Garments", "Brand Noord")


# -- the commands ---------------------------------------------------------------------


def _line(case: Case, due: datetime, reviewer: str, companies: str) -> str:
    code = "acknowledge"
    return f"  {due:%Y-%m-%d %H:%M} UTC  {case.reference:<15} {code:<20} {reviewer}  [{companies}]"


def test_the_deadlines_command_prints_the_overview(app, ctx, board):
    result = app.test_cli_runner().invoke(args=["grievance", "deadlines"])
    assert result.exit_code == 0, result.output
    lead, other = board.lead.display_name, board.other_lead.display_name
    assert result.output.splitlines() == [
        "Overdue: 1",
        _line(board.first, START + timedelta(days=7), lead, "Akter Garments, Brand Noord"),
        "Due within 7 days: 2",
        _line(board.third, NOW, other, "Brand Zuid"),
        _line(board.second, START + timedelta(days=10), "(unassigned)", "Akter Garments"),
        "By reviewer (overdue / due soon):",
        "  (unassigned): 0 / 1",
        *sorted([f"  {lead}: 1 / 0", f"  {other}: 0 / 1"]),
        "By company (overdue / due soon):",
    ]


def test_the_deadlines_command_filters_and_looks_ahead(app, ctx, board):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["grievance", "deadlines", "--mechanism", "OVB", "--days", "1"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:3] == [
        "Overdue: 0",
        "Due within 1 days: 1",
        _line(board.third, NOW, board.other_lead.display_name, "Brand Zuid"),
    ]
    assert board.first.reference not in result.output


def test_the_worker_runs_every_job_once(app, ctx, clock, caplog):
    """A case whose acknowledgement is overdue, a closed case past its retention, and a
    mechanism due for its yearly review: one run does all three, and exits 0."""
    mechanism = make_mechanism(
        ctx, code="WRK", overrides={"retention": {"identity_days_after_close": 30}}
    )
    (secretariat,) = make_secretariat(ctx, mechanism)
    overdue = new_case(ctx, mechanism)
    closed, _, _ = closed_case(ctx, mechanism=mechanism)
    closed_id = closed.case.id
    secretariat_id, mechanism_id = secretariat.id, mechanism.id
    acknowledge_id = open_deadline(ctx.session, overdue.case, "acknowledge").id
    clock.set(START + timedelta(days=365))
    caplog.set_level(logging.INFO, logger="grievance.scheduler")

    result = app.test_cli_runner().invoke(args=["grievance", "worker", "--once"])
    assert result.exit_code == 0, result.output

    session = ctx.session
    assert sorted(
        session.execute(
            select(DeadlineNotice.deadline_id, DeadlineNotice.kind).where(
                DeadlineNotice.deadline_id == acknowledge_id
            )
        ).all()
    ) == [(acknowledge_id, NoticeKind.ESCALATION), (acknowledge_id, NoticeKind.REMINDER)]
    assert (
        session.scalar(
            select(func.count())
            .select_from(StaffNotification)
            .where(
                StaffNotification.deadline_id == acknowledge_id,
                StaffNotification.user_id == secretariat_id,
            )
        )
        == 2
    )  # reminder and escalation: the case has no reviewers
    assert session.scalar(select(DataKey).where(DataKey.case_id == closed_id)) is None
    assert session.get(Case, closed_id).identities_erased_at == clock.now()
    review = session.scalars(
        select(MechanismTask).where(MechanismTask.mechanism_id == mechanism_id)
    ).one()
    assert review.notified_at == clock.now()  # made at START, due a year later: now

    messages = [r.getMessage() for r in caplog.records if r.name == "grievance.scheduler"]
    # acknowledge and admissibility of the open case, the closed case's satisfaction check
    assert "worker: deadline sweep done: SweepResult(reminders=3, escalations=3, skipped=0)" in (
        messages
    ), messages
    assert "worker: retention done: 1" in messages
    assert "worker: satisfaction checks done: 0" in messages  # the closed case's is not due
    assert "worker: effectiveness reviews done: 1" in messages
    assert "worker: pending uploads done: 0" in messages
    assert "worker: sign-in throttles done: 0" in messages
    assert "worker: follow-up sessions done: 0" in messages
    assert "worker: mail digests done: 0" in messages
    # the run's events are integrated in the transparency log and a checkpoint signed
    assert any(
        m.startswith("worker: transparency log done: ") and "signed" in m for m in messages
    ), messages
    # what the run told people (the reviewers' assignments, reminders, escalations, the
    # review) goes out in the same run, as files under instance/mail/ in tests
    assert any(m.startswith("worker: mail done: ") and " 0 failed" in m for m in messages)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], messages

    # a second run finds nothing left to do
    caplog.clear()
    result = app.test_cli_runner().invoke(args=["grievance", "worker", "--once"])
    assert result.exit_code == 0, result.output
    messages = [r.getMessage() for r in caplog.records if r.name == "grievance.scheduler"]
    assert messages == [
        "worker: deadline sweep done: SweepResult(reminders=0, escalations=0, skipped=0)",
        "worker: retention done: 0",
        "worker: satisfaction checks done: 0",
        "worker: remedy plan questions done: 0",
        "worker: effectiveness reviews done: 0",
        "worker: pending uploads done: 0",
        "worker: sign-in throttles done: 0",
        "worker: follow-up sessions done: 0",
        "worker: mail digests done: 0",
    ]
