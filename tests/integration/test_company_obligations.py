"""The multi-company case of issue #13: a supplier that causes, brand A that contributes,
brand B directly linked. Each company's obligations are exactly the policy's for its kind
and leverage; the company reports, a reviewer verifies; reclassifying brand B keeps what
it has done and adds what it now owes; each company sees only what concerns it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from grievance.models import (
    CompanyKind,
    Deadline,
    DeadlineState,
    InvolvementKind,
    Leverage,
    ObligationStatus,
    Role,
    StaffNotification,
)
from grievance.services import casereads, involvement, sweep
from grievance.services import obligations as company_side
from grievance.services.actors import Actor
from grievance.services.errors import InvalidInput, NotAllowed, ReasonRequired
from tests.conftest import START
from tests.factories import (
    classify,
    events_of,
    make_company,
    make_remedy_item,
    make_secretariat,
    make_user,
    staff_case,
)

CAUSE, CONTRIBUTE, LINKED = (
    InvolvementKind.CAUSE,
    InvolvementKind.CONTRIBUTE,
    InvolvementKind.LINKED,
)


@pytest.fixture
def three(ctx):
    filed, lead, second = staff_case(ctx)
    case = filed.case
    supplier = make_company(ctx, case.mechanism, CompanyKind.SUPPLIER, name="Akter Garments")
    brand_a = make_company(ctx, case.mechanism, name="Brand A")
    brand_b = make_company(ctx, case.mechanism, name="Brand B")
    for company in (supplier, brand_a, brand_b):
        involvement.add_company(ctx, case, company, Actor.for_user(lead))
    classify(ctx, case, supplier, CAUSE, lead, second, "Its own overtime records.")
    classify(ctx, case, brand_a, CONTRIBUTE, lead, second, "Its lead times.")
    classify(
        ctx, case, brand_b, LINKED, lead, second, "Buys from the unit.", leverage=Leverage.HELD
    )
    users = {
        company.name: make_user(ctx, Role.COMPANY, company=company)
        for company in (supplier, brand_a, brand_b)
    }
    return case, lead, second, (supplier, brand_a, brand_b), users


def codes(ctx, case, company, *statuses):
    rows = company_side.obligations_of(ctx, case, company.id)
    return [o.code for o in rows if not statuses or o.status in statuses]


def test_each_company_gets_exactly_the_policy_obligations(ctx, three):
    case, _, _, (supplier, brand_a, brand_b), _ = three
    assert codes(ctx, case, supplier) == ["cease_or_prevent", "provide_remedy"]
    assert codes(ctx, case, brand_a) == [
        "cease_or_prevent_contribution",
        "use_leverage",
        "remedy_share",
    ]
    assert codes(ctx, case, brand_b) == ["seek_to_prevent_or_mitigate", "use_leverage"]


def test_reclassifying_brand_b_adds_its_remedy_obligation_and_keeps_what_it_did(ctx, clock, three):
    case, lead, second, (_, _, brand_b), users = three
    leverage = next(
        o for o in company_side.obligations_of(ctx, case, brand_b.id) if o.code == "use_leverage"
    )
    company_side.report_obligation(
        ctx, leverage, Actor.for_user(users["Brand B"]), True, "Raised it with the supplier."
    )
    assert leverage.status is ObligationStatus.OPEN, "a report alone changes no status"
    company_side.verify_obligation(ctx, leverage, Actor.for_user(second), True)
    assert leverage.status is ObligationStatus.FULFILLED
    clock.advance(days=20)

    classify(
        ctx, case, brand_b, CONTRIBUTE, lead, second, "Its rush orders pushed the overtime.",
        trigger="own_purchasing_practice_incentive",
    )  # fmt: skip

    assert codes(ctx, case, brand_b, ObligationStatus.OPEN) == [
        "cease_or_prevent_contribution",
        "remedy_share",
    ]
    assert codes(ctx, case, brand_b, ObligationStatus.FULFILLED) == ["use_leverage"]
    assert codes(ctx, case, brand_b, ObligationStatus.SUPERSEDED) == ["seek_to_prevent_or_mitigate"]
    current = involvement.current_involvement(ctx, case, brand_b)
    assert {o.code for o in current.obligations} == {
        "use_leverage",
        "cease_or_prevent_contribution",
        "remedy_share",
    }
    remedy_share = next(o for o in current.obligations if o.code == "remedy_share")
    assert remedy_share.due_at == START + timedelta(days=20 + 90)
    event = events_of(ctx.session, case, "involvement_classified")[-1]
    assert event.payload["rationale"] == "Its rush orders pushed the overtime."
    assert event.payload["trigger"] == "own_purchasing_practice_incentive"
    assert event.payload["previous_kind"] == "linked"
    assert event.payload["obligations"] == ["cease_or_prevent_contribution", "remedy_share"]
    assert event.payload["obligations_kept"] == ["use_leverage"]
    # the superseded obligation's time limit is waived, not missed
    waived = ctx.session.scalar(
        select(Deadline).where(
            Deadline.case_id == case.id,
            Deadline.code.like(f"company.{brand_b.id}.obligation.%"),
            Deadline.state == DeadlineState.WAIVED,
        )
    )
    assert waived is not None


def test_a_report_sent_back_stays_open_and_needs_a_note(ctx, three):
    case, _, second, (supplier, _, _), users = three
    first = company_side.obligations_of(ctx, case, supplier.id)[0]
    with pytest.raises(ReasonRequired):
        company_side.report_obligation(
            ctx, first, Actor.for_user(users["Akter Garments"]), True, ""
        )
    company_side.report_obligation(
        ctx, first, Actor.for_user(users["Akter Garments"]), True, "Night shifts ended."
    )
    code = f"company.{supplier.id}.obligation.{first.id}"
    assert (
        ctx.session.scalar(
            select(Deadline.state).where(Deadline.code == code).order_by(Deadline.id.desc())
        )
        is DeadlineState.MET
    )
    with pytest.raises(ReasonRequired):
        company_side.verify_obligation(ctx, first, Actor.for_user(second), False, "")
    company_side.verify_obligation(ctx, first, Actor.for_user(second), False, "Show the rosters.")
    assert (first.status, first.reported_status) == (ObligationStatus.OPEN, None)
    reopened = ctx.session.scalar(
        select(Deadline).where(Deadline.code == code, Deadline.state == DeadlineState.OPEN)
    )
    assert reopened.due_at == first.due_at


def test_no_company_reports_for_another_or_verifies_or_classifies(ctx, three):
    case, _, _, (supplier, brand_a, _), users = three
    first = company_side.obligations_of(ctx, case, supplier.id)[0]
    brand_a_user = Actor.for_user(users["Brand A"])
    with pytest.raises(NotAllowed):
        company_side.report_obligation(ctx, first, brand_a_user, True, "Not ours.")
    company_side.report_obligation(
        ctx, first, Actor.for_user(users["Akter Garments"]), True, "Done."
    )
    with pytest.raises(NotAllowed):
        company_side.verify_obligation(ctx, first, Actor.for_user(users["Akter Garments"]), True)
    with pytest.raises(NotAllowed):
        involvement.propose_involvement(
            ctx, case, brand_a, LINKED, Leverage.HELD, brand_a_user, "We are only linked."
        )


def test_a_company_sees_its_own_responses_and_no_other_company_or_the_complainant_does(ctx, three):
    case, lead, _, (_supplier, brand_a, brand_b), users = three
    company_side.respond(ctx, case, Actor.for_user(users["Brand B"]), "B's private response.")
    company_side.answer_classification(
        ctx, case, Actor.for_user(users["Brand B"]), False, "B contests: we hold no leverage."
    )
    company_side.write(ctx, case, brand_b, Actor.for_user(lead), "To B only.")
    b_view = casereads.company_view(ctx, case, brand_b)
    a_view = casereads.company_view(ctx, case, brand_a)
    complainant = casereads.complainant_view(ctx, case, case.complainants[0])
    b_kinds = [e.kind for e in b_view.events]
    for kind in ("company_responded", "classification_answered", "company_message"):
        assert kind in b_kinds
        assert kind not in [e.kind for e in a_view.events]
        assert kind not in [e.kind for e in complainant.events]
    assert "B's private response." not in repr(a_view)
    assert "B's private response." not in repr(complainant)
    # brand A sees none of B's obligations or time limits
    assert all(f"company.{brand_b.id}." not in t.code for t in a_view.time_limits)
    assert any(t.code == f"company.{brand_a.id}.response" for t in a_view.time_limits)
    assert all(t.code != f"company.{brand_b.id}.response" for t in b_view.time_limits), "met"
    with pytest.raises(ReasonRequired):  # a contest needs its reasons
        company_side.answer_classification(ctx, case, Actor.for_user(users["Brand A"]), False, " ")


def test_a_remedy_item_links_to_the_obligation_it_discharges(ctx, three):
    case, lead, _, (supplier, brand_a, _), _ = three
    provide = next(
        o for o in company_side.obligations_of(ctx, case, supplier.id) if o.code == "provide_remedy"
    )
    item = make_remedy_item(
        ctx, case, supplier, "Back pay of unpaid overtime.", "compensation_financial"
    )
    other = make_remedy_item(ctx, case, brand_a, "A letter.")
    with pytest.raises(InvalidInput):
        company_side.link_remedy_item(ctx, provide, other, Actor.for_user(lead))
    company_side.link_remedy_item(ctx, provide, item, Actor.for_user(lead))
    assert item.obligation_id == provide.id
    assert (
        events_of(ctx.session, case, "obligation_linked")[-1].payload["remedy_action_id"] == item.id
    )


def test_a_missed_company_deadline_is_reminded_then_escalated_to_the_secretariat(ctx, clock, three):
    case, _, _, (supplier, _, _), users = three
    make_secretariat(ctx, case.mechanism)
    clock.advance(days=22)  # 70 % of the 30 days to respond
    sweep.sweep_deadlines(ctx)
    code = f"company.{supplier.id}.response"
    reminders = [
        e for e in events_of(ctx.session, case, "deadline_reminder") if e.payload["code"] == code
    ]
    assert len(reminders) == 1
    clock.advance(days=9)
    sweep.sweep_deadlines(ctx)
    escalated = [
        e for e in events_of(ctx.session, case, "deadline_escalated") if e.payload["code"] == code
    ]
    assert len(escalated) == 1
    # the supplier's users are told, and the secretariat sees it on the company's record
    told = ctx.session.scalars(
        select(StaffNotification.user_id).where(StaffNotification.kind == "deadline_escalated")
    ).all()
    assert users["Akter Garments"].id in told
