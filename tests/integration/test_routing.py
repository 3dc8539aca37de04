"""Routing through the services: who gets a case when it is filed, and again when a
reviewer leaves it; conflicts always respected (R06); the secretariat's override."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest
from sqlalchemy import event, func, select

from grievance.models import (
    Assignment,
    AssignmentRole,
    Case,
    CompanyKind,
    Conflict,
    ReviewerLoad,
    ReviewerProfile,
    Role,
    StaffNotification,
    Stage,
    User,
    Visibility,
)
from grievance.models.case import ENDED_STAGES
from grievance.services import caselog, cases, involvement, loads, routing
from grievance.services.actors import SYSTEM, Actor
from grievance.services.errors import (
    ConflictOfInterest,
    InvalidInput,
    NotAllowed,
    ReasonRequired,
)
from tests.factories import (
    assigned_ids,
    events_of,
    make_company,
    make_mechanism,
    make_reviewer,
    make_secretariat,
    make_site,
    new_case,
    walk_to,
)

LEAD, SECOND = AssignmentRole.LEAD, AssignmentRole.SECOND


@pytest.fixture
def tex(ctx):
    return make_mechanism(ctx, "TEX")


def notified(ctx, kind: str, case: Case | None = None) -> list[int]:
    query = select(StaffNotification.user_id).where(StaffNotification.kind == kind)
    if case is not None:
        query = query.where(StaffNotification.case_id == case.id)
    return sorted(ctx.session.scalars(query))


def ids(*users: User) -> list[int]:
    return [user.id for user in users]


# -- the order of preference ------------------------------------------------------------------


def test_a_reviewer_who_reads_the_language_comes_first(ctx, tex):
    expert = make_reviewer(
        ctx, languages=["en"], themes=["living_wage"], countries=["BD"], capacity=20
    )
    reader = make_reviewer(ctx, languages=["bn", "en"])
    case = new_case(ctx, tex, language="bn").case
    assert assigned_ids(ctx, case) == {LEAD: reader.id, SECOND: expert.id}
    assert case.needs_interpreter is False
    lead_event, second_event = events_of(ctx.session, case, "reviewer_assigned")
    assert "language: reads bn" in lead_event.payload["reasons"]
    assert "language: does not read bn" in second_event.payload["reasons"]
    assert lead_event.payload["trigger"] == "case filed"
    assert lead_event.actor_role is Role.SYSTEM


def test_a_case_nobody_reads_needs_an_interpreter(ctx, tex):
    first, second = make_reviewer(ctx, languages=["en"]), make_reviewer(ctx, languages=["ta"])
    case = new_case(ctx, tex, language="bn").case
    assert assigned_ids(ctx, case) == {LEAD: first.id, SECOND: second.id}
    assert case.needs_interpreter is True
    assert events_of(ctx.session, case, "reviewer_assigned")[-1].payload["needs_interpreter"]


def test_the_flag_follows_the_reviewers(ctx, tex):
    """When the only reviewer who reads the language leaves and nobody who reads it is
    left, the case needs an interpreter; when a reader comes back, it no longer does."""
    reader = make_reviewer(ctx, languages=["bn"])
    other = make_reviewer(ctx, languages=["en"])
    case = new_case(ctx, tex, language="bn").case
    assert assigned_ids(ctx, case) == {LEAD: reader.id, SECOND: other.id}
    assert case.needs_interpreter is False
    cases.recuse(ctx, case, Actor.for_user(reader), "I know the factory owner.")
    assert assigned_ids(ctx, case) == {SECOND: other.id}
    assert case.needs_interpreter is True
    (left,) = events_of(ctx.session, case, "reviewer_unassigned")
    assert left.payload["needs_interpreter"] is True
    late_reader = make_reviewer(ctx, languages=["bn"])
    routing.route_case(ctx, case, SYSTEM, reason="a reviewer joined the pool")
    assert assigned_ids(ctx, case) == {LEAD: late_reader.id, SECOND: other.id}
    assert case.needs_interpreter is False


def test_theme_and_country_expertise_come_next(ctx, tex):
    make_reviewer(ctx, languages=["bn"])  # reads it, knows nothing of the subject
    country = make_reviewer(ctx, languages=["bn"], countries=["BD"])
    theme = make_reviewer(ctx, languages=["bn"], themes=["living_wage", "reprisal"])
    both = make_reviewer(ctx, languages=["bn"], themes=["living_wage"], countries=["BD"])
    case = new_case(ctx, tex, language="bn", themes=["living_wage"], country="BD").case
    assert assigned_ids(ctx, case) == {LEAD: both.id, SECOND: country.id}  # 2, then 1 (id)
    (lead_event, _) = events_of(ctx.session, case, "reviewer_assigned")
    assert "themes: living_wage" in lead_event.payload["reasons"]
    assert "country: BD" in lead_event.payload["reasons"]
    other = new_case(ctx, tex, language="bn", themes=["reprisal"], country="IN").case
    assert assigned_ids(ctx, other)[LEAD] == theme.id


def test_load_is_balanced_over_many_cases(ctx, tex):
    reviewers = [make_reviewer(ctx, languages=["bn"], capacity=100) for _ in range(4)]
    for _ in range(60):
        new_case(ctx, tex)
    load = Counter(
        ctx.session.scalars(select(Assignment.reviewer_id).where(Assignment.ended_at.is_(None)))
    )
    assert sum(load.values()) == 120
    assert set(load) == set(ids(*reviewers))
    assert max(load.values()) - min(load.values()) <= 1


def test_ended_cases_do_not_count_as_load(ctx, tex):
    busy, idle = make_reviewer(ctx, languages=["bn"]), make_reviewer(ctx, languages=["bn"])
    make_reviewer(ctx, languages=["bn"])
    filed = new_case(ctx, tex)
    assert assigned_ids(ctx, filed.case) == {LEAD: busy.id, SECOND: idle.id}
    walk_to(ctx, filed, Stage.CLOSED, busy, idle)
    # closed: their load is zero again, and the lowest ids win the tie
    assert assigned_ids(ctx, new_case(ctx, tex).case) == {LEAD: busy.id, SECOND: idle.id}


def test_the_load_follows_the_case_into_and_out_of_an_ended_stage(ctx, tex):
    """`Assignment.case_open`, which the load is counted from, follows every stage change
    that ends a case or reopens it (an appeal), and no other."""
    reviewers = [make_reviewer(ctx, languages=["bn"]) for _ in range(3)]
    filed = new_case(ctx, tex)
    lead, second = reviewers[0], reviewers[1]

    def loads() -> dict[int, int]:
        return {item.reviewer_id: item.load for item in routing.candidates(ctx)}

    assert loads() == {lead.id: 1, second.id: 1, reviewers[2].id: 0}
    ended = walk_to(ctx, filed, Stage.INADMISSIBLE, lead, second)
    rows = ctx.session.scalars(select(Assignment).where(Assignment.case_id == filed.case.id))
    assert [row.case_open for row in rows] == [False, False]
    assert loads() == {lead.id: 0, second.id: 0, reviewers[2].id: 0}
    complainant = Actor.for_complainant(filed.complainant)
    cases.transition(ctx, ended, Stage.APPEAL, complainant, "I appeal.")
    assert loads() == {lead.id: 1, second.id: 1, reviewers[2].id: 0}


def test_the_loads_kept_as_they_change_are_those_counted_afresh(ctx, tex):
    """`services.loads`: the rows written beside each change sum to the loads counted from
    the assignments, before and after the worker folds them, and a load is read from a
    few rows of its own, never from the cases (at a million cases that read was a
    sequential scan of both, while the mechanism's reference number was locked)."""
    reviewers = [make_reviewer(ctx, languages=["bn"], capacity=100) for _ in range(4)]
    filed = [new_case(ctx, tex) for _ in range(6)]
    walk_to(ctx, filed[0], Stage.CLOSED, reviewers[0], reviewers[1])
    cases.recuse(ctx, filed[1].case, Actor.for_user(reviewers[2]), "My cousin runs it.")

    def kept() -> dict[int, int]:
        return loads.of(ctx.session, [reviewer.id for reviewer in reviewers])

    before = kept()
    counted = Counter(
        ctx.session.scalars(
            select(Assignment.reviewer_id)
            .join(Case, Case.id == Assignment.case_id)
            .where(Assignment.ended_at.is_(None), Case.stage.not_in(ENDED_STAGES))
        )
    )
    assert before == {reviewer.id: counted[reviewer.id] for reviewer in reviewers}
    assert sum(before.values()) == 10  # five open cases, two reviewers each
    rows = ctx.session.scalar(select(func.count()).select_from(ReviewerLoad))
    assert loads.compact(ctx.session) == rows - len([n for n in before.values() if n])
    assert kept() == before
    loads.recount(ctx.session)
    assert kept() == before

    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    engine = ctx.session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        routing.candidates(ctx)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert not [statement for statement in seen if "assignment" in statement]


def test_the_same_state_gives_the_same_choice(ctx, tex):
    for languages in (["en"], ["bn"], ["bn"], ["ta", "bn"]):
        make_reviewer(ctx, languages=languages)
    case = new_case(ctx, tex).case
    first = assigned_ids(ctx, case)
    # the state before the choice, read back from the database, in another order
    facts = replace(routing.case_facts(ctx, case), assigned=frozenset())
    pool = [
        replace(item, load=item.load - (item.reviewer_id in first.values()))
        for item in reversed(routing.candidates(ctx))
    ]
    for _ in range(3):
        again = routing.plan(facts, pool)
        assert {pick.role: pick.reviewer_id for pick in again.picks} == first


# -- conflicts of interest, always -------------------------------------------------------------


def test_a_reviewer_with_a_conflict_with_the_site_or_its_company_is_never_chosen(ctx, tex):
    supplier = make_company(ctx, tex, CompanyKind.SUPPLIER)
    site = make_site(ctx, supplier)
    on_site = make_reviewer(ctx, languages=["bn"], conflicts=[site])
    on_company = make_reviewer(ctx, languages=["bn"], conflicts=[supplier])
    free = make_reviewer(ctx, languages=["en"])
    secretariat = make_secretariat(ctx, tex)
    case = new_case(ctx, tex, site_id=site.id).case
    assert assigned_ids(ctx, case) == {LEAD: free.id}
    (event,) = events_of(ctx.session, case, "reviewer_assigned")
    assert f"excluded: conflict {on_site.id}, {on_company.id}" in event.payload["reasons"]
    assert notified(ctx, routing.REVIEWER_NEEDED, case) == ids(*secretariat)


def test_a_company_added_later_that_a_reviewer_has_a_conflict_with_reassigns(ctx, tex):
    brand = make_company(ctx, tex)
    conflicted = make_reviewer(ctx, languages=["bn"], conflicts=[brand])
    second = make_reviewer(ctx, languages=["bn"])
    replacement = make_reviewer(ctx, languages=["bn"])
    case = new_case(ctx, tex).case
    assert assigned_ids(ctx, case) == {LEAD: conflicted.id, SECOND: second.id}

    involvement.add_company(ctx, case, brand, Actor.for_user(second))

    assert assigned_ids(ctx, case) == {LEAD: replacement.id, SECOND: second.id}
    ended = ctx.session.scalars(
        select(Assignment).where(Assignment.reviewer_id == conflicted.id)
    ).one()
    assert ended.end_reason.startswith("conflict")
    kinds = [event.kind for event in events_of(ctx.session, case)]
    assert kinds[-3:] == ["company_added", "reviewer_unassigned", "reviewer_assigned"]
    unassigned = events_of(ctx.session, case, "reviewer_unassigned")[-1]
    assert unassigned.payload["reviewer_id"] == conflicted.id
    assert unassigned.actor_role is Role.SYSTEM
    assert f"conflict with company {brand.id}" in unassigned.payload["reason"]
    assigned = events_of(ctx.session, case, "reviewer_assigned")[-1]
    assert assigned.payload["trigger"] == f"company {brand.id} was added to the case"
    assert list(caselog.verify_all(ctx.session)) == []


def test_a_company_without_conflicts_changes_nobody(ctx, tex):
    make_reviewer(ctx, languages=["bn"]), make_reviewer(ctx, languages=["bn"])
    case = new_case(ctx, tex).case
    before = assigned_ids(ctx, case)
    involvement.add_company(ctx, case, make_company(ctx, tex), SYSTEM)
    assert assigned_ids(ctx, case) == before
    assert events_of(ctx.session, case, "reviewer_unassigned") == []


def test_a_newly_declared_conflict_reassigns_the_cases_it_touches(ctx, tex):
    supplier = make_company(ctx, tex, CompanyKind.SUPPLIER)
    site = make_site(ctx, supplier)
    lead = make_reviewer(ctx, languages=["bn"], capacity=5)
    second = make_reviewer(ctx, languages=["bn"], capacity=5)
    spare = make_reviewer(ctx, languages=["en"], capacity=5)
    touched = new_case(ctx, tex, site_id=site.id).case
    untouched = new_case(ctx, tex).case
    assert assigned_ids(ctx, touched)[LEAD] == assigned_ids(ctx, untouched)[LEAD] == lead.id

    conflict = routing.declare_conflict(
        ctx, lead, supplier, "My brother manages its dyeing unit.", Actor.for_user(lead)
    )

    assert conflict.company_id == supplier.id
    assert conflict.declared_on == ctx.now().date()
    assert assigned_ids(ctx, touched) == {LEAD: spare.id, SECOND: second.id}
    assert assigned_ids(ctx, untouched)[LEAD] == lead.id
    unassigned = events_of(ctx.session, touched, "reviewer_unassigned")[-1]
    assert unassigned.payload["reviewer_id"] == lead.id
    assert unassigned.payload["reason"].startswith("conflict: a conflict of interest was declared")
    assert events_of(ctx.session, untouched, "reviewer_unassigned") == []


def test_who_may_declare_a_conflict(ctx, tex):
    reviewer, other = make_reviewer(ctx), make_reviewer(ctx)
    company = make_company(ctx, tex)
    with pytest.raises(NotAllowed):
        routing.declare_conflict(ctx, reviewer, company, "For them.", Actor.for_user(other))
    with pytest.raises(ReasonRequired):
        routing.declare_conflict(ctx, reviewer, company, "  ", Actor.for_user(reviewer))
    secretariat = Actor.for_user(make_secretariat(ctx, tex)[0])
    routing.declare_conflict(ctx, reviewer, company, "Former employer.", secretariat)
    with pytest.raises(InvalidInput):
        routing.declare_conflict(ctx, reviewer, company, "Again.", Actor.for_user(reviewer))
    count = ctx.session.scalars(select(Conflict).where(Conflict.reviewer_id == reviewer.id))
    assert len(count.all()) == 1


def test_the_conflict_check_still_guards_assigning_by_hand(ctx, tex):
    company = make_company(ctx, tex)
    case = new_case(ctx, tex).case
    involvement.add_company(ctx, case, company, SYSTEM)
    conflicted = make_reviewer(ctx, conflicts=[company])
    with pytest.raises(ConflictOfInterest):
        cases.assign_reviewer(ctx, case, conflicted, LEAD, SYSTEM)
    secretariat = Actor.for_user(make_secretariat(ctx, tex)[0])
    with pytest.raises(NotAllowed):  # the secretariat overrides, with a reason
        cases.assign_reviewer(ctx, case, make_reviewer(ctx), LEAD, secretariat)


# -- leaving a case ------------------------------------------------------------------------------


def test_recusal_reroutes_and_never_back_to_the_recused_reviewer(ctx, tex):
    secretariat = make_secretariat(ctx, tex)
    first, second, third = (make_reviewer(ctx, languages=["bn"]) for _ in range(3))
    case = new_case(ctx, tex).case
    assert assigned_ids(ctx, case) == {LEAD: first.id, SECOND: second.id}

    cases.recuse(ctx, case, Actor.for_user(first), "I audited this factory last year.")
    assert assigned_ids(ctx, case) == {LEAD: third.id, SECOND: second.id}
    event = events_of(ctx.session, case, "reviewer_assigned")[-1]
    assert event.payload["trigger"] == "the lead recused"

    # the recused reviewer has the lightest load now, and is still never routed back
    cases.recuse(ctx, case, Actor.for_user(third), "A relative works there.")
    assert assigned_ids(ctx, case) == {SECOND: second.id}
    assert notified(ctx, routing.REVIEWER_NEEDED, case) == ids(*secretariat)
    with pytest.raises(ConflictOfInterest):  # nor put back by the secretariat
        routing.override_assignment(
            ctx, case, Actor.for_user(secretariat[0]), first, LEAD, "Nobody else is free."
        )


def test_the_secretariat_removes_a_reviewer_and_routing_finds_another(ctx, tex):
    actor = Actor.for_user(make_secretariat(ctx, tex)[0])
    first, second, third = (make_reviewer(ctx, languages=["bn"]) for _ in range(3))
    case = new_case(ctx, tex).case
    with pytest.raises(ReasonRequired):
        routing.remove_reviewer(ctx, case, actor, second, "")
    with pytest.raises(InvalidInput):
        routing.remove_reviewer(ctx, case, actor, third, "Not even on it.")
    result = routing.remove_reviewer(ctx, case, actor, second, "On leave until June.")
    assert [row.reviewer_id for row in result.assigned] == [third.id]
    assert assigned_ids(ctx, case) == {LEAD: first.id, SECOND: third.id}
    unassigned = events_of(ctx.session, case, "reviewer_unassigned")[-1]
    assert unassigned.payload["reason"] == "removed: On leave until June."
    assert unassigned.actor_id == actor.user_id


# -- the secretariat's override ----------------------------------------------------------------


def test_the_secretariat_overrides_with_a_reason(ctx, tex):
    actor = Actor.for_user(make_secretariat(ctx, tex)[0])
    routed, second = make_reviewer(ctx, languages=["bn"]), make_reviewer(ctx, languages=["bn"])
    chosen = make_reviewer(ctx, languages=["en"], available=False)
    case = new_case(ctx, tex).case
    assert assigned_ids(ctx, case) == {LEAD: routed.id, SECOND: second.id}

    assignment = routing.override_assignment(
        ctx, case, actor, chosen, LEAD, "She knows this supplier's history best."
    )

    assert assignment.reviewer_id == chosen.id
    assert assigned_ids(ctx, case) == {LEAD: chosen.id, SECOND: second.id}
    unassigned = events_of(ctx.session, case, "reviewer_unassigned")[-1]
    assert unassigned.payload["reviewer_id"] == routed.id
    assert unassigned.payload["reason"].startswith("reassigned: She knows")
    event = events_of(ctx.session, case, "reviewer_assigned")[-1]
    assert event.actor_id == actor.user_id
    assert event.payload["override_reason"] == "She knows this supplier's history best."
    assert "despite: unavailable" in event.payload["reasons"]
    assert "chosen by the secretariat" in event.payload["reasons"]
    # the reviewer replaced is not routed back when a role falls empty
    cases.recuse(ctx, case, Actor.for_user(second), "Conflict discovered late.")
    assert assigned_ids(ctx, case) == {LEAD: chosen.id}


def test_overrides_that_are_refused(ctx, tex):
    actor = Actor.for_user(make_secretariat(ctx, tex)[0])
    other_secretariat = Actor.for_user(make_secretariat(ctx, make_mechanism(ctx, "NST"))[0])
    company = make_company(ctx, tex)
    lead, second = make_reviewer(ctx, languages=["bn"]), make_reviewer(ctx, languages=["bn"])
    conflicted = make_reviewer(ctx, conflicts=[company])
    spare = make_reviewer(ctx)
    case = new_case(ctx, tex).case
    involvement.add_company(ctx, case, company, SYSTEM)
    before = assigned_ids(ctx, case)
    assert before == {LEAD: lead.id, SECOND: second.id}

    with pytest.raises(ReasonRequired):
        routing.override_assignment(ctx, case, actor, spare, LEAD, "   ")
    with pytest.raises(NotAllowed):  # another mechanism's secretariat
        routing.override_assignment(ctx, case, other_secretariat, spare, LEAD, "Because.")
    with pytest.raises(NotAllowed):  # a reviewer
        routing.override_assignment(ctx, case, Actor.for_user(lead), spare, LEAD, "Because.")
    with pytest.raises(ConflictOfInterest):
        routing.override_assignment(ctx, case, actor, conflicted, LEAD, "Because.")
    with pytest.raises(InvalidInput):  # already on the case
        routing.override_assignment(ctx, case, actor, second, LEAD, "Because.")
    with pytest.raises(InvalidInput):  # not a reviewer
        routing.override_assignment(ctx, case, actor, User(id=-1), LEAD, "Because.")
    assert assigned_ids(ctx, case) == before
    assert events_of(ctx.session, case, "reviewer_unassigned") == []


# -- urgent cases and nobody to route to -----------------------------------------------------


@pytest.mark.parametrize(
    "filed_as",
    [{"urgent": True}, {"themes": ["child_labour"]}, {"themes": ["forced_labour"]}],
    ids=["someone in danger", "child labour", "forced labour"],
)
def test_an_urgent_case_is_assigned_at_once_and_both_reviewers_are_told(ctx, tex, filed_as):
    lead, second = make_reviewer(ctx, languages=["bn"]), make_reviewer(ctx, languages=["bn"])
    case = new_case(ctx, tex, **filed_as).case
    assert assigned_ids(ctx, case) == {LEAD: lead.id, SECOND: second.id}
    assert notified(ctx, routing.URGENT_CASE, case) == ids(lead, second)
    assert case.queue_rank == 0  # and first in the queue


def test_an_ordinary_case_tells_its_reviewers_and_not_the_secretariat(ctx, tex):
    lead, second = make_reviewer(ctx), make_reviewer(ctx)
    make_secretariat(ctx, tex)
    case = new_case(ctx, tex).case
    told = ctx.session.scalars(select(StaffNotification)).all()
    assert sorted((row.user_id, row.kind, row.case_id) for row in told) == [
        (lead.id, routing.CASE_ASSIGNED, case.id),
        (second.id, routing.CASE_ASSIGNED, case.id),
    ]
    assert not any(row.urgent for row in told)


def test_a_new_reviewer_of_an_urgent_case_is_told_too(ctx, tex):
    first, second, third = (make_reviewer(ctx, languages=["bn"]) for _ in range(3))
    case = new_case(ctx, tex, urgent=True).case
    cases.recuse(ctx, case, Actor.for_user(second), "I know the complainant's employer.")
    assert notified(ctx, routing.URGENT_CASE, case) == ids(first, second, third)


def test_nobody_eligible_leaves_the_case_unassigned_and_tells_the_secretariat(ctx, tex):
    secretariat = make_secretariat(ctx, tex, count=2)
    make_secretariat(ctx, make_mechanism(ctx, "NST"))  # not theirs
    make_reviewer(ctx, available=False)
    full = make_reviewer(ctx, capacity=1)
    new_case(ctx, tex)  # takes the last place of `full`
    assert notified(ctx, routing.REVIEWER_NEEDED) == ids(*secretariat)

    case = new_case(ctx, tex, urgent=True).case
    assert assigned_ids(ctx, case) == {}
    assert case.needs_interpreter is False
    assert events_of(ctx.session, case, "reviewer_assigned") == []
    assert notified(ctx, routing.REVIEWER_NEEDED, case) == ids(*secretariat)
    # told once while the notice is unread, not at every attempt
    routing.route_case(ctx, case, SYSTEM, reason="tried again")
    assert notified(ctx, routing.REVIEWER_NEEDED, case) == ids(*secretariat)
    # a reviewer becomes available: the secretariat routes the case again
    profile = ctx.session.get_one(ReviewerProfile, full.id)
    profile.capacity = 5
    actor = Actor.for_user(secretariat[0])
    result = routing.route_case(ctx, case, actor, reason="capacity raised")
    assert [row.reviewer_id for row in result.assigned] == [full.id]
    assert result.unfilled == [SECOND]
    assert notified(ctx, routing.URGENT_CASE, case) == [full.id]


def test_route_case_is_for_the_system_and_the_case_secretariat(ctx, tex):
    case = new_case(ctx, tex).case
    for actor in (
        Actor.for_user(make_reviewer(ctx)),
        Actor.for_user(make_secretariat(ctx, make_mechanism(ctx, "NST"))[0]),
    ):
        with pytest.raises(NotAllowed):
            routing.route_case(ctx, case, actor, reason="Because.")
    with pytest.raises(ReasonRequired):
        routing.route_case(ctx, case, SYSTEM, reason=" ")


# -- the log --------------------------------------------------------------------------------------


def test_the_score_and_reasons_are_internal(ctx, tex):
    make_reviewer(ctx, languages=["bn"], themes=["living_wage"]), make_reviewer(ctx)
    case = new_case(ctx, tex).case
    event = events_of(ctx.session, case, "reviewer_assigned")[0]
    assert event.visibility is Visibility.REVIEWERS
    assert isinstance(event.payload["score"], int)
    assert event.payload["reasons"][:2] == ["language: reads bn", "themes: living_wage"]
    internal = caselog.visible_payload(event, Visibility.INTERNAL)
    assert internal is not None
    assert {"score", "reasons", "trigger"} <= set(internal)
    reviewers = caselog.visible_payload(event, Visibility.REVIEWERS)
    assert reviewers == {
        "reviewer_id": event.payload["reviewer_id"],
        "role": "lead",
        "needs_interpreter": False,
    }
    assert caselog.visible_payload(event, Visibility.PARTIES) is None
    assert caselog.visible_payload(event, Visibility.PUBLIC) is None
    # the assignment row keeps the same score and reasons
    row = ctx.session.scalars(
        select(Assignment).where(Assignment.case_id == case.id).order_by(Assignment.id)
    ).first()
    assert row.reasons == {"score": event.payload["score"], "reasons": event.payload["reasons"]}


def test_reasons_for_leaving_are_internal(ctx, tex):
    lead, _ = make_reviewer(ctx, languages=["bn"]), make_reviewer(ctx, languages=["bn"])
    case = new_case(ctx, tex).case
    cases.recuse(ctx, case, Actor.for_user(lead), "My cousin runs the factory.")
    (event,) = events_of(ctx.session, case, "reviewer_unassigned")
    assert "cousin" in event.payload["reason"]
    assert "reason" not in caselog.visible_payload(event, Visibility.REVIEWERS)
    assert caselog.visible_payload(event, Visibility.PARTIES) is None
