"""`grievance generate`: synthetic cases in bulk that look like what the services leave
behind (spread, reviewers, deadlines, the queue keys, the log, the vault), on SQLite and
PostgreSQL (COPY), and a command that refuses production. Each generated log is compared
with the log the services write for a case taken the same way."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select

from grievance.clock import FixedClock
from grievance.demo.generate import REVIEWER_PASSWORD, STATEMENT, Report, Spec, generate
from grievance.models import (
    Assignment,
    AssignmentRole,
    Case,
    CaseEvent,
    CaseTheme,
    Complainant,
    DataKey,
    Deadline,
    DeadlineState,
    DecisionProposal,
    Mechanism,
    PlanState,
    ProposalState,
    ReferenceCounter,
    RemedyPlan,
    ReprisalRisk,
    ReviewerProfile,
    Role,
    Stage,
    User,
)
from grievance.models.case import ENDED_STAGES
from grievance.services import cases, events, hearing, lifecycle, queue
from grievance.services.actors import SYSTEM, Actor
from grievance.services.caselog import verify_all
from grievance.services.context import Context
from grievance.services.filing import REPRESENTING_KINDS, ComplainantDetails, Filing, file_case
from tests.apps import patch_services
from tests.factories import filing

EARLY = {Stage.RECEIVED, Stage.ACKNOWLEDGED, Stage.ADMISSIBILITY, Stage.INVESTIGATION}


@dataclass
class Generated:
    ctx: Context
    report: Report
    cases: list[Case]


@pytest.fixture
def generated(ctx: Context) -> Generated:
    report = generate(ctx, Spec(cases=300, mechanisms=3, reviewers=8, seed=7, batch_size=120))
    ctx.session.flush()
    cases = list(ctx.session.scalars(select(Case).order_by(Case.id)))
    return Generated(ctx, report, cases)


def _counts(session: Any, column: Any) -> Counter[Any]:
    return Counter(dict(session.execute(select(column, func.count()).group_by(column)).all()))


def test_it_writes_what_it_reports(generated):
    session, report = generated.ctx.session, generated.report
    assert report.cases == len(generated.cases) == 300
    assert report.mechanisms == ["SYN01", "SYN02", "SYN03"] == report.mechanisms_created
    assert report.reviewers == report.reviewers_created == 8
    for model, name in (
        (Case, "case"),
        (CaseEvent, "case_event"),
        (Assignment, "assignment"),
        (Deadline, "deadline"),
        (DataKey, "data_key"),
        (Complainant, "complainant"),
        (CaseTheme, "case_theme"),
        (DecisionProposal, "decision_proposal"),
    ):
        assert session.scalar(select(func.count()).select_from(model)) == report.rows[name]
    # Each four-eyes decision: a confirmed proposal by the lead, named by its move.
    proposals = {row.id: row for row in session.scalars(select(DecisionProposal))}
    assert proposals
    decided = [
        event
        for case in generated.cases
        for event in case.events
        if event.kind == "stage_changed" and "proposal_id" in event.payload
    ]
    assert sorted(event.payload["proposal_id"] for event in decided) == sorted(proposals)
    for event in decided:
        proposal = proposals[event.payload["proposal_id"]]
        assert proposal.state is ProposalState.CONFIRMED
        assert (proposal.case_id, proposal.to_stage) == (event.case_id, event.stage_to)
        assert proposal.proposed_by_id == event.payload["proposed_by"] != event.actor_id
        assert proposal.decided_by_id == event.actor_id
        assert proposal.proposed_at < proposal.decided_at == event.created_at
    assert "Generated 300 synthetic cases" in report.summary
    assert REVIEWER_PASSWORD in report.summary


def test_the_cases_are_spread_like_real_ones(generated):
    session, cases = generated.ctx.session, generated.cases
    mechanisms = Counter(case.mechanism.code for case in cases)
    assert set(mechanisms) == {"SYN01", "SYN02", "SYN03"}
    assert min(mechanisms.values()) >= 50
    languages = Counter(case.language for case in cases)
    assert len(languages) >= 8
    assert {"bn", "ta", "hi", "ur", "en", "tr", "zh"} <= set(languages)
    assert languages.most_common(1)[0][0] == "bn"
    stages = Counter(case.stage for case in cases)
    assert set(stages) >= EARLY
    assert sum(stages[stage] for stage in EARLY) > len(cases) / 2  # most are early
    assert 0 < sum(stages[stage] for stage in ENDED_STAGES) < len(cases) / 2
    assert len(stages) >= 10
    assert len({case.country for case in cases}) >= 6
    assert len({theme for case in cases for theme in case.theme_codes}) >= 10
    assert all(1 <= len(case.themes) <= 3 for case in cases)
    assert len({case.channel for case in cases}) >= 4
    bands = Counter(case.queue_rank // queue.BAND for case in cases)
    assert set(bands) == {0, 1, 2}
    assert 0 < sum(case.urgent for case in cases) < len(cases) / 5
    assert 0 < sum(case.next_due_at is not None and case.next_due_at < generated.ctx.now()
                   for case in cases) < len(cases) / 4  # fmt: skip
    assert len(_counts(session, Complainant.anonymity)) == 3


def test_the_queue_rank_follows_the_assessment(generated):
    ctx = generated.ctx
    for case in generated.cases:
        policy = ctx.case_policy(case)
        assert case.queue_rank == queue.rank(
            urgent=queue.is_urgent(case, policy),
            reprisal_high=case.reprisal_risk is ReprisalRisk.HIGH,
            scale=case.severity_scale,
            scope=case.severity_scope,
            irremediability=case.severity_irremediability,
            likelihood=case.severity_likelihood,
        )
        assessed = case.severity_scale is not None
        logged = [event.kind for event in case.events]
        assert ("severity_assessed" in logged) == assessed
        assert ("reprisal_risk_assessed" in logged) == (case.reprisal_risk is not None)
        if assessed:
            assert case.stage not in (Stage.RECEIVED, Stage.ACKNOWLEDGED)


def test_every_open_case_has_a_lead_and_a_second_reviewer(generated):
    session = generated.ctx.session
    reviewers = {
        user.id: user for user in session.scalars(select(User).where(User.role == Role.REVIEWER))
    }
    assert len(reviewers) == 8
    assert all(session.get(ReviewerProfile, user_id) is not None for user_id in reviewers)
    loads: Counter[int] = Counter()
    for case in generated.cases:
        active = [row for row in case.assignments if row.ended_at is None]
        roles = {row.role: row.reviewer_id for row in active}
        assert sorted(roles) == [AssignmentRole.LEAD, AssignmentRole.SECOND], case.reference
        assert len(active) == 2
        assert roles[AssignmentRole.LEAD] != roles[AssignmentRole.SECOND]
        assert set(roles.values()) <= set(reviewers)
        languages = [set(reviewers[rid].reviewer_profile.languages) for rid in roles.values()]
        assert case.needs_interpreter == (not any(case.language in spoken for spoken in languages))
        if not case.has_ended:
            loads.update(roles.values())
    # Spread evenly, capacity ignored.
    assert len(loads) == 8
    assert max(loads.values()) - min(loads.values()) <= 2
    assert loads == generated.report.loads


def test_next_due_at_is_the_earliest_open_deadline(generated):
    session, now = generated.ctx.session, generated.ctx.now()
    for case in generated.cases:
        open_ = list(
            session.scalars(
                select(Deadline).where(
                    Deadline.case_id == case.id, Deadline.state == DeadlineState.OPEN
                )
            )
        )
        assert case.next_due_at == min((d.due_at for d in open_), default=None), case.reference
        codes = [deadline.code for deadline in open_]
        assert len(codes) == len(set(codes))
        for deadline in open_:
            assert deadline.opened_at <= now
            assert deadline.opened_at < deadline.remind_at < deadline.due_at
            assert deadline.paused_at is None
            assert deadline.reminded_at is None
        if not case.has_ended:
            assert open_, f"{case.reference} ({case.stage}) has no open deadline"
        elif case.stage is not Stage.CLOSED:
            assert not open_  # waived when the case ended
    stages = {case.id: case.stage for case in generated.cases}
    running = Counter(
        (stages[row.case_id], row.code)
        for row in session.scalars(select(Deadline).where(Deadline.state == DeadlineState.OPEN))
    )
    assert running[(Stage.RECEIVED, "acknowledge")] == Counter(stages.values())[Stage.RECEIVED]
    assert running[(Stage.INVESTIGATION, "decision")] > 0
    assert running[(Stage.ADMISSIBILITY, "progress_update")] > 0


def test_every_log_verifies_and_tells_the_case_history(generated, app):
    session = generated.ctx.session
    assert list(verify_all(session)) == []
    result = app.test_cli_runner().invoke(args=["grievance", "verify-log"])
    assert result.exit_code == 0, result.output
    for case in generated.cases:
        events = case.events
        assert case.event_count == len(events)
        assert case.log_head == events[-1].hash
        assert [event.kind for event in events[:3]] == [
            "case_filed",
            "reviewer_assigned",
            "reviewer_assigned",
        ]
        assert events[0].payload["reference"] == case.reference
        moves = [event for event in events if event.kind == "stage_changed"]
        path = [Stage.RECEIVED, *(event.stage_to for event in moves)]
        assert path[-1] is case.stage
        assert (moves[-1].created_at if moves else events[0].created_at) == case.stage_entered_at
        assert all(a.created_at <= b.created_at for a, b in itertools.pairwise(events))
        assert case.updated_at == events[-1].created_at
        assert (case.closed_at is not None) == case.has_ended


def test_statements_are_sealed_under_each_cases_own_key(generated):
    ctx = generated.ctx
    keys = set()
    for case in generated.cases[:50]:
        assert STATEMENT.encode() not in case.statement_enc
        assert ctx.vault.open(case.id, "statement", case.statement_enc) == STATEMENT
        keys.add(ctx.session.scalar(select(DataKey.wrapped).where(DataKey.case_id == case.id)))
    assert len(keys) == 50
    assert ctx.session.scalar(select(func.count()).select_from(DataKey)) == 300


def test_references_continue_for_later_filings_and_runs(generated):
    ctx = generated.ctx
    mechanism = ctx.session.scalar(select(Mechanism).where(Mechanism.code == "SYN01"))
    numbers = sum(
        ctx.session.scalars(
            select(ReferenceCounter.last_number).where(
                ReferenceCounter.mechanism_id == mechanism.id
            )
        )
    )
    assert numbers == sum(case.mechanism_id == mechanism.id for case in generated.cases)
    filed = file_case(ctx, filing(mechanism), SYSTEM)
    assert filed.case.id > generated.report.last_case_id
    assert filed.case.reference not in {case.reference for case in generated.cases}


def test_a_second_run_adds_cases_with_the_same_people(generated):
    ctx, first = generated.ctx, generated.report
    again = generate(ctx, Spec(cases=300, mechanisms=3, reviewers=8, seed=7, batch_size=120))
    assert again.mechanisms_created == []
    assert again.reviewers_created == 0
    assert again.first_case_id == first.last_case_id + 1
    assert again.stages == first.stages  # the same seed
    assert again.languages == first.languages
    assert ctx.session.scalar(select(func.count()).select_from(Case)) == 600
    assert ctx.session.scalar(select(func.count()).select_from(Mechanism)) == 3
    references = ctx.session.scalars(select(Case.reference)).all()
    assert len(set(references)) == 600
    assert list(verify_all(ctx.session)) == []


def test_the_command_generates_and_says_what(app, session):
    result = app.test_cli_runner().invoke(
        args=["grievance", "generate", "--cases", "40", "--mechanisms", "2", "--reviewers", "4"]
    )
    assert result.exit_code == 0, result.output
    assert "Generated 40 synthetic cases" in result.output
    assert "Mechanisms: SYN01, SYN02 (created: SYN01, SYN02)" in result.output
    assert "Reviewers: 4 (created: 4)" in result.output
    if session.get_bind().dialect.name == "postgresql":  # outside the test's transaction
        assert "VACUUM (ANALYZE) of the tables written" in result.output
    assert session.scalar(select(func.count()).select_from(Case)) == 40


def test_the_command_refuses_production(app, session, settings, monkeypatch):
    patch_services(monkeypatch, app, settings=replace(settings, env="production"))
    result = app.test_cli_runner().invoke(args=["grievance", "generate", "--cases", "10"])
    assert result.exit_code == 2
    assert "never runs in production" in result.output
    assert session.scalar(select(func.count()).select_from(Case)) == 0
    assert session.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"cases": 0}, "at least 1"),
        ({"cases": 1, "reviewers": 1}, "two reviewers"),
        ({"cases": 1, "mechanisms": 100}, "at most 99"),
    ],
)
def test_a_spec_that_cannot_be_met_is_refused(values, problem):
    with pytest.raises(ValueError, match=problem):
        Spec(**values)


# -- the same log as the services write ---------------------------------------------------


def _shape(events: list[CaseEvent]) -> list[tuple[Any, ...]]:
    """What a generated log and a log the services wrote must share, event by event: the
    kind, its visibility, who acted (the role), the stages, the payload's fields and the
    deadlines opened (their due times differ only with the times of the case)."""
    return [
        (
            event.kind,
            event.visibility,
            event.actor_role,
            event.stage_from,
            event.stage_to,
            tuple(sorted(event.payload)),
            tuple(item["code"] for item in event.payload.get("deadlines_opened", [])),
        )
        for event in events
    ]


def _through_the_services(ctx: Context, generated_case: Case) -> Case:
    """File a case like `generated_case` and take it through the services to the same
    stage, at the times its generated log gives: the assessments by the lead; each move by
    the lead, a decision that needs four eyes proposed by the lead (when the generated log
    proposed it, or else at the move) and confirmed by the second; appeals and withdrawals
    by the complainant."""
    events = generated_case.events
    clock = FixedClock(events[0].created_at)
    ctx = replace(ctx, clock=clock)
    person = generated_case.complainants[0]
    represents = "Union of the site" if person.kind in REPRESENTING_KINDS else ""
    filed = file_case(
        ctx,
        Filing(
            mechanism=generated_case.mechanism,
            channel=generated_case.channel,
            language=generated_case.language,
            statement="A statement written for the comparison.",
            complainant=ComplainantDetails(
                anonymity=person.anonymity, kind=person.kind, represents=represents
            ),
            themes=generated_case.theme_codes,
            country=generated_case.country,
            urgent=generated_case.urgent,
        ),
        SYSTEM,
    )
    case = filed.case
    assigned = cases.active_assignments(ctx, case)
    assert sorted(assigned) == [AssignmentRole.LEAD, AssignmentRole.SECOND], "routing found nobody"
    lead = Actor.for_user(assigned[AssignmentRole.LEAD].reviewer)
    second = Actor.for_user(assigned[AssignmentRole.SECOND].reviewer)
    complainant = Actor.for_complainant(filed.complainant)
    proposal = None
    for event in events[1:]:
        clock.set(event.created_at)
        if event.kind == "reviewer_assigned":
            continue  # routing, at filing
        elif event.kind == "severity_assessed":
            cases.assess_severity(ctx, case, lead, **event.payload)
        elif event.kind == "reprisal_risk_assessed":
            cases.assess_reprisal_risk(ctx, case, lead, ReprisalRisk(event.payload["level"]))
        elif event.kind == "complainant_heard":
            hearing.record_hearing(ctx, case, lead, heard=True, note=event.payload["note"])
        elif event.kind == "decision_proposed":
            target = Stage(event.payload["to_stage"])
            proposal = cases.propose_decision(ctx, case, target, lead, "Reasons.")
        elif event.kind == "stage_changed":
            assert event.stage_to is not None
            move = lifecycle.find(case.stage, event.stage_to)
            assert move is not None, (case.stage, event.stage_to)
            if move.four_eyes:
                if proposal is None:
                    proposal = cases.propose_decision(ctx, case, event.stage_to, lead, "Reasons.")
                cases.confirm_decision(ctx, proposal, second)
                proposal = None
            elif Role.REVIEWER not in move.roles or event.stage_to is Stage.WITHDRAWN:
                cases.transition(ctx, case, event.stage_to, complainant, "Reasons.")
            else:
                if event.stage_to is Stage.REMEDY_IMPLEMENTATION:
                    # The generator writes no remedy plan (its logs feed the list
                    # benchmarks; the plan's events are test_remedy.py's): the walk takes
                    # the move as the generated log does, over a plan approved by hand.
                    ctx.session.add(
                        RemedyPlan(case_id=case.id, state=PlanState.APPROVED, created_at=ctx.now())
                    )
                    ctx.session.flush()
                reason = "Reasons." if move.needs_reason else ""
                cases.transition(ctx, case, event.stage_to, lead, reason)
        else:  # pragma: no cover - a kind the generator should not write
            raise AssertionError(f"the generator wrote {event.kind}, which the walk cannot")
    ctx.session.flush()
    ctx.session.expire(case, ["events"])
    return case


def _differences(ctx: Context, generated_cases: list[Case]) -> list[str]:
    """Each generated case against a case the services took the same way: one walk per
    kind of log (the generated logs that have the same shape), every generated case
    compared."""
    for profile in ctx.session.scalars(select(ReviewerProfile)):
        profile.capacity = 100_000  # the generated reviewers are full: capacity is ignored
    by_shape: dict[tuple[Any, ...], list[Case]] = {}
    for case in generated_cases:
        by_shape.setdefault(tuple(_shape(case.events)), []).append(case)
    found = []
    for shape, alike in by_shape.items():
        walked = _through_the_services(ctx, alike[0])
        assert walked.stage is alike[0].stage
        expected = _shape(walked.events)
        if list(shape) != expected:
            wrong = next(
                (index, mine, theirs)
                for index, (mine, theirs) in enumerate(
                    itertools.zip_longest(shape, expected), start=1
                )
                if mine != theirs
            )
            found.append(
                f"{alike[0].reference} ({len(alike)} cases like it), event {wrong[0]}: "
                f"generated {wrong[1]}, the services {wrong[2]}"
            )
    return found


def test_a_generated_log_is_the_one_the_services_write(generated):
    """Every generated case's log has the events (kinds, visibilities, actors, stages,
    payload fields, deadlines opened) that the services write for a case filed and taken
    along the same path, four-eyes decisions and assessments included."""
    paths = {
        tuple(event.stage_to for event in case.events if event.stage_to) for case in generated.cases
    }
    assert len(paths) >= 12  # every stage, more or less
    assert {"decision_proposed", "severity_assessed", "reprisal_risk_assessed"} <= {
        event.kind for case in generated.cases for event in case.events
    }
    differences = _differences(generated.ctx, generated.cases)
    assert not differences, "\n".join(differences)


def test_the_comparison_sees_a_builder_that_diverges(ctx, monkeypatch):
    """Were the generator to build an event otherwise than the services (here: a
    `stage_changed` that gives no reasons), the comparison above fails."""

    def no_reason(*args: Any, **values: Any) -> Any:
        return events.stage_changed(*args, **{**values, "reason": ""})

    monkeypatch.setattr(
        "grievance.demo.generate.chain.events",
        SimpleNamespace(**{**vars(events), "stage_changed": no_reason}),
    )
    generate(ctx, Spec(cases=60, mechanisms=1, reviewers=4, seed=3))
    generated_cases = list(ctx.session.scalars(select(Case).order_by(Case.id)))
    found = _differences(ctx, generated_cases)
    assert found
    assert any("'reason'" in difference for difference in found)
