"""Companies in a case: their OECD involvement, the obligations the policy table derives
from it, reclassification with history, and who may classify."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from grievance.models import (
    AssignmentRole,
    CaseEvent,
    Involvement,
    InvolvementKind,
    MechanismPolicy,
    Obligation,
    ObligationStatus,
    Role,
)
from grievance.services import cases, involvement
from grievance.services.actors import SYSTEM, Actor
from grievance.services.errors import InvalidInput, NotAllowed, ReasonRequired
from tests.conftest import START
from tests.factories import (
    case_state,
    make_company,
    make_mechanism,
    make_reviewer,
    make_user,
    new_case,
    staff_case,
    table_counts,
)

CAUSE, CONTRIBUTE, LINKED = (
    InvolvementKind.CAUSE,
    InvolvementKind.CONTRIBUTE,
    InvolvementKind.LINKED,
)

#: The default policy's table, written out by hand.
EXPECTED_OBLIGATIONS = {
    CAUSE: [("cease_or_prevent", "required"), ("provide_remedy", "required")],
    CONTRIBUTE: [
        ("cease_or_prevent_contribution", "required"),
        ("use_leverage", "required"),
        ("remedy_share", "required"),
    ],
    LINKED: [
        ("seek_to_prevent_or_mitigate", "required"),
        ("use_leverage", "required_if_held"),
        ("increase_leverage", "required_if_lacking"),
        ("consider_ending_relationship", "conditional"),
    ],
}


@pytest.fixture
def setting(ctx):
    """A case with two reviewers, a company named in it, and the reviewer's actor."""
    filed, lead, _ = staff_case(ctx)
    company = make_company(ctx, filed.case.mechanism)
    involvement.add_company(ctx, filed.case, company, Actor.for_user(lead))
    return filed.case, company, Actor.for_user(lead)


def obligations(ctx, involvement_id: int) -> list[Obligation]:
    return list(
        ctx.session.scalars(
            select(Obligation)
            .where(Obligation.involvement_id == involvement_id)
            .order_by(Obligation.id)
        )
    )


def last_event(ctx, case) -> CaseEvent:
    return ctx.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq.desc())
    ).first()


def test_add_company_names_it_unclassified(ctx):
    filed, lead, _ = staff_case(ctx)
    company = make_company(ctx, filed.case.mechanism, name="Dhaka Knit")
    before = case_state(ctx.session, filed.case.id)
    row = involvement.add_company(ctx, filed.case, company, Actor.for_user(lead))
    assert (row.kind, row.version, row.superseded_at, row.created_at) == (None, 1, None, START)
    assert obligations(ctx, row.id) == []
    assert case_state(ctx.session, filed.case.id).event_count == before.event_count + 1
    event = last_event(ctx, filed.case)
    assert event.kind == "company_added"
    assert event.payload == {"company_id": company.id, "company": "Dhaka Knit"}
    with pytest.raises(InvalidInput) as raised:
        involvement.add_company(ctx, filed.case, company, Actor.for_user(lead))
    assert set(raised.value.errors) == {"company"}


def test_only_reviewers_secretariat_or_system_add_companies(ctx, setting):
    case, company, _ = setting
    other = make_company(ctx, case.mechanism)
    for actor in (
        Actor.for_user(make_user(ctx, Role.COMPANY, company=company)),
        Actor.for_user(make_user(ctx, Role.ADMIN)),
    ):
        before = table_counts(ctx.session)
        with pytest.raises(NotAllowed):
            involvement.add_company(ctx, case, other, actor)
        assert table_counts(ctx.session) == before
    secretariat = make_user(ctx, Role.SECRETARIAT, mechanisms=[case.mechanism])
    involvement.add_company(ctx, case, other, Actor.for_user(secretariat))
    involvement.add_company(ctx, case, make_company(ctx), SYSTEM)


@pytest.mark.parametrize("kind", list(InvolvementKind), ids=str)
def test_classification_creates_the_obligations_of_the_policy_table(ctx, setting, kind):
    case, company, reviewer = setting
    row = involvement.classify_involvement(ctx, case, company, kind, reviewer, "  The facts. ")
    assert (row.kind, row.version, row.rationale) == (kind, 1, "The facts.")
    assert row.decided_by_id == reviewer.user_id
    rows = ctx.session.scalars(select(Involvement).where(Involvement.case_id == case.id)).all()
    assert rows == [row], "the named company is filled in, not added again"
    created = obligations(ctx, row.id)
    assert [(o.code, o.requirement) for o in created] == EXPECTED_OBLIGATIONS[kind]
    for obligation in created:
        assert (obligation.case_id, obligation.company_id) == (case.id, company.id)
        assert obligation.status is ObligationStatus.OPEN
        assert (obligation.created_at, obligation.closed_at) == (START, None)
    event = last_event(ctx, case)
    assert event.kind == "involvement_classified"
    assert (event.actor_role, event.actor_id) == (Role.REVIEWER, reviewer.user_id)
    assert event.payload == {
        "company_id": company.id,
        "company": company.name,
        "kind": kind.value,
        "version": 1,
        "rationale": "The facts.",
        "obligations": [code for code, _ in EXPECTED_OBLIGATIONS[kind]],
    }


def test_voluntary_entries_do_not_become_obligations(ctx, setting):
    case, company, reviewer = setting
    row = involvement.classify_involvement(ctx, case, company, LINKED, reviewer, "Supplier.")
    codes = {o.code for o in obligations(ctx, row.id)}
    assert "remediation_role" not in codes
    assert len(codes) == 4


def test_reclassification_supersedes_and_keeps_history(ctx, clock, setting):
    case, company, reviewer = setting
    first = involvement.classify_involvement(ctx, case, company, CAUSE, reviewer, "Own factory.")
    first_obligations = obligations(ctx, first.id)
    fulfilled = first_obligations[0]
    fulfilled.status = ObligationStatus.FULFILLED
    ctx.session.flush()
    clock.advance(days=40)
    later = clock.now()

    second = involvement.classify_involvement(
        ctx, case, company, CONTRIBUTE, reviewer, "Orders pushed overtime.", trigger="new_evidence"
    )

    assert second.id != first.id
    assert (second.kind, second.version, second.superseded_at) == (CONTRIBUTE, 2, None)
    ctx.session.refresh(first)
    assert (first.kind, first.version, first.superseded_at) == (CAUSE, 1, later)
    history = ctx.session.scalars(
        select(Involvement)
        .where(Involvement.case_id == case.id, Involvement.company_id == company.id)
        .order_by(Involvement.version)
    ).all()
    assert [(h.version, h.kind) for h in history] == [(1, CAUSE), (2, CONTRIBUTE)]
    assert involvement.current_involvement(ctx, case, company) == second

    old = {o.code: o for o in obligations(ctx, first.id)}
    assert old["cease_or_prevent"].status is ObligationStatus.FULFILLED, "a closed one stays"
    assert old["cease_or_prevent"].closed_at is None
    assert old["provide_remedy"].status is ObligationStatus.SUPERSEDED
    assert old["provide_remedy"].closed_at == later
    new = obligations(ctx, second.id)
    assert [o.code for o in new] == [code for code, _ in EXPECTED_OBLIGATIONS[CONTRIBUTE]]
    assert {o.status for o in new} == {ObligationStatus.OPEN}

    event = last_event(ctx, case)
    assert event.kind == "involvement_classified"
    assert event.payload["previous_kind"] == "cause"
    assert event.payload["kind"] == "contribute"
    assert event.payload["version"] == 2
    assert event.payload["trigger"] == "new_evidence"

    third = involvement.classify_involvement(ctx, case, company, LINKED, reviewer, "Sold on.")
    assert third.version == 3
    assert last_event(ctx, case).payload["previous_kind"] == "contribute"
    assert {o.status for o in obligations(ctx, second.id)} == {ObligationStatus.SUPERSEDED}


def test_a_reclassification_with_an_unknown_trigger_writes_nothing(ctx, setting):
    case, company, reviewer = setting
    involvement.classify_involvement(ctx, case, company, CAUSE, reviewer, "Own factory.")
    before = table_counts(ctx.session)
    state = case_state(ctx.session, case.id)
    with pytest.raises(InvalidInput) as raised:
        involvement.classify_involvement(
            ctx, case, company, LINKED, reviewer, "Because.", trigger="mood"
        )
    assert set(raised.value.errors) == {"trigger"}
    assert table_counts(ctx.session) == before
    assert case_state(ctx.session, case.id) == state
    assert involvement.current_involvement(ctx, case, company).kind is CAUSE


def test_a_classification_needs_a_rationale(ctx, setting):
    case, company, reviewer = setting
    before = table_counts(ctx.session)
    with pytest.raises(ReasonRequired):
        involvement.classify_involvement(ctx, case, company, CAUSE, reviewer, "  ")
    assert table_counts(ctx.session) == before


def test_a_company_not_in_the_case_cannot_be_classified(ctx, setting):
    case, _, reviewer = setting
    stranger = make_company(ctx, case.mechanism)
    before = table_counts(ctx.session)
    with pytest.raises(InvalidInput) as raised:
        involvement.classify_involvement(ctx, case, stranger, CAUSE, reviewer, "Because.")
    assert set(raised.value.errors) == {"company"}
    assert table_counts(ctx.session) == before


def test_only_assigned_reviewers_classify(ctx, setting):
    case, company, _ = setting
    actors = {
        "company": Actor.for_user(make_user(ctx, Role.COMPANY, company=company)),
        "secretariat": Actor.for_user(
            make_user(ctx, Role.SECRETARIAT, mechanisms=[case.mechanism])
        ),
        "admin": Actor.for_user(make_user(ctx, Role.ADMIN)),
        "system": SYSTEM,
        "complainant": Actor.for_complainant(case.complainants[0]),
        "unassigned reviewer": Actor.for_user(make_reviewer(ctx)),
    }
    before = table_counts(ctx.session)
    for name, actor in actors.items():
        with pytest.raises(NotAllowed):
            involvement.classify_involvement(ctx, case, company, CAUSE, actor, "We decide.")
        assert table_counts(ctx.session) == before, name
    assert involvement.current_involvement(ctx, case, company).kind is None


OVERRIDES = {
    "involvement": {
        "cause": {
            "obligation": [
                {"code": "provide_remedy", "requirement": "voluntary"},
                {
                    "code": "report_publicly",
                    "label": "Report publicly on the measures taken",
                    "requirement": "required",
                },
            ]
        }
    }
}


def test_a_mechanism_policy_override_changes_the_derived_obligations(ctx):
    mechanism = make_mechanism(ctx, "OVR", overrides=OVERRIDES)
    filed = new_case(ctx, mechanism)
    assert filed.case.policy_version == 1
    reviewer = make_reviewer(ctx)
    cases.assign_reviewer(ctx, filed.case, reviewer, AssignmentRole.LEAD, SYSTEM)
    company = make_company(ctx, mechanism)
    actor = Actor.for_user(reviewer)
    involvement.add_company(ctx, filed.case, company, actor)
    row = involvement.classify_involvement(ctx, filed.case, company, CAUSE, actor, "Own site.")
    assert [(o.code, o.requirement) for o in obligations(ctx, row.id)] == [
        ("cease_or_prevent", "required"),
        ("report_publicly", "required"),
    ]


def test_a_case_keeps_the_policy_version_it_was_filed_under(ctx):
    mechanism = make_mechanism(ctx, "VER")
    filed, lead, _ = staff_case(ctx, mechanism=mechanism)
    assert filed.case.policy_version == 0
    ctx.session.add(
        MechanismPolicy(mechanism_id=mechanism.id, version=1, overrides=OVERRIDES, created_at=START)
    )
    ctx.session.flush()
    ctx.session.refresh(mechanism)
    company = make_company(ctx, mechanism)
    actor = Actor.for_user(lead)
    involvement.add_company(ctx, filed.case, company, actor)
    row = involvement.classify_involvement(ctx, filed.case, company, CAUSE, actor, "Own site.")
    assert [(o.code, o.requirement) for o in obligations(ctx, row.id)] == EXPECTED_OBLIGATIONS[
        CAUSE
    ]
    assert new_case(ctx, mechanism).case.policy_version == 1
