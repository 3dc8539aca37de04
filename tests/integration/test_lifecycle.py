"""The case lifecycle through the services: every move of the table, for every role, from
every stage; the four-eyes decisions; and atomicity (a refused or failed change writes
nothing, not even half of itself)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from grievance.models import (
    Case,
    CaseEvent,
    Deadline,
    DecisionProposal,
    PlanState,
    ProposalState,
    RemedyPlan,
    Role,
    Stage,
    User,
)
from grievance.models.case import ENDED_STAGES
from grievance.services import caselog, cases, hearing, involvement, lifecycle
from grievance.services.actors import SYSTEM, Actor
from grievance.services.errors import (
    ForbiddenTransition,
    FourEyesRequired,
    FourEyesViolation,
    NotAllowed,
    ProposalPending,
    ReasonRequired,
    ServiceError,
)
from grievance.services.filing import FiledCase
from grievance.services.hearing import ComplainantNotHeard
from grievance.services.remedy_rules import PlanNotApproved
from tests.factories import (
    case_state,
    hear,
    make_company,
    make_reviewer,
    make_user,
    new_case,
    staff_case,
    walk_to,
)

ROLES = ("complainant", "reviewer", "company", "secretariat", "admin", "system")


@dataclass
class World:
    filed: FiledCase
    lead: User
    second: User
    actors: dict[str, Actor]
    #: The second assigned reviewer, who confirms the lead's proposals.
    confirmer: Actor

    @property
    def case(self) -> Case:
        return self.filed.case


def make_world(ctx, stage: Stage = Stage.RECEIVED, *, heard: bool = True) -> World:
    """A case in `stage` with one actor of every role that has a part in it (and admin);
    in investigation, the complainant heard unless `heard` is False (R08)."""
    filed, lead, second = staff_case(ctx)
    mechanism = filed.case.mechanism
    company = make_company(ctx, mechanism)
    involvement.add_company(ctx, filed.case, company, SYSTEM)
    company_user = make_user(ctx, Role.COMPANY, company=company)
    secretariat = make_user(ctx, Role.SECRETARIAT, mechanisms=[mechanism])
    admin = make_user(ctx, Role.ADMIN)
    walk_to(ctx, filed, stage, lead, second)
    if stage is Stage.INVESTIGATION and heard:
        hear(ctx, filed)
    actors = {
        "complainant": Actor.for_complainant(filed.complainant),
        "reviewer": Actor.for_user(lead),
        "company": Actor.for_user(company_user),
        "secretariat": Actor.for_user(secretariat),
        "admin": Actor.for_user(admin),
        "system": SYSTEM,
    }
    return World(filed, lead, second, actors, Actor.for_user(second))


def refusal(call: Callable[[], object], label: str) -> ServiceError:
    try:
        call()
    except ServiceError as error:
        return error
    pytest.fail(f"{label}: was not refused")


def last_event(session, case_id: int) -> CaseEvent:
    return session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq.desc())
    ).first()


@pytest.fixture
def world(ctx) -> World:
    return make_world(ctx)


# -- the whole table ------------------------------------------------------------------


@pytest.mark.parametrize("source", list(Stage), ids=str)
def test_every_move_from_every_stage_for_every_role(ctx, clock, source):
    """For each target stage and role: allowed moves happen (four-eyes ones only through a
    proposal and a second reviewer's confirmation), every other one is refused with
    ForbiddenTransition and writes nothing. Each attempt runs in a savepoint rolled back
    afterwards, so every attempt starts from the same case in `source`."""
    world = make_world(ctx, source, heard=False)
    case_id = world.case.id
    session = ctx.session

    def case() -> Case:
        return session.get_one(Case, case_id)

    assert case_state(session, case_id).stage is source
    clock.advance(hours=1)  # so a move's new stage_entered_at differs from the old one
    before = case_state(session, case_id)
    allowed_seen = 0

    for target in Stage:
        move = lifecycle.find(source, target)
        for role in ROLES:
            actor = world.actors[role]
            label = f"{source} -> {target} as {role}"
            savepoint = session.begin_nested()
            try:
                if move is None or actor.role not in move.roles:
                    for service in (cases.transition, cases.propose_decision, cases.decide):
                        error = refusal(
                            lambda s=service, t=target, a=actor: s(ctx, case(), t, a, "Reasons."),
                            f"{label} ({service.__name__})",
                        )
                        assert type(error) is ForbiddenTransition, f"{label}: {error!r}"
                        assert (error.source, error.target, error.role) == (
                            source,
                            target,
                            actor.role,
                        )
                        assert case_state(session, case_id) == before, f"{label} wrote"
                    continue

                allowed_seen += 1
                _check_allowed_move(ctx, case(), world.confirmer, move, actor, before, label)
            finally:
                savepoint.rollback()
                # Rows read inside the savepoint (SQLite reuses their ids) must not linger
                # in the identity map; only ids are kept across attempts.
                session.expunge_all()
            assert case_state(session, case_id) == before

    assert allowed_seen == sum(
        len(move.roles & {a.role for a in world.actors.values()})
        for move in lifecycle.moves_from(source)
    )


def _check_allowed_move(
    ctx, case: Case, confirmer: Actor, move, actor: Actor, before, label: str
) -> None:
    session = ctx.session
    case_id = case.id
    source, target = move.source, move.target

    if (source, target) == (Stage.REMEDY_PLAN, Stage.REMEDY_IMPLEMENTATION):
        # only with the remedy plan approved (tests/integration/test_remedy.py): refused
        # without one, then checked as any other move with an approved plan
        error = refusal(lambda: cases.transition(ctx, case, target, actor, "Reasons."), label)
        assert type(error) is PlanNotApproved, f"{label}: {error!r}"
        assert case_state(session, case_id) == before, f"{label}: refused move wrote"
        session.add(RemedyPlan(case_id=case_id, state=PlanState.APPROVED, created_at=ctx.now()))
        session.flush()

    if move.hears_complainant:
        # not before the complainant was heard, or a reviewer said why not (R08;
        # tests/integration/test_hearing.py): refused, then heard, then as any other move
        service = cases.propose_decision if move.four_eyes else cases.transition
        error = refusal(lambda: service(ctx, case, target, actor, "Reasons."), label)
        assert type(error) is ComplainantNotHeard, f"{label}: {error!r}"
        assert case_state(session, case_id) == before, f"{label}: refused move wrote"
        hearing.record_hearing(ctx, case, actor, heard=False, note="No answer on the phone.")
        before = case_state(session, case_id)

    if move.needs_reason:
        service = cases.propose_decision if move.four_eyes else cases.transition
        error = refusal(lambda: service(ctx, case, target, actor, "  "), label)
        assert type(error) is ReasonRequired, f"{label}: {error!r}"
        assert case_state(session, case_id) == before, f"{label}: refused reason wrote"

    if move.four_eyes:
        error = refusal(lambda: cases.transition(ctx, case, target, actor, "Reasons."), label)
        assert type(error) is FourEyesRequired, f"{label}: {error!r}"
        assert case_state(session, case_id) == before, f"{label}: four-eyes refusal wrote"

        proposal = cases.propose_decision(ctx, case, target, actor, "Reasons.")
        proposed = case_state(session, case_id)
        assert proposed.stage is source, f"{label}: a proposal alone moved the case"
        assert proposed.event_count == before.event_count + 1
        assert proposal.state is ProposalState.PENDING
        event = last_event(session, case_id)
        assert event.kind == "decision_proposed"
        assert event.payload["to_stage"] == target.value

        cases.confirm_decision(ctx, proposal, confirmer)
        expected_events, mover = before.event_count + 2, confirmer
    else:
        error = refusal(lambda: cases.propose_decision(ctx, case, target, actor, "Reasons."), label)
        assert type(error) is ServiceError, f"{label}: {error!r}"
        assert case_state(session, case_id) == before, f"{label}: refused proposal wrote"

        reason = "Reasons." if move.needs_reason else ""
        cases.transition(ctx, case, target, actor, reason)
        expected_events, mover = before.event_count + 1, actor

    after = case_state(session, case_id)
    assert after.stage is target, label
    assert after.stage_entered_at == ctx.now(), label
    assert after.event_count == expected_events == after.events, label
    assert after.log_head != before.log_head
    assert (after.closed_at is not None) == (target in ENDED_STAGES), label
    event = last_event(session, case_id)
    assert event.hash == after.log_head
    assert event.kind == "stage_changed"
    assert (event.stage_from, event.stage_to) == (source, target)
    assert (event.actor_role, event.actor_id) == (mover.role, mover.user_id)
    assert event.payload.get("reason") == ("Reasons." if move.needs_reason else None)
    assert caselog.verify_case(session, session.get(Case, case_id)) is None


# -- facts by hand --------------------------------------------------------------------


@pytest.mark.parametrize("source", [Stage.INVESTIGATION, Stage.DIALOGUE], ids=str)
def test_a_company_can_never_move_a_case_to_findings(ctx, source):
    world = make_world(ctx, source)
    company = world.actors["company"]
    before = case_state(ctx.session, world.case.id)
    with pytest.raises(ForbiddenTransition):
        cases.transition(ctx, world.case, Stage.FINDINGS, company, "We fixed it.")
    with pytest.raises(ForbiddenTransition):
        cases.propose_decision(ctx, world.case, Stage.FINDINGS, company, "We fixed it.")
    assert case_state(ctx.session, world.case.id) == before


def test_a_company_of_the_case_may_appeal_the_findings(ctx):
    world = make_world(ctx, Stage.FINDINGS)
    cases.transition(ctx, world.case, Stage.APPEAL, world.actors["company"], "Facts wrong.")
    assert case_state(ctx.session, world.case.id).stage is Stage.APPEAL


def test_a_reviewer_not_assigned_to_the_case_is_not_allowed(ctx, world):
    outsider = Actor.for_user(make_reviewer(ctx))
    before = case_state(ctx.session, world.case.id)
    with pytest.raises(NotAllowed) as raised:
        cases.transition(ctx, world.case, Stage.ACKNOWLEDGED, outsider)
    assert not isinstance(raised.value, ForbiddenTransition), "the move itself is allowed"
    assert case_state(ctx.session, world.case.id) == before


def test_a_reviewer_who_recused_is_not_allowed(ctx, world):
    cases.recuse(ctx, world.case, Actor.for_user(world.lead), "I know the owner.")
    before = case_state(ctx.session, world.case.id)
    with pytest.raises(NotAllowed):
        cases.transition(ctx, world.case, Stage.ACKNOWLEDGED, Actor.for_user(world.lead))
    assert case_state(ctx.session, world.case.id) == before


def test_outsiders_of_every_other_role_are_not_allowed(ctx, world):
    other = new_case(ctx)
    other_company = make_company(ctx)
    outsiders = {
        Stage.ACKNOWLEDGED: Actor.for_user(
            make_user(ctx, Role.SECRETARIAT, mechanisms=[other.case.mechanism])
        ),
        Stage.WITHDRAWN: Actor.for_complainant(other.complainant),
    }
    before = case_state(ctx.session, world.case.id)
    for target, actor in outsiders.items():
        with pytest.raises(NotAllowed) as raised:
            cases.transition(ctx, world.case, target, actor, "Reasons.")
        assert not isinstance(raised.value, ForbiddenTransition), actor
    findings = make_world(ctx, Stage.FINDINGS)
    stranger = Actor.for_user(make_user(ctx, Role.COMPANY, company=other_company))
    with pytest.raises(NotAllowed) as raised:
        cases.transition(ctx, findings.case, Stage.APPEAL, stranger, "Reasons.")
    assert not isinstance(raised.value, ForbiddenTransition)
    assert case_state(ctx.session, world.case.id) == before
    assert case_state(ctx.session, findings.case.id).stage is Stage.FINDINGS


def test_the_reviewer_who_proposed_cannot_confirm(ctx):
    world = make_world(ctx, Stage.ADMISSIBILITY)
    lead = Actor.for_user(world.lead)
    proposal = cases.propose_decision(ctx, world.case, Stage.INADMISSIBLE, lead, "Out of scope.")
    before = case_state(ctx.session, world.case.id)
    with pytest.raises(FourEyesViolation):
        cases.confirm_decision(ctx, proposal, lead)
    assert case_state(ctx.session, world.case.id) == before
    assert ctx.session.get(DecisionProposal, proposal.id).state is ProposalState.PENDING


def test_a_reviewer_not_on_the_case_cannot_confirm(ctx):
    world = make_world(ctx, Stage.ADMISSIBILITY)
    proposal = cases.propose_decision(
        ctx, world.case, Stage.INADMISSIBLE, Actor.for_user(world.lead), "Out of scope."
    )
    before = case_state(ctx.session, world.case.id)
    for actor in (Actor.for_user(make_reviewer(ctx)), world.actors["secretariat"], SYSTEM):
        with pytest.raises(NotAllowed):
            cases.confirm_decision(ctx, proposal, actor)
    assert case_state(ctx.session, world.case.id) == before


def test_a_second_pending_proposal_is_refused(ctx):
    world = make_world(ctx, Stage.ADMISSIBILITY)
    cases.propose_decision(
        ctx, world.case, Stage.INADMISSIBLE, Actor.for_user(world.lead), "Out of scope."
    )
    before = case_state(ctx.session, world.case.id)
    for reviewer in (world.lead, world.second):
        with pytest.raises(ProposalPending):
            cases.propose_decision(
                ctx, world.case, Stage.REFERRED, Actor.for_user(reviewer), "Better placed."
            )
    assert case_state(ctx.session, world.case.id) == before
    assert len(before.proposals) == 1


@pytest.mark.parametrize(
    ("source", "target"),
    [key for key, move in lifecycle.TRANSITIONS.items() if move.needs_reason],
    ids=str,
)
def test_moves_that_need_a_reason_refuse_an_empty_one(ctx, source, target):
    world = make_world(ctx, source)
    move = lifecycle.find(source, target)
    role = next(
        r for r in ("reviewer", "complainant", "company") if world.actors[r].role in move.roles
    )
    actor = world.actors[role]
    service = cases.propose_decision if move.four_eyes else cases.transition
    before = case_state(ctx.session, world.case.id)
    for reason in ("", "   ", "\n\t"):
        with pytest.raises(ReasonRequired):
            service(ctx, world.case, target, actor, reason)
    assert case_state(ctx.session, world.case.id) == before


def test_confirm_writes_both_reviewers_into_the_log(ctx, clock):
    world = make_world(ctx, Stage.INVESTIGATION)
    lead, second = Actor.for_user(world.lead), Actor.for_user(world.second)
    proposal = cases.propose_decision(ctx, world.case, Stage.FINDINGS, lead, "  Wages unpaid. ")
    proposed_event = last_event(ctx.session, world.case.id)
    assert proposed_event.kind == "decision_proposed"
    assert (proposed_event.actor_role, proposed_event.actor_id) == (Role.REVIEWER, lead.user_id)
    assert proposed_event.payload == {
        "proposal_id": proposal.id,
        "to_stage": "findings",
        "reason": "Wages unpaid.",
    }

    clock.advance(days=2)
    case = cases.confirm_decision(ctx, proposal, second)

    assert case.stage is Stage.FINDINGS
    assert case.stage_entered_at == clock.now()
    event = last_event(ctx.session, world.case.id)
    assert event.kind == "stage_changed"
    assert (event.stage_from, event.stage_to) == (Stage.INVESTIGATION, Stage.FINDINGS)
    assert (event.actor_role, event.actor_id) == (Role.REVIEWER, second.user_id)
    assert event.payload["proposal_id"] == proposal.id
    assert event.payload["proposed_by"] == lead.user_id
    assert event.payload["reason"] == "Wages unpaid."
    stored = ctx.session.get(DecisionProposal, proposal.id)
    assert stored.state is ProposalState.CONFIRMED
    assert (stored.decided_by_id, stored.decided_at) == (second.user_id, clock.now())
    with pytest.raises(ServiceError):  # a confirmed proposal is spent
        cases.confirm_decision(ctx, proposal, second)
    assert caselog.verify_case(ctx.session, case) is None


def test_withdraw_decision(ctx, clock):
    world = make_world(ctx, Stage.ADMISSIBILITY)
    lead, second = Actor.for_user(world.lead), Actor.for_user(world.second)
    proposal = cases.propose_decision(ctx, world.case, Stage.INADMISSIBLE, lead, "Out of scope.")
    before = case_state(ctx.session, world.case.id)

    with pytest.raises(ReasonRequired):
        cases.withdraw_decision(ctx, proposal, second, " ")
    for outsider in (world.actors["company"], world.actors["complainant"], SYSTEM):
        with pytest.raises(NotAllowed):
            cases.withdraw_decision(ctx, proposal, outsider, "No.")
    with pytest.raises(NotAllowed):
        cases.withdraw_decision(ctx, proposal, Actor.for_user(make_reviewer(ctx)), "No.")
    assert case_state(ctx.session, world.case.id) == before

    clock.advance(hours=3)
    withdrawn = cases.withdraw_decision(ctx, proposal, second, " The scope covers it. ")
    assert withdrawn.state is ProposalState.WITHDRAWN
    assert (withdrawn.decided_by_id, withdrawn.decided_at) == (second.user_id, clock.now())
    after = case_state(ctx.session, world.case.id)
    assert after.stage is Stage.ADMISSIBILITY
    assert after.event_count == before.event_count + 1
    event = last_event(ctx.session, world.case.id)
    assert event.kind == "decision_withdrawn"
    assert event.actor_id == second.user_id
    assert event.payload == {
        "proposal_id": proposal.id,
        "to_stage": "inadmissible",
        "reason": "The scope covers it.",
    }

    # spent: neither confirmed nor withdrawn again, and a new proposal may follow
    with pytest.raises(ServiceError):
        cases.confirm_decision(ctx, proposal, second)
    with pytest.raises(ServiceError):
        cases.withdraw_decision(ctx, proposal, lead, "Again.")
    assert case_state(ctx.session, world.case.id) == after
    again = cases.propose_decision(ctx, world.case, Stage.REFERRED, lead, "Better placed.")
    cases.confirm_decision(ctx, again, second)
    assert case_state(ctx.session, world.case.id).stage is Stage.REFERRED


def test_a_proposal_made_before_an_appeal_cannot_decide_the_appeal(ctx, clock):
    world = make_world(ctx, Stage.FINDINGS)
    proposal = cases.propose_decision(
        ctx, world.case, Stage.CLOSED, Actor.for_user(world.lead), "The findings suffice."
    )
    clock.advance(days=1)
    cases.transition(
        ctx, world.case, Stage.APPEAL, world.actors["complainant"], "The facts are wrong."
    )
    before = case_state(ctx.session, world.case.id)
    clock.advance(days=1)
    with pytest.raises(ServiceError):
        cases.confirm_decision(ctx, proposal, world.confirmer)
    assert case_state(ctx.session, world.case.id) == before
    # The appeal moved the case on: the proposal was dropped, in the log.
    assert proposal.state is ProposalState.WITHDRAWN
    dropped = [e for e in world.case.events if e.kind == "decision_withdrawn"]
    assert dropped[-1].payload["proposal_id"] == proposal.id
    assert "appeal" in dropped[-1].payload["reason"]


def test_appeal_reopens_an_inadmissible_case(ctx, clock):
    world = make_world(ctx, Stage.INADMISSIBLE)
    assert world.case.closed_at is not None
    clock.advance(days=5)
    case = cases.transition(
        ctx, world.case, Stage.APPEAL, world.actors["complainant"], "They did not read it."
    )
    assert case.stage is Stage.APPEAL
    assert case.closed_at is None
    event = last_event(ctx.session, case.id)
    assert (event.actor_role, event.actor_id) == (Role.COMPLAINANT, None)


def test_a_case_walks_from_received_to_closed(ctx):
    """The whole usual path, every event chained (the former smoke test)."""
    filed, lead, second = staff_case(ctx)
    case = walk_to(ctx, filed, Stage.CLOSED, lead, second)
    assert case.stage is Stage.CLOSED
    ctx.session.expire(case)
    assert case.event_count == len(case.events)
    moves = [(e.stage_from, e.stage_to) for e in case.events if e.kind == "stage_changed"]
    path = lifecycle.path_to(Stage.CLOSED)
    assert moves == list(itertools.pairwise(path))
    assert caselog.verify_case(ctx.session, case) is None


# -- decide: the service chooses between a proposal and a move -------------------------

#: The stages a move leaves from, in the lifecycle's order.
SOURCES = [stage for stage in Stage if lifecycle.moves_from(stage)]


@pytest.mark.parametrize("source", SOURCES, ids=str)
def test_decide_proposes_exactly_the_four_eyes_moves_and_makes_the_others(ctx, clock, source):
    """For every move of the table, by a role it names: a decision that ends or narrows
    the case is proposed (the case stays where it is), any other move is made now."""
    world = make_world(ctx, source)
    session = ctx.session
    case_id = world.case.id
    clock.advance(hours=1)
    before = case_state(session, case_id)
    for move in lifecycle.moves_from(source):
        role = next(
            r for r in ("reviewer", "complainant", "company") if world.actors[r].role in move.roles
        )
        actor = world.actors[role]
        label = f"{source} -> {move.target} as {role}"
        savepoint = session.begin_nested()
        try:
            if (source, move.target) == (Stage.REMEDY_PLAN, Stage.REMEDY_IMPLEMENTATION):
                # only with the plan approved (test_remedy.py approves one for real)
                plan = RemedyPlan(case_id=case_id, state=PlanState.APPROVED, created_at=ctx.now())
                session.add(plan)
                session.flush()
            case = session.get_one(Case, case_id)
            decided = cases.decide(ctx, case, move.target, actor, "Reasons.")
            after = case_state(session, case_id)
            event = last_event(session, case_id)
            assert decided.target is move.target, label
            assert decided.case.id == case_id, label
            assert after.event_count == before.event_count + 1, label
            assert (event.actor_role, event.actor_id) == (actor.role, actor.user_id), label
            if move.four_eyes:
                assert decided.outcome is cases.Outcome.PROPOSED, label
                assert (decided.proposed, decided.moved) == (True, False), label
                proposal = decided.proposal
                assert proposal is not None, label
                assert proposal.state is ProposalState.PENDING, label
                assert (proposal.to_stage, proposal.proposed_by_id) == (move.target, actor.user_id)
                assert after.stage is source, f"{label}: a proposal alone moved the case"
                assert event.kind == "decision_proposed", label
            else:
                assert decided.outcome is cases.Outcome.MOVED, label
                assert (decided.proposed, decided.moved) == (False, True), label
                assert decided.proposal is None, label
                assert after.stage is move.target, label
                assert after.proposals == before.proposals, label
                assert event.kind == "stage_changed", label
                assert (event.stage_from, event.stage_to) == (source, move.target), label
            assert caselog.verify_case(session, session.get_one(Case, case_id)) is None
        finally:
            savepoint.rollback()
            session.expunge_all()
        assert case_state(session, case_id) == before


def test_a_decision_decided_takes_a_second_reviewer(ctx, clock):
    """Four eyes through `decide`: the proposer can neither confirm their own proposal nor
    force it by deciding again; the other reviewer's confirmation puts it in force."""
    world = make_world(ctx, Stage.INVESTIGATION)
    lead, second = Actor.for_user(world.lead), Actor.for_user(world.second)
    decided = cases.decide(ctx, world.case, Stage.FINDINGS, lead, " Wages unpaid. ")
    assert decided.outcome is cases.Outcome.PROPOSED
    proposal = decided.proposal
    assert proposal is not None
    assert proposal.reason == "Wages unpaid."
    before = case_state(ctx.session, world.case.id)
    assert before.stage is Stage.INVESTIGATION

    with pytest.raises(FourEyesViolation):
        cases.confirm_decision(ctx, proposal, lead)
    with pytest.raises(ProposalPending):
        cases.decide(ctx, world.case, Stage.FINDINGS, lead, "Wages unpaid.")
    with pytest.raises(FourEyesRequired):
        cases.transition(ctx, world.case, Stage.FINDINGS, lead, "Wages unpaid.")
    assert case_state(ctx.session, world.case.id) == before
    assert ctx.session.get(DecisionProposal, proposal.id).state is ProposalState.PENDING

    clock.advance(days=1)
    case = cases.confirm_decision(ctx, proposal, second)
    assert case.stage is Stage.FINDINGS
    event = last_event(ctx.session, case.id)
    assert (event.actor_id, event.payload["proposed_by"]) == (second.user_id, lead.user_id)


def test_decide_while_a_decision_is_pending(ctx, clock):
    """While a decision waits for its second reviewer, another one is refused (from either
    reviewer, writing nothing); a move that needs one reviewer is made, and the waiting
    proposal, which applied to the stage the case leaves, is dropped in the log."""
    world = make_world(ctx, Stage.ADMISSIBILITY)
    lead, second = Actor.for_user(world.lead), Actor.for_user(world.second)
    waiting = cases.decide(ctx, world.case, Stage.INADMISSIBLE, lead, "Out of scope.").proposal
    assert waiting is not None
    before = case_state(ctx.session, world.case.id)
    for actor in (lead, second):
        for target in (Stage.INADMISSIBLE, Stage.REFERRED):
            with pytest.raises(ProposalPending):
                cases.decide(ctx, world.case, target, actor, "Better placed.")
    assert case_state(ctx.session, world.case.id) == before

    clock.advance(hours=2)
    decided = cases.decide(ctx, world.case, Stage.INVESTIGATION, second, "Admissible after all.")
    assert decided.outcome is cases.Outcome.MOVED
    assert decided.case.stage is Stage.INVESTIGATION
    assert waiting.state is ProposalState.WITHDRAWN
    kinds = [e.kind for e in world.case.events[-2:]]
    assert kinds == ["decision_withdrawn", "stage_changed"]


def test_decide_refuses_as_the_lifecycle_does(ctx):
    """Refusals come from the same checks as `transition`: no such move, not this role's,
    not on the case, no reasons; each writes nothing."""
    world = make_world(ctx, Stage.ADMISSIBILITY)
    lead = Actor.for_user(world.lead)
    before = case_state(ctx.session, world.case.id)
    with pytest.raises(ForbiddenTransition):
        cases.decide(ctx, world.case, Stage.CLOSED, lead, "Reasons.")
    with pytest.raises(ForbiddenTransition):
        cases.decide(ctx, world.case, Stage.INADMISSIBLE, world.actors["company"], "Reasons.")
    with pytest.raises(NotAllowed):
        cases.decide(
            ctx, world.case, Stage.INADMISSIBLE, Actor.for_user(make_reviewer(ctx)), "Reasons."
        )
    for target in (Stage.INADMISSIBLE, Stage.INVESTIGATION):
        with pytest.raises(ReasonRequired):
            cases.decide(ctx, world.case, target, lead, "  ")
    assert case_state(ctx.session, world.case.id) == before


# -- atomicity ------------------------------------------------------------------------


class Boom(RuntimeError):
    pass


def _reloaded(ctx, case_id: int) -> Case:
    ctx.session.expire_all()
    case = ctx.session.get(Case, case_id)
    ctx.session.refresh(case)
    return case


def test_a_failure_after_the_stage_was_set_leaves_nothing(ctx, clock, world, monkeypatch):
    case_id = world.case.id
    before = case_state(ctx.session, case_id)
    # the company named in the case has its own time limit to respond (#13)
    company_id = world.case.involvements[0].company_id
    assert {d[0] for d in before.deadlines} == {
        "acknowledge",
        "admissibility",
        f"company.{company_id}.response",
    }
    clock.advance(days=1)
    seen = {}

    def failing_append(session, case, kind, *args, **kwargs):
        # The change is made and its deadlines are already flushed to the database.
        seen["stage"] = case.stage
        seen["deadlines"] = session.scalar(
            select(func.count()).select_from(Deadline).where(Deadline.case_id == case.id)
        )
        raise Boom("the disk is full")

    monkeypatch.setattr(caselog, "append", failing_append)
    with pytest.raises(Boom):
        cases.transition(ctx, world.case, Stage.ACKNOWLEDGED, world.actors["reviewer"])
    monkeypatch.undo()

    assert seen == {"stage": Stage.ACKNOWLEDGED, "deadlines": 5}, "failed too early to prove it"
    case = _reloaded(ctx, case_id)
    assert case.stage is Stage.RECEIVED
    assert case.stage_entered_at == before.stage_entered_at
    assert case.acknowledged_at is None
    assert case.event_count == before.event_count
    assert case_state(ctx.session, case_id) == before
    # and the service works again afterwards
    cases.transition(ctx, case, Stage.ACKNOWLEDGED, world.actors["reviewer"])
    assert case_state(ctx.session, case_id).stage is Stage.ACKNOWLEDGED


def test_a_failure_while_confirming_leaves_the_proposal_pending(ctx, monkeypatch):
    world = make_world(ctx, Stage.ADMISSIBILITY)
    proposal = cases.propose_decision(
        ctx, world.case, Stage.INADMISSIBLE, Actor.for_user(world.lead), "Out of scope."
    )
    before = case_state(ctx.session, world.case.id)

    def failing_append(session, case, kind, *args, **kwargs):
        assert case.stage is Stage.INADMISSIBLE
        raise Boom("power cut")

    monkeypatch.setattr(caselog, "append", failing_append)
    with pytest.raises(Boom):
        cases.confirm_decision(ctx, proposal, Actor.for_user(world.second))
    monkeypatch.undo()

    _reloaded(ctx, world.case.id)
    assert case_state(ctx.session, world.case.id) == before
    stored = ctx.session.get(DecisionProposal, proposal.id)
    assert stored.state is ProposalState.PENDING
    assert stored.decided_by_id is None


def test_a_database_constraint_failure_on_the_event_leaves_nothing(ctx, clock, monkeypatch):
    """The event insert breaks the unique constraint on the hash: the whole change,
    stage and deadlines included, is rolled back with it."""
    world = make_world(ctx, Stage.ACKNOWLEDGED)
    case_id = world.case.id
    before = case_state(ctx.session, case_id)
    clock.advance(days=2)
    # An existing event's hash: inserting a second event with it violates uq hash.
    monkeypatch.setattr(caselog, "compute_hash", lambda event, reference: before.log_head)

    with pytest.raises(IntegrityError):
        cases.transition(ctx, world.case, Stage.ADMISSIBILITY, world.actors["reviewer"])
    monkeypatch.undo()

    case = _reloaded(ctx, case_id)
    assert case.stage is Stage.ACKNOWLEDGED
    assert case.stage_entered_at == before.stage_entered_at
    assert case.event_count == before.event_count
    assert case_state(ctx.session, case_id) == before
    assert caselog.verify_case(ctx.session, case) is None
    cases.transition(ctx, case, Stage.ADMISSIBILITY, world.actors["reviewer"])
    assert case_state(ctx.session, case_id).event_count == before.event_count + 1


def test_a_database_failure_rolls_back_closed_deadlines(ctx, clock, world, monkeypatch):
    """Entering `acknowledged` closes a deadline and opens two; a failing event insert
    undoes all three."""
    before = case_state(ctx.session, world.case.id)
    clock.advance(timedelta(days=8))  # the acknowledgement would be missed
    monkeypatch.setattr(caselog, "compute_hash", lambda event, reference: before.log_head)
    with pytest.raises(IntegrityError):
        cases.transition(ctx, world.case, Stage.ACKNOWLEDGED, world.actors["secretariat"])
    monkeypatch.undo()
    _reloaded(ctx, world.case.id)
    assert case_state(ctx.session, world.case.id) == before
    states = {code: state for code, state, *_ in before.deadlines if "company" not in code}
    assert states == {"acknowledge": "open", "admissibility": "open"}
