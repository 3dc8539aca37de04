"""The remedy plan and the remedy loop (R19-R21, issue #13 item 5): items typed by the
policy's vocabulary, proposed by companies in the case, the complainant consulted before
two reviewers approve, progress reported by the responsible company with evidence,
verified by a reviewer, confirmed or disputed by the complainant; and the closing rule."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from grievance.models import (
    Attachment,
    ComplainantResponse,
    ConsultationAnswer,
    Deadline,
    DeadlineState,
    PlanState,
    RemedyStatus,
    Role,
    Stage,
)
from grievance.services import cases, involvement, remedy_closing, remedy_delivery, remedy_plan
from grievance.services.actors import Actor
from grievance.services.attachments import CleanFile, read_attachment
from grievance.services.errors import FourEyesViolation, InvalidInput, NotAllowed, ServiceError
from grievance.services.remedy_plan import ConsultationMissing, ItemInput
from grievance.services.remedy_rules import PlanNotApproved, RemedyOutstanding
from grievance.services.sweep import sweep_deadlines
from tests.factories import events_of, make_company, make_user, staff_case, walk_to


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 30), "green").save(out, "JPEG")
    return out.getvalue()


class Setting:
    def __init__(self, ctx):
        self.filed, lead, second = staff_case(ctx)
        self.case = walk_to(ctx, self.filed, Stage.REMEDY_PLAN, lead, second)
        self.lead, self.second = Actor.for_user(lead), Actor.for_user(second)
        self.complainant = Actor.for_complainant(self.filed.complainant)
        self.supplier = make_company(ctx, self.case.mechanism)
        self.outsider = make_company(ctx, self.case.mechanism)
        involvement.add_company(ctx, self.case, self.supplier, self.lead)
        self.supplier_user = Actor.for_user(make_user(ctx, Role.COMPANY, company=self.supplier))
        self.outsider_user = Actor.for_user(make_user(ctx, Role.COMPANY, company=self.outsider))

    def item(self, **values) -> ItemInput:
        return ItemInput(
            **{
                "remedy_type": "compensation_financial",
                "description": "Back pay for the overtime.",
                "company_id": self.supplier.id,
                "share_percent": 100,
                "beneficiary_count": 40,
                "beneficiaries": "Sewing-line workers",
                **values,
            }
        )

    def approve(self, ctx) -> None:
        remedy_plan.put_to_complainant(ctx, self.case, self.lead)
        remedy_plan.answer(ctx, self.case, self.complainant, ConsultationAnswer.AGREE, "web")
        remedy_plan.propose_approval(ctx, self.case, self.lead, "Agreed with the complainant.")
        remedy_plan.confirm_approval(ctx, self.case, self.second)


@pytest.fixture
def s(ctx):
    return Setting(ctx)


def test_items_are_typed_by_the_policy_and_name_a_company_in_the_case(ctx, s):
    with pytest.raises(InvalidInput) as refused:
        remedy_plan.draft_item(
            ctx, s.case, s.lead, s.item(remedy_type="hush_money", share_percent=120)
        )
    assert refused.value.errors.keys() == {"remedy_type", "share_percent"}
    with pytest.raises(InvalidInput) as refused:
        remedy_plan.draft_item(ctx, s.case, s.lead, s.item(company_id=s.outsider.id))
    assert "company_id" in refused.value.errors
    with pytest.raises(NotAllowed):
        remedy_plan.draft_item(ctx, s.case, s.supplier_user, s.item())
    item = remedy_plan.draft_item(ctx, s.case, s.lead, s.item())
    assert (item.status, item.share_percent, item.beneficiary_count) == (
        RemedyStatus.PLANNED,
        100,
        40,
    )
    assert (
        events_of(ctx.session, s.case, "remedy_action_recorded")[-1].payload["beneficiaries"]
        == "Sewing-line workers"
    )


def test_a_company_in_the_case_proposes_and_a_reviewer_takes_it_in(ctx, s):
    with pytest.raises(NotAllowed):
        remedy_plan.propose_item(ctx, s.case, s.outsider_user, s.item(company_id=None))
    with pytest.raises(NotAllowed):  # never for another company
        remedy_plan.propose_item(ctx, s.case, s.supplier_user, s.item(company_id=s.outsider.id))
    proposal = remedy_plan.propose_item(ctx, s.case, s.supplier_user, s.item(company_id=None))
    assert (proposal.status, proposal.company_id) == (RemedyStatus.PROPOSED, s.supplier.id)
    with pytest.raises(NotAllowed):
        remedy_plan.take_in(ctx, proposal, s.supplier_user)
    remedy_plan.take_in(ctx, proposal, s.lead)
    assert proposal.status is RemedyStatus.PLANNED
    other = remedy_plan.propose_item(ctx, s.case, s.supplier_user, s.item(remedy_type="apology"))
    remedy_plan.set_aside(ctx, other, s.lead, "An apology is already in the plan.")
    assert other.status is RemedyStatus.DECLINED


def test_no_approval_without_the_complainants_agreement_to_this_version(ctx, s):
    remedy_plan.draft_item(ctx, s.case, s.lead, s.item())
    with pytest.raises(ConsultationMissing):  # never asked
        remedy_plan.propose_approval(ctx, s.case, s.lead, "")
    for answer in (ConsultationAnswer.DISAGREE, ConsultationAnswer.TALK):
        remedy_plan.put_to_complainant(ctx, s.case, s.lead)
        remedy_plan.answer(ctx, s.case, s.complainant, answer, "sms")
        with pytest.raises(ConsultationMissing):
            remedy_plan.propose_approval(ctx, s.case, s.lead, "")
    remedy_plan.put_to_complainant(ctx, s.case, s.lead)
    remedy_plan.answer(ctx, s.case, s.complainant, ConsultationAnswer.AGREE, "sms")
    remedy_plan.draft_item(ctx, s.case, s.lead, s.item(remedy_type="apology"))
    with pytest.raises(ConsultationMissing):  # the plan changed after the answer
        remedy_plan.propose_approval(ctx, s.case, s.lead, "")
    with pytest.raises(PlanNotApproved):  # nor around the plan
        cases.transition(ctx, s.case, Stage.REMEDY_IMPLEMENTATION, s.lead, "Go.")


def test_two_reviewers_approve_and_the_approval_records_the_answer(ctx, clock, s):
    due_on = (clock.now() + timedelta(days=30)).date()
    item = remedy_plan.draft_item(ctx, s.case, s.lead, s.item(due_on=due_on))
    remedy_plan.put_to_complainant(ctx, s.case, s.lead)
    with pytest.raises(NotAllowed):  # only the complainant answers
        remedy_plan.answer(ctx, s.case, s.lead, ConsultationAnswer.AGREE, "web")
    remedy_plan.answer(ctx, s.case, s.complainant, ConsultationAnswer.AGREE, "sms")
    plan = remedy_plan.propose_approval(ctx, s.case, s.lead, "The workers agreed.")
    with pytest.raises(FourEyesViolation):
        remedy_plan.confirm_approval(ctx, s.case, s.lead)
    with pytest.raises(NotAllowed):
        remedy_plan.confirm_approval(ctx, s.case, s.supplier_user)
    remedy_plan.confirm_approval(ctx, s.case, s.second)
    assert plan.state is PlanState.APPROVED
    assert s.case.stage is Stage.REMEDY_IMPLEMENTATION
    approved = events_of(ctx.session, s.case, "remedy_plan_approved")[-1]
    assert approved.payload["answer"] == "agree"
    assert approved.payload["answer_channel"] == "sms"
    assert approved.payload["proposed_by"] == s.lead.user_id
    assert approved.payload["deadlines_opened"][0]["code"] == f"remedy_action.{item.id}"
    assert item.agreed_with_complainant
    with pytest.raises(remedy_plan.PlanClosed):
        remedy_plan.draft_item(ctx, s.case, s.lead, s.item())


def _deadline(ctx, item) -> Deadline:
    return ctx.session.scalars(
        select(Deadline).where(Deadline.code == f"remedy_action.{item.id}")
    ).one()


def test_an_item_deadline_is_reminded_and_met_by_the_company_report(ctx, clock, s):
    due_on = (clock.now() + timedelta(days=30)).date()
    item = remedy_plan.draft_item(ctx, s.case, s.lead, s.item(due_on=due_on))
    s.approve(ctx)
    deadline = _deadline(ctx, item)
    # the end of the due day in the mechanism's time zone (Europe/Amsterdam, summer time)
    assert deadline.due_at == datetime.combine(due_on, datetime.min.time(), UTC) + timedelta(
        hours=21, minutes=59, seconds=59
    )
    clock.advance(days=25)  # past 70 % of the time: reminded like the others
    assert sweep_deadlines(ctx).reminders >= 1
    remedy_delivery.report_progress(ctx, item, s.supplier_user, "Paid.", completed=True)
    ctx.session.refresh(deadline)
    assert deadline.state is DeadlineState.MET


def test_the_company_reports_with_evidence_a_reviewer_verifies_the_complainant_confirms(ctx, s):
    item = remedy_plan.draft_item(ctx, s.case, s.lead, s.item())
    s.approve(ctx)
    with pytest.raises(NotAllowed):
        remedy_delivery.report_progress(ctx, item, s.outsider_user, "Not ours.")
    photo = CleanFile("receipt.jpg", "image/jpeg", _photo())
    report = remedy_delivery.report_progress(
        ctx, item, s.supplier_user, "Back pay transferred.", completed=True, files=[photo]
    )
    assert report.attachment_count == 1
    evidence = ctx.session.scalars(
        select(Attachment).where(Attachment.remedy_action_id == item.id)
    ).one()
    assert b"receipt" not in evidence.filename_enc  # sealed
    assert read_attachment(ctx, s.lead, evidence).data == photo.data
    with pytest.raises(NotAllowed):  # no company verifies its own remedy
        remedy_delivery.verify(ctx, item, s.supplier_user)
    with pytest.raises(NotAllowed):
        remedy_delivery.respond(ctx, item, s.supplier_user, ComplainantResponse.CONFIRMED, "web")
    remedy_delivery.verify(ctx, item, s.second, "Bank statements seen.")
    remedy_delivery.respond(ctx, item, s.complainant, ComplainantResponse.CONFIRMED, "web")
    assert item.verified_by_id == s.second.user_id
    assert (item.complainant_response, item.complainant_response_channel) == (
        ComplainantResponse.CONFIRMED,
        "web",
    )


def _to_verification(ctx, s, item, response: ComplainantResponse | None, verified: bool):
    remedy_delivery.report_progress(ctx, item, s.supplier_user, "Done.", completed=True)
    if verified:
        remedy_delivery.verify(ctx, item, s.lead)
    if response is not None:
        remedy_delivery.respond(ctx, item, s.complainant, response, "web")
    cases.transition(ctx, s.case, Stage.REMEDY_VERIFICATION, s.lead)


@pytest.mark.parametrize(
    ("response", "verified"),
    [(None, False), (ComplainantResponse.CONFIRMED, False), (ComplainantResponse.DISPUTED, True)],
    ids=["unverified", "unverified-confirmed", "verified-disputed"],
)
def test_an_unverified_or_disputed_item_blocks_closing(ctx, s, response, verified):
    item = remedy_plan.draft_item(ctx, s.case, s.lead, s.item())
    s.approve(ctx)
    _to_verification(ctx, s, item, response, verified)
    with pytest.raises(RemedyOutstanding):
        cases.propose_decision(ctx, s.case, Stage.CLOSED, s.lead, "Done.")
    assert s.case.stage is Stage.REMEDY_VERIFICATION


def test_a_verified_undisputed_plan_closes_as_usual(ctx, s):
    item = remedy_plan.draft_item(ctx, s.case, s.lead, s.item())
    s.approve(ctx)
    _to_verification(ctx, s, item, ComplainantResponse.CONFIRMED, verified=True)
    proposal = cases.propose_decision(ctx, s.case, Stage.CLOSED, s.lead, "Remedy verified.")
    cases.confirm_decision(ctx, proposal, s.second)
    assert s.case.stage is Stage.CLOSED


def test_two_reviewers_close_with_remedy_disputed_and_their_reasons_are_logged(ctx, s):
    item = remedy_plan.draft_item(ctx, s.case, s.lead, s.item())
    s.approve(ctx)
    _to_verification(ctx, s, item, ComplainantResponse.DISPUTED, verified=True)
    with pytest.raises(ServiceError):  # reasons are required
        remedy_closing.propose_closing_override(ctx, s.case, s.lead, " ")
    proposal = remedy_closing.propose_closing_override(
        ctx, s.case, s.lead, "The company closed; nothing more can be obtained."
    )
    with pytest.raises(RemedyOutstanding):  # not without the second reviewer's reasons
        cases.confirm_decision(ctx, proposal, s.second)
    with pytest.raises(FourEyesViolation):
        remedy_closing.confirm_closing_override(ctx, s.case, s.lead, "Me again.")
    remedy_closing.confirm_closing_override(
        ctx, s.case, s.second, "Referred to the National Contact Point."
    )
    assert s.case.stage is Stage.CLOSED
    logged = events_of(ctx.session, s.case, "closed_with_remedy_disputed")[-1].payload
    assert logged["reason"] == "The company closed; nothing more can be obtained."
    assert logged["second_reason"] == "Referred to the National Contact Point."
    assert (logged["proposed_by"], logged["confirmed_by"]) == (s.lead.user_id, s.second.user_id)
    assert logged["remedy_action_ids"] == [item.id]


def test_a_withdrawn_override_does_not_let_a_later_closing_through(ctx, s):
    item = remedy_plan.draft_item(ctx, s.case, s.lead, s.item())
    s.approve(ctx)
    _to_verification(ctx, s, item, None, verified=False)
    proposal = remedy_closing.propose_closing_override(ctx, s.case, s.lead, "Reasons.")
    cases.withdraw_decision(ctx, proposal, s.second, "Not yet.")
    with pytest.raises(RemedyOutstanding):
        cases.propose_decision(ctx, s.case, Stage.CLOSED, s.lead, "Done.")


def test_each_audience_sees_the_plan_it_may(ctx, s):
    """A company sees only its own items; the complainant every item of the plan but no
    company's proposal nor any evidence file; the reviewers everything."""
    from grievance.services.casereads.remedy import plan_view

    brand = make_company(ctx, s.case.mechanism)
    involvement.add_company(ctx, s.case, brand, s.lead)
    brand_user = Actor.for_user(make_user(ctx, Role.COMPANY, company=brand))
    supplier_item = remedy_plan.draft_item(ctx, s.case, s.lead, s.item())
    brand_item = remedy_plan.draft_item(
        ctx, s.case, s.lead, s.item(company_id=brand.id, remedy_type="apology")
    )
    proposal = remedy_plan.propose_item(
        ctx, s.case, brand_user, s.item(remedy_type="injunction", company_id=None)
    )
    s.approve(ctx)
    photo = CleanFile("slip.jpg", "image/jpeg", _photo())
    remedy_delivery.report_progress(
        ctx, supplier_item, s.supplier_user, "Paid.", completed=True, files=[photo]
    )

    def ids(view):
        return [item.id for item in view.items]

    assert ids(plan_view(ctx, s.case, company_id=s.supplier.id)) == [supplier_item.id]
    assert ids(plan_view(ctx, s.case, company_id=brand.id)) == [brand_item.id, proposal.id]
    complainant = plan_view(ctx, s.case)
    assert ids(complainant) == [supplier_item.id, brand_item.id]
    assert all(item.evidence == () for item in complainant.items)
    assert complainant.outstanding == ()
    reviewer = plan_view(ctx, s.case, reviewer=True)
    assert ids(reviewer) == [supplier_item.id, brand_item.id, proposal.id]
    assert len(reviewer.items[0].evidence) == 1
    assert set(reviewer.outstanding) == {supplier_item.id, brand_item.id}
