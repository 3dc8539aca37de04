"""Companies in a case: their OECD involvement (proposed by one reviewer, confirmed by
another), the obligations the policy table derives from it for each kind and leverage,
reclassification with history, and who may classify."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from grievance.models import (
    AssignmentRole,
    CaseEvent,
    Involvement,
    InvolvementKind,
    InvolvementProposalState,
    Leverage,
    MechanismPolicy,
    Obligation,
    ObligationStatus,
    Role,
)
from grievance.services import cases, involvement
from grievance.services import obligations as company_side
from grievance.services.actors import SYSTEM, Actor
from grievance.services.errors import InvalidInput, NotAllowed, ReasonRequired
from tests.conftest import START
from tests.factories import (
    case_state,
    classify,
    make_company,
    make_mechanism,
    make_reviewer,
    make_user,
    new_case,
    open_deadline,
    staff_case,
    table_counts,
)

CAUSE, CONTRIBUTE, LINKED = (
    InvolvementKind.CAUSE,
    InvolvementKind.CONTRIBUTE,
    InvolvementKind.LINKED,
)

HELD, LACKING, UNKNOWN = Leverage.HELD, Leverage.LACKING, Leverage.UNKNOWN

#: The default policy's table, written out by hand: (code, requirement, days) for each
#: kind and leverage state.
EXPECTED_OBLIGATIONS = (
    {
        (CAUSE, leverage): [
            ("cease_or_prevent", "required", 30),
            ("provide_remedy", "required", 90),
        ]
        for leverage in Leverage
    }
    | {
        (CONTRIBUTE, leverage): [
            ("cease_or_prevent_contribution", "required", 30),
            ("use_leverage", "required", 60),
            ("remedy_share", "required", 90),
        ]
        for leverage in Leverage
    }
    | {
        (LINKED, HELD): [
            ("seek_to_prevent_or_mitigate", "required", 60),
            ("use_leverage", "required_if_held", 60),
        ],
        (LINKED, LACKING): [
            ("seek_to_prevent_or_mitigate", "required", 60),
            ("increase_leverage", "required_if_lacking", 90),
            ("consider_ending_relationship", "conditional", 180),
        ],
        (LINKED, UNKNOWN): [("seek_to_prevent_or_mitigate", "required", 60)],
    }
)


@pytest.fixture
def setting(ctx):
    """A case with two reviewers, a company named in it: (case, company, lead, second)."""
    filed, lead, second = staff_case(ctx)
    company = make_company(ctx, filed.case.mechanism)
    involvement.add_company(ctx, filed.case, company, Actor.for_user(lead))
    return filed.case, company, lead, second


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
    # its time limit to respond opens (policy: company.response_days)
    response = open_deadline(ctx.session, filed.case, f"company.{company.id}.response")
    assert response.due_at == START + timedelta(days=30)
    event = last_event(ctx, filed.case)
    assert event.kind == "company_added"
    payload = dict(event.payload)
    opened = payload.pop("deadlines_opened")  # the time limit it opens, in the same event
    assert payload == {"company_id": company.id, "company": "Dhaka Knit"}
    assert [item["code"] for item in opened] == [f"company.{company.id}.response"]
    with pytest.raises(InvalidInput) as raised:
        involvement.add_company(ctx, filed.case, company, Actor.for_user(lead))
    assert set(raised.value.errors) == {"company"}


def test_only_reviewers_secretariat_or_system_add_companies(ctx, setting):
    case, company, _, _ = setting
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


@pytest.mark.parametrize(("kind", "leverage"), sorted(EXPECTED_OBLIGATIONS), ids=str)
def test_a_confirmed_classification_creates_exactly_the_policy_obligations(
    ctx, setting, kind, leverage
):
    case, company, lead, second = setting
    proposal = involvement.propose_involvement(
        ctx, case, company, kind, leverage, Actor.for_user(lead), "  The facts. "
    )
    assert involvement.current_involvement(ctx, case, company).kind is None, "not yet"
    assert last_event(ctx, case).kind == "involvement_proposed"
    row = involvement.confirm_involvement(ctx, proposal, Actor.for_user(second))
    assert (row.kind, row.leverage, row.version, row.rationale) == (kind, leverage, 1, "The facts.")
    assert (row.proposed_by_id, row.decided_by_id) == (lead.id, second.id)
    assert proposal.state is InvolvementProposalState.CONFIRMED
    created = obligations(ctx, row.id)
    expected = EXPECTED_OBLIGATIONS[(kind, leverage)]
    assert [(o.code, o.requirement) for o in created] == [(c, r) for c, r, _ in expected]
    for obligation, (_, _, days) in zip(created, expected, strict=True):
        assert (obligation.case_id, obligation.company_id) == (case.id, company.id)
        assert obligation.status is ObligationStatus.OPEN
        assert obligation.due_at == START + timedelta(days=days)
        code = f"company.{company.id}.obligation.{obligation.id}"
        assert open_deadline(ctx.session, case, code).due_at == obligation.due_at
    event = last_event(ctx, case)
    assert event.kind == "involvement_classified"
    assert (event.actor_role, event.actor_id) == (Role.REVIEWER, second.id)
    payload = dict(event.payload)
    opened = payload.pop("deadlines_opened", [])  # the obligations' time limits it opens
    assert sorted(item["code"] for item in opened) == sorted(
        f"company.{company.id}.obligation.{o.id}" for o in created if o.due_at is not None
    )
    assert payload == {
        "company_id": company.id,
        "company": company.name,
        "kind": kind.value,
        "leverage": leverage.value,
        "version": 1,
        "rationale": "The facts.",
        "obligations": [code for code, _, _ in expected],
        "proposal_id": proposal.id,
        "proposed_by": lead.id,
    }


def test_the_proposer_cannot_confirm_and_a_rejection_needs_reasons(ctx, setting):
    case, company, lead, second = setting
    proposal = involvement.propose_involvement(
        ctx, case, company, CAUSE, UNKNOWN, Actor.for_user(lead), "Own factory."
    )
    before = table_counts(ctx.session)
    with pytest.raises(InvalidInput) as raised:
        involvement.confirm_involvement(ctx, proposal, Actor.for_user(lead))
    assert raised.value.errors == {"proposal": "same_reviewer"}
    with pytest.raises(InvalidInput) as raised:
        involvement.propose_involvement(
            ctx, case, company, LINKED, HELD, Actor.for_user(second), "Another view."
        )
    assert raised.value.errors == {"company": "already_proposed"}
    with pytest.raises(ReasonRequired):
        involvement.reject_involvement(ctx, proposal, Actor.for_user(second), " ")
    assert table_counts(ctx.session) == before
    involvement.reject_involvement(ctx, proposal, Actor.for_user(second), "Not shown yet.")
    assert proposal.state is InvolvementProposalState.REJECTED
    assert last_event(ctx, case).kind == "involvement_rejected"
    assert involvement.current_involvement(ctx, case, company).kind is None
    with pytest.raises(InvalidInput):
        involvement.confirm_involvement(ctx, proposal, Actor.for_user(second))


def test_reclassification_supersedes_and_keeps_history(ctx, clock, setting):
    case, company, lead, second = setting
    first = classify(ctx, case, company, CAUSE, lead, second, "Own factory.")
    first_obligations = obligations(ctx, first.id)
    company_side.report_obligation(
        ctx,
        first_obligations[0],
        Actor.for_user(make_user(ctx, Role.COMPANY, company=company)),
        True,
        "Stopped the night shifts.",
    )
    company_side.verify_obligation(ctx, first_obligations[0], Actor.for_user(second), True)
    clock.advance(days=40)
    later = clock.now()

    with pytest.raises(InvalidInput) as raised:  # a reclassification names its trigger
        involvement.propose_involvement(
            ctx, case, company, CONTRIBUTE, UNKNOWN, Actor.for_user(lead), "Orders."
        )
    assert raised.value.errors == {"trigger": "required"}
    again = classify(
        ctx, case, company, CONTRIBUTE, second, lead, "Orders pushed overtime.",
        trigger="new_evidence",
    )  # fmt: skip

    assert again.id != first.id
    assert (again.kind, again.version, again.superseded_at) == (CONTRIBUTE, 2, None)
    ctx.session.refresh(first)
    assert (first.kind, first.version, first.superseded_at) == (CAUSE, 1, later)
    history = ctx.session.scalars(
        select(Involvement)
        .where(Involvement.case_id == case.id, Involvement.company_id == company.id)
        .order_by(Involvement.version)
    ).all()
    assert [(h.version, h.kind) for h in history] == [(1, CAUSE), (2, CONTRIBUTE)]
    assert involvement.current_involvement(ctx, case, company) == again

    kept = {o.code: o for o in obligations(ctx, again.id)}
    assert kept["cease_or_prevent"].status is ObligationStatus.FULFILLED, "a done one stays"
    superseded = ctx.session.scalars(
        select(Obligation).where(Obligation.status == ObligationStatus.SUPERSEDED)
    ).all()
    assert [(o.code, o.closed_at) for o in superseded] == [("provide_remedy", later)]
    assert [code for code in kept if kept[code].status is ObligationStatus.OPEN] == [
        "cease_or_prevent_contribution",
        "use_leverage",
        "remedy_share",
    ]

    event = last_event(ctx, case)
    assert event.kind == "involvement_classified"
    assert event.payload["previous_kind"] == "cause"
    assert event.payload["kind"] == "contribute"
    assert event.payload["version"] == 2
    assert event.payload["trigger"] == "new_evidence"
    assert event.payload["obligations_kept"] == ["cease_or_prevent"]
    assert event.payload["obligations_superseded"] == ["provide_remedy"]


def test_a_reclassification_with_an_unknown_trigger_writes_nothing(ctx, setting):
    case, company, lead, second = setting
    classify(ctx, case, company, CAUSE, lead, second, "Own factory.")
    before = table_counts(ctx.session)
    state = case_state(ctx.session, case.id)
    with pytest.raises(InvalidInput) as raised:
        involvement.propose_involvement(
            ctx, case, company, LINKED, HELD, Actor.for_user(lead), "Because.", trigger="mood"
        )
    assert set(raised.value.errors) == {"trigger"}
    assert table_counts(ctx.session) == before
    assert case_state(ctx.session, case.id) == state
    assert involvement.current_involvement(ctx, case, company).kind is CAUSE


def test_a_classification_needs_a_rationale(ctx, setting):
    case, company, lead, _ = setting
    before = table_counts(ctx.session)
    with pytest.raises(ReasonRequired):
        involvement.propose_involvement(
            ctx, case, company, CAUSE, UNKNOWN, Actor.for_user(lead), "  "
        )
    assert table_counts(ctx.session) == before


def test_a_company_not_in_the_case_cannot_be_classified(ctx, setting):
    case, _, lead, _ = setting
    stranger = make_company(ctx, case.mechanism)
    before = table_counts(ctx.session)
    with pytest.raises(InvalidInput) as raised:
        involvement.propose_involvement(
            ctx, case, stranger, CAUSE, UNKNOWN, Actor.for_user(lead), "Because."
        )
    assert set(raised.value.errors) == {"company"}
    assert table_counts(ctx.session) == before


def test_only_assigned_reviewers_propose_or_confirm(ctx, setting):
    case, company, lead, _ = setting
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
            involvement.propose_involvement(ctx, case, company, CAUSE, UNKNOWN, actor, "We decide.")
        assert table_counts(ctx.session) == before, name
    proposal = involvement.propose_involvement(
        ctx, case, company, CAUSE, UNKNOWN, Actor.for_user(lead), "Own site."
    )
    before = table_counts(ctx.session)
    for name, actor in actors.items():
        with pytest.raises(NotAllowed):
            involvement.confirm_involvement(ctx, proposal, actor)
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
    second = make_reviewer(ctx)
    cases.assign_reviewer(ctx, filed.case, second, AssignmentRole.SECOND, SYSTEM)
    involvement.add_company(ctx, filed.case, company, Actor.for_user(reviewer))
    row = classify(ctx, filed.case, company, CAUSE, reviewer, second, "Own site.")
    assert [(o.code, o.requirement) for o in obligations(ctx, row.id)] == [
        ("cease_or_prevent", "required"),
        ("report_publicly", "required"),
    ]


def test_a_case_keeps_the_policy_version_it_was_filed_under(ctx):
    mechanism = make_mechanism(ctx, "VER")
    filed, lead, second = staff_case(ctx, mechanism=mechanism)
    assert filed.case.policy_version == 0
    ctx.session.add(
        MechanismPolicy(mechanism_id=mechanism.id, version=1, overrides=OVERRIDES, created_at=START)
    )
    ctx.session.flush()
    ctx.session.refresh(mechanism)
    company = make_company(ctx, mechanism)
    actor = Actor.for_user(lead)
    involvement.add_company(ctx, filed.case, company, actor)
    row = classify(ctx, filed.case, company, CAUSE, lead, second, "Own site.")
    assert [(o.code, o.requirement) for o in obligations(ctx, row.id)] == [
        (code, requirement) for code, requirement, _ in EXPECTED_OBLIGATIONS[(CAUSE, UNKNOWN)]
    ]
    assert new_case(ctx, mechanism).case.policy_version == 1
