"""The satisfaction check after closing (R21): asked once per complainant when the
check's reminder point comes, by text to those with a phone, on the follow-up page for
everyone; the answer meets the time limit."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from grievance.models import (
    Anonymity,
    CaseEvent,
    ContactChannel,
    DeadlineState,
    OutboundMessage,
    SatisfactionQuestion,
)
from grievance.services import outbox, satisfaction
from grievance.services.filing import ComplainantDetails
from intake.sms.conversations import ask_satisfaction
from intake.sms.texts import Text
from tests import factories
from tests.fake_twilio import FakeTwilio
from tests.sms_helpers import SmsLine, rendered, shared_fake, sms_line

NUMBER = "+8801711000001"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTwilio]:
    with shared_fake() as running:
        yield running


@pytest.fixture
def line(app, ctx, session, settings, fake) -> Iterator[SmsLine]:
    with sms_line(app, ctx, settings, fake=fake) as running:
        yield running


def closed(ctx, anonymity=Anonymity.CONFIDENTIAL, channel=ContactChannel.SMS, address=NUMBER):
    person = ComplainantDetails(
        anonymity=anonymity, contact_channel=channel, contact_address=address
    )
    filed, _lead, _second = factories.closed_case(ctx, complainant=person)
    ctx.session.commit()
    return filed


def check_of(ctx, filed):
    return factories.open_deadline(ctx.session, filed.case, satisfaction.CODE)


def questions(session) -> list[SatisfactionQuestion]:
    return list(session.scalars(select(SatisfactionQuestion).order_by(SatisfactionQuestion.id)))


def test_nothing_is_asked_before_the_checks_reminder_point(ctx, session, clock):
    filed = closed(ctx)
    check = check_of(ctx, filed)
    clock.set(check.remind_at - timedelta(seconds=1))
    assert satisfaction.ask_due(ctx, ask_satisfaction) == 0
    assert questions(session) == []


def test_an_sms_complainant_is_asked_once_by_text_and_answers_by_text(line, ctx, session, clock):
    filed = closed(ctx)
    check = check_of(ctx, filed)
    clock.set(check.remind_at)

    assert satisfaction.ask_due(ctx, ask_satisfaction) == 1
    assert satisfaction.ask_due(ctx, ask_satisfaction) == 0  # once, however often it runs
    (question,) = questions(session)
    assert (question.complainant_id, question.channel) == (filed.complainant.id, "sms")
    (asked,) = factories.events_of(session, filed.case, "satisfaction_asked")
    assert asked.payload == {"channel": "sms"}
    outbox.drain(ctx, line.gateway)
    phone = line.phone(NUMBER)
    assert phone.received() == [
        rendered(Text.SATISFACTION_ASK, "bn", reference=filed.case.reference)
    ]

    assert phone.send("৯") == [rendered(Text.CHOOSE_NUMBER, "bn")]  # 9: not a choice
    assert phone.send("২") == [rendered(Text.SATISFACTION_THANKS, "bn")]  # 2: partly
    (recorded,) = factories.events_of(session, filed.case, "satisfaction_recorded")
    assert recorded.payload["response"] == "partly"
    session.refresh(check)
    assert check.state is DeadlineState.MET
    session.refresh(question)
    assert question.answered_at == clock.now()
    # a later "1" is a message to the reviewers, not a second answer
    phone.send("১")
    assert len(factories.events_of(session, filed.case, "satisfaction_recorded")) == 1
    assert factories.events_of(session, filed.case, "message_from_complainant")


def test_a_number_that_said_stop_is_asked_on_the_follow_up_page(line, ctx, session, clock):
    filed = closed(ctx)
    outbox.opt_out(ctx, filed.complainant.phone_lookup, source="keyword")
    session.commit()
    clock.set(check_of(ctx, filed).remind_at)
    assert satisfaction.ask_due(ctx, ask_satisfaction) == 1
    assert [q.channel for q in questions(session)] == ["web"]
    assert session.scalar(select(func.count()).select_from(OutboundMessage)) == 0


def test_an_anonymous_sms_complainant_is_asked_on_the_follow_up_page(ctx, session, clock):
    filed = closed(ctx, anonymity=Anonymity.ANONYMOUS)  # the number went at closing
    clock.set(check_of(ctx, filed).remind_at)
    assert satisfaction.ask_due(ctx, ask_satisfaction) == 1
    assert [q.channel for q in questions(session)] == ["web"]
    assert session.scalar(select(func.count()).select_from(OutboundMessage)) == 0


def test_two_workers_asking_at_once_ask_once(ctx, session, clock):
    filed = closed(ctx, channel=ContactChannel.NONE, address="")
    check = check_of(ctx, filed)
    clock.set(check.remind_at)
    assert satisfaction._ask_one(ctx, check.id, filed.complainant.id, None) == 1
    # the other worker read the same pair before the first committed: the constraint wins
    assert satisfaction._ask_one(ctx, check.id, filed.complainant.id, None) == 0
    assert len(questions(session)) == 1
    assert len(factories.events_of(session, filed.case, "satisfaction_asked")) == 1


def _token(page: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


def _follow_up(app, code: str):
    client = app.test_client()
    page = client.get("/follow-up?lang=en").get_data(as_text=True)
    response = client.post("/follow-up?lang=en", data={"csrf_token": _token(page), "code": code})
    assert response.status_code in (302, 303), response.status_code
    return client


def _answer(client, response: str | None):
    page = client.get("/follow-up/case?lang=en").get_data(as_text=True)
    data = {"csrf_token": _token(page)}
    if response is not None:
        data["response"] = response
    return client.post("/follow-up/satisfaction?lang=en", data=data)


def test_the_follow_up_page_asks_and_records_the_answer(app, ctx, session, clock):
    filed = closed(ctx, channel=ContactChannel.NONE, address="")
    client = _follow_up(app, filed.receipt_code)
    page = client.get("/follow-up/case?lang=en").get_data(as_text=True)
    assert "Was the harm put right?" in page
    assert 'value="partly"' in page

    refused = _answer(client, None)
    assert refused.status_code == 422
    assert "Please choose one answer." in refused.get_data(as_text=True)
    assert _answer(client, "maybe").status_code == 422
    assert factories.events_of(session, filed.case, "satisfaction_recorded") == []

    answered = _answer(client, "no")
    assert answered.status_code == 302
    (recorded,) = factories.events_of(session, filed.case, "satisfaction_recorded")
    assert recorded.payload["response"] == "no"
    page = client.get("/follow-up/case?lang=en").get_data(as_text=True)
    assert "Was the harm put right?" not in page  # the check is met
    assert "Your answer on the remedy was recorded." in page
    assert _answer(client, "yes").status_code == 404


def test_the_answer_form_needs_its_csrf_token_and_a_signed_in_complainant(app, ctx, session):
    filed = closed(ctx, channel=ContactChannel.NONE, address="")
    stranger = app.test_client()
    assert stranger.post("/follow-up/satisfaction", data={"response": "yes"}).status_code in (
        302,
        400,
    )
    client = _follow_up(app, filed.receipt_code)
    assert client.post("/follow-up/satisfaction", data={"response": "yes"}).status_code == 400
    assert factories.events_of(session, filed.case, "satisfaction_recorded") == []


def test_an_open_case_has_no_answer_form(app, ctx, session):
    filed, _lead, _second = factories.staff_case(ctx)
    ctx.session.commit()
    client = _follow_up(app, filed.receipt_code)
    page = client.get("/follow-up/case?lang=en").get_data(as_text=True)
    assert "Was the harm put right?" not in page
    assert _answer(client, "yes").status_code == 404
    assert factories.events_of(session, filed.case, "satisfaction_recorded") == []


@pytest.mark.postgres
def test_two_workers_at_once_on_postgresql_ask_each_complainant_once(committing, clock):
    setup = committing()
    filed = [closed(setup, channel=ContactChannel.NONE, address="") for _ in range(6)]
    checks = [check_of(setup, one) for one in filed]
    clock.set(max(check.remind_at for check in checks))
    setup.session.close()

    counts: list[int] = []
    start = threading.Barrier(2)

    def worker() -> None:
        ctx = committing()
        start.wait()
        counts.append(satisfaction.ask_due(ctx))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    check = committing()
    assert sum(counts) == len(filed)
    assert len(questions(check.session)) == len(filed)
    asked = check.session.scalar(
        select(func.count()).select_from(CaseEvent).where(CaseEvent.kind == "satisfaction_asked")
    )
    assert asked == len(filed)
