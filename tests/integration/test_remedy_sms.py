"""The remedy plan by SMS (issue #13, item 5): a plan put to a complainant with a phone
contact is texted once per version as a short numbered question (agree, disagree, talk),
the SMS dialogue takes the answer, and the approval records that it came by SMS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from grievance.models import (
    Anonymity,
    ConsultationAnswer,
    ContactChannel,
    RemedyPlan,
    Stage,
)
from grievance.services import outbox, remedy_plan
from grievance.services.actors import Actor
from grievance.services.filing import ComplainantDetails
from grievance.services.remedy_texts import text_due
from intake.sms.conversations import ask_remedy_plan
from intake.sms.texts import Text
from tests import factories
from tests.fake_twilio import FakeTwilio
from tests.sms_helpers import SmsLine, rendered, shared_fake, sms_line

NUMBER = "+8801711000007"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTwilio]:
    with shared_fake() as running:
        yield running


@pytest.fixture
def line(app, ctx, session, settings, fake) -> Iterator[SmsLine]:
    with sms_line(app, ctx, settings, fake=fake) as running:
        yield running


def test_the_plan_is_asked_by_text_once_per_version_and_answered_by_text(line, ctx, session):
    person = ComplainantDetails(
        anonymity=Anonymity.CONFIDENTIAL, contact_channel=ContactChannel.SMS, contact_address=NUMBER
    )
    filed, lead, second = factories.staff_case(ctx, complainant=person)  # in Bengali
    factories.walk_to(ctx, filed, Stage.REMEDY_PLAN, lead, second)
    reviewer = Actor.for_user(lead)
    remedy_plan.draft_item(ctx, filed.case, reviewer, remedy_plan.ItemInput("apology", "Sorry."))
    session.commit()
    assert text_due(ctx, ask_remedy_plan) == 0  # not put to the complainant yet

    remedy_plan.put_to_complainant(ctx, filed.case, reviewer)
    session.commit()
    assert text_due(ctx, ask_remedy_plan) == 1
    assert text_due(ctx, ask_remedy_plan) == 0  # once for this version
    outbox.drain(ctx, line.gateway)
    phone = line.phone(NUMBER)
    assert phone.received() == [
        rendered(Text.REMEDY_PLAN_ASK, "bn", reference=filed.case.reference)
    ]
    assert phone.send("৯") == [rendered(Text.CHOOSE_NUMBER, "bn")]  # 9: not a choice
    assert phone.send("৩") == [rendered(Text.SATISFACTION_THANKS, "bn")]  # 3: talk
    plan = session.scalars(select(RemedyPlan).where(RemedyPlan.case_id == filed.case.id)).one()
    session.refresh(plan)
    assert (plan.consultation_answer, plan.consultation_channel) == (ConsultationAnswer.TALK, "sms")
    with pytest.raises(remedy_plan.ConsultationMissing):
        remedy_plan.propose_approval(ctx, filed.case, reviewer, "Talked.")

    # after talking, the reviewers ask again: a new text, and a "1" agrees
    remedy_plan.put_to_complainant(ctx, filed.case, reviewer)
    session.commit()
    assert text_due(ctx, ask_remedy_plan) == 1
    outbox.drain(ctx, line.gateway)
    assert phone.received()[-1] == rendered(
        Text.REMEDY_PLAN_ASK, "bn", reference=filed.case.reference
    )
    assert phone.send("১") == [rendered(Text.SATISFACTION_THANKS, "bn")]
    remedy_plan.propose_approval(ctx, filed.case, reviewer, "Agreed by SMS.")
    remedy_plan.confirm_approval(ctx, filed.case, Actor.for_user(second))
    (approved,) = factories.events_of(session, filed.case, "remedy_plan_approved")
    assert (approved.payload["answer"], approved.payload["answer_channel"]) == ("agree", "sms")
