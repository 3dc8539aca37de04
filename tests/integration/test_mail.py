"""Notifications by e-mail, through a real SMTP server on loopback (aiosmtpd): a filed
complaint tells its lead reviewer once, with the reference and a link and nothing of the
case; digests, urgent-only, and urgent cases at once in every mode; complainants who
chose e-mail get a notice (never the text) and an address refused for good is marked."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from grievance.config import SmtpServer
from grievance.http.mail import MailRenderer
from grievance.models import (
    Anonymity,
    AssignmentRole,
    Channel,
    Complainant,
    ComplainantKind,
    ContactChannel,
    EmailMode,
    MailKind,
    MailMessage,
    OutboxStatus,
    StaffNotification,
    Stage,
)
from grievance.services import cases, digests, mailbox, messages, notifications, timekeeping
from grievance.services.actors import Actor
from grievance.services.filing import ComplainantDetails
from grievance.services.mail_transport import SmtpTransport
from tests.factories import (
    assigned_ids,
    events_of,
    make_mechanism,
    make_reviewer,
    new_case,
    staff_case,
)
from tests.integration.test_staff_auth import sign_in
from tests.smtp_server import MailSink, RunningServer, serve

SENDER = "Complaints mechanism <noreply@example.org>"
STATEMENT = "The supervisor Karim locked the fire exit of line 9 on 3 March."
NAME = "Shapla Begum Mailtest"
PHONE = "+8801712345601"
EMAIL = "shapla.mailtest@example.org"
#: What no staff mail may hold.
CASE_CONTENT = (STATEMENT, "Karim", NAME, "Mailtest", PHONE, "1712345601", EMAIL)


@pytest.fixture
def smtp() -> Iterator[RunningServer]:
    yield from serve(MailSink())


def send(app, ctx, server: RunningServer | SmtpServer) -> mailbox.MailReport:
    address = server.address() if isinstance(server, RunningServer) else server
    return mailbox.drain(ctx, SmtpTransport(address), MailRenderer(app), sender=SENDER)


def _token(page: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match
    return match.group(1)


def test_a_filed_complaint_mails_its_lead_reviewer_once_with_no_case_content(app, ctx, smtp):
    make_mechanism(ctx, code="MLA")
    first, other = make_reviewer(ctx, languages=["en"]), make_reviewer(ctx, languages=["en"])
    client = app.test_client()
    form = client.get("/complaint?lang=en").get_data(as_text=True)
    receipt = client.post(
        "/complaint?lang=en",
        follow_redirects=True,
        data={
            "csrf_token": _token(form),
            "mechanism": "MLA",
            "statement": STATEMENT,
            "urgent": "no",
            "kind": "affected",
            "anonymity": "confidential",
            "name": NAME,
            "location": f"Line 9, call {PHONE}",
            "contact": "email",
            "email": EMAIL,
        },
    )
    assert receipt.status_code == 200, receipt.get_data(as_text=True)
    reference = re.search(r"MLA-[0-9]{4}-[0-9]{5}", receipt.get_data(as_text=True)).group(0)
    complainant = ctx.session.scalars(select(Complainant)).one()
    lead_id = assigned_ids(ctx, complainant.case)[AssignmentRole.LEAD]
    lead = first if first.id == lead_id else other

    report = send(app, ctx, smtp)

    assert report.sent == 2  # the lead and the second reviewer
    assert report.failed == 0
    (mail,) = smtp.sink.to(lead.email)  # exactly one
    assert mail.recipients == [lead.email]
    message = mail.message
    assert message.is_multipart()
    assert [part.get_content_type() for part in message.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    text, html = mail.part("plain"), mail.part("html")
    notification = ctx.session.scalars(
        select(StaffNotification).where(StaffNotification.user_id == lead.id)
    ).one()
    link = f"http://localhost/staff/inbox/{notification.id}"
    assert reference in message["Subject"]
    for body in (text, html):
        assert reference in body
        assert link in body
        assert "You were put on a case as a reviewer." in body
    everything = mail.data.decode("utf-8", "replace") + text + html + str(message["Subject"])
    for secret in CASE_CONTENT:
        assert secret not in everything, secret
    assert message["From"] == SENDER
    assert message["Auto-Submitted"] == "auto-generated"
    assert smtp.sink.to(EMAIL) == []  # the complainant hears nothing until a reviewer acts
    # sent rows keep no address
    rows = ctx.session.scalars(select(MailMessage)).all()
    assert {row.status for row in rows} == {OutboxStatus.SENT}
    assert all(row.address_enc is None for row in rows)
    assert send(app, ctx, smtp) == mailbox.MailReport()  # and nothing twice


def _reviewers(ctx, mode: EmailMode):
    """A reviewer in `mode` who routing puts on every case (with a second, at once)."""
    chosen = make_reviewer(ctx, languages=["bn"], capacity=50)
    chosen.email_mode = mode
    other = make_reviewer(ctx, languages=["bn"], capacity=50)
    return chosen, other


def test_digest_mode_sends_one_mail_a_day_with_every_notification_of_that_day(
    app, ctx, clock, smtp
):
    mechanism = make_mechanism(ctx, code="DIG")
    reader, _ = _reviewers(ctx, EmailMode.DIGEST)
    first = new_case(ctx, mechanism).case
    clock.advance(hours=3)
    messages.add_message(
        ctx, first, Actor.for_complainant(first.complainants[0]), "Any news?", Channel.WEB
    )
    clock.advance(hours=2)
    urgent = new_case(ctx, mechanism, urgent=True).case
    assert send(app, ctx, smtp).sent >= 1
    (at_once,) = smtp.sink.to(reader.email)  # the urgent case, at once
    assert urgent.reference in at_once.message["Subject"]
    assert digests.queue_digests(ctx) == 0  # the day is not over

    clock.advance(hours=16)  # 09:00 + 21 h: after midnight
    assert digests.queue_digests(ctx) == 1
    assert digests.queue_digests(ctx) == 0  # one a day, however often the job runs
    send(app, ctx, smtp)
    at_once_then_digest = smtp.sink.to(reader.email)
    assert len(at_once_then_digest) == 2
    digest = at_once_then_digest[1]
    text = digest.part("plain")
    assert "Your notifications of March 2, 2026: 3" in digest.message["Subject"]
    assert text.count(first.reference) == 2  # assigned, then the complainant's message
    assert urgent.reference in text
    assert "The complainant wrote to the reviewers." in text
    assert "http://localhost/staff/inbox" in text
    assert "Any news?" not in text

    # the next day's notifications go in the next day's digest
    clock.advance(hours=2)
    later = new_case(ctx, mechanism).case
    assert digests.queue_digests(ctx) == 0
    clock.advance(days=1)
    assert digests.queue_digests(ctx) == 1
    send(app, ctx, smtp)
    last = smtp.sink.to(reader.email)[-1]
    assert later.reference in last.part("plain")
    assert first.reference not in last.part("plain")
    made = ctx.session.scalars(select(MailMessage).where(MailMessage.kind == MailKind.DIGEST)).all()
    assert sorted(row.digest_day.isoformat() for row in made) == ["2026-03-02", "2026-03-03"]


@pytest.mark.parametrize("mode", list(EmailMode))
def test_urgent_cases_go_at_once_in_every_mode(app, ctx, smtp, mode):
    mechanism = make_mechanism(ctx, code="URG")
    reader, _ = _reviewers(ctx, mode)
    ordinary = new_case(ctx, mechanism).case
    urgent = new_case(ctx, mechanism, themes=["child_labour"]).case
    send(app, ctx, smtp)
    subjects = [mail.message["Subject"] for mail in smtp.sink.to(reader.email)]
    assert any(urgent.reference in subject for subject in subjects)
    ordinary_mailed = any(ordinary.reference in subject for subject in subjects)
    assert ordinary_mailed is (mode is EmailMode.IMMEDIATE)
    told = ctx.session.scalars(
        select(StaffNotification).where(StaffNotification.user_id == reader.id)
    ).all()
    assert {row.case_id: row.urgent for row in told} == {ordinary.id: False, urgent.id: True}
    assert {row.case_id: row.kind for row in told} == {
        ordinary.id: notifications.CASE_ASSIGNED,
        urgent.id: notifications.URGENT_CASE,
    }


def test_a_deactivated_user_is_not_mailed(app, ctx, smtp):
    mechanism = make_mechanism(ctx, code="OFF")
    reader, _ = _reviewers(ctx, EmailMode.IMMEDIATE)
    new_case(ctx, mechanism)
    reader.active = False
    report = send(app, ctx, smtp)
    assert report.cancelled == 1
    assert smtp.sink.to(reader.email) == []


# -- complainants who chose e-mail ------------------------------------------------------


def _emailing(ctx, language: str = "bn"):
    person = ComplainantDetails(
        anonymity=Anonymity.CONFIDENTIAL,
        kind=ComplainantKind.AFFECTED,
        contact_channel=ContactChannel.EMAIL,
        contact_address=EMAIL,
        name=NAME,
    )
    return staff_case(ctx, complainant=person, statement=STATEMENT, language=language)


def test_a_complainant_who_chose_email_is_told_to_read_on_the_follow_up_page(app, ctx, smtp):
    filed, lead, _ = _emailing(ctx, language="bn")
    case = filed.case
    as_lead = Actor.for_user(lead)
    written = "Please send us the payslips of March; we will call the factory."
    messages.add_message(ctx, case, as_lead, written, Channel.WEB, filed.complainant)
    messages.add_message(ctx, case, as_lead, "And April.", Channel.WEB, filed.complainant)
    assert send(app, ctx, smtp).sent >= 1
    (notice,) = smtp.sink.to(EMAIL)  # one notice while one waits
    text, html = notice.part("plain"), notice.part("html")
    assert case.reference in notice.message["Subject"]
    assert notice.message["Content-Language"] == "bn"
    assert "পর্যালোচকরা আপনাকে লিখেছেন।" in text  # "The reviewers wrote to you.", in Bengali
    assert "http://localhost/follow-up" in text
    assert "http://localhost/follow-up" in html
    assert '<html lang="bn" dir="ltr">' in html
    for secret in (written, "April", STATEMENT, NAME, PHONE):
        assert secret not in notice.data.decode("utf-8", "replace") + text + html
    row = ctx.session.scalars(
        select(MailMessage).where(MailMessage.kind == MailKind.COMPLAINANT)
    ).one()
    assert (row.status, row.address_enc, row.topic) == (OutboxStatus.SENT, None, mailbox.MESSAGE)


def test_acknowledging_and_asking_for_information_tell_the_complainant(app, ctx, smtp):
    filed, lead, _ = _emailing(ctx, language="ar")
    as_lead = Actor.for_user(lead)
    cases.transition(ctx, filed.case, Stage.ACKNOWLEDGED, as_lead)
    send(app, ctx, smtp)
    timekeeping.pause_clock(ctx, filed.case, as_lead, "The payslips of March.")
    send(app, ctx, smtp)
    acknowledged, asked = smtp.sink.to(EMAIL)
    assert '<html lang="ar" dir="rtl">' in acknowledged.part("html")
    topics = ctx.session.scalars(
        select(MailMessage.topic)
        .where(MailMessage.kind == MailKind.COMPLAINANT)
        .order_by(MailMessage.id)
    ).all()
    assert topics == [mailbox.ACKNOWLEDGED, mailbox.INFORMATION_REQUESTED]
    assert "payslips" not in asked.data.decode("utf-8", "replace")


def test_a_complainant_without_email_gets_none(app, ctx, smtp):
    filed, lead, _ = staff_case(ctx)
    messages.add_message(ctx, filed.case, Actor.for_user(lead), "Hello.", Channel.WEB)
    assert not ctx.session.scalars(
        select(MailMessage).where(MailMessage.kind == MailKind.COMPLAINANT)
    ).all()


def test_an_address_refused_for_good_is_marked_and_the_reviewers_see_it(app, ctx, smtp):
    smtp.sink.refuse[EMAIL] = "550 5.1.1 <shapla.mailtest@example.org>: no such user"
    filed, lead, _ = _emailing(ctx, language="en")
    as_lead = Actor.for_user(lead)
    messages.add_message(ctx, filed.case, as_lead, "Hello.", Channel.WEB, filed.complainant)
    report = send(app, ctx, smtp)
    assert (report.refused, report.failed) == (1, 1)
    complainant = ctx.session.get(Complainant, filed.complainant.id)
    assert complainant.contact_failed_at is not None
    (event,) = events_of(ctx.session, filed.case, "contact_failed")
    assert event.payload == {"complainant_id": complainant.id, "channel": "email"}
    row = ctx.session.scalars(
        select(MailMessage).where(MailMessage.kind == MailKind.COMPLAINANT)
    ).one()
    assert (row.status, row.last_error, row.address_enc) == (OutboxStatus.FAILED, "550", None)
    # nothing more goes to it
    messages.add_message(ctx, filed.case, as_lead, "Hello again.", Channel.WEB, filed.complainant)
    assert (
        len(
            ctx.session.scalars(
                select(MailMessage).where(MailMessage.kind == MailKind.COMPLAINANT)
            ).all()
        )
        == 1
    )
    # the reviewers see that the channel failed, on the case page
    user, seed = lead, _enrol(ctx, lead)
    client = app.test_client()
    sign_in(client, user, seed, ctx.clock)
    page = client.get(f"/staff/reviewer/cases/{filed.case.reference}?lang=en").get_data(
        as_text=True
    )
    # by the complainant's details, and in the case log
    assert page.count("refused our mail: nothing more goes to it.") == 2
    assert EMAIL not in page


def _enrol(ctx, user) -> bytes:
    import secrets

    from grievance.services import accounts

    seed = secrets.token_bytes(accounts.TOTP_SECRET_BYTES)
    accounts.enrol_totp_secret(ctx, user, seed, last_step=None)
    return seed


def test_a_temporary_refusal_is_tried_again_later(app, ctx, clock, smtp):
    smtp.sink.refuse[EMAIL] = "450 4.2.1 mailbox busy, try later"
    filed, lead, _ = _emailing(ctx, language="en")
    messages.add_message(
        ctx, filed.case, Actor.for_user(lead), "Hi.", Channel.WEB, filed.complainant
    )
    report = send(app, ctx, smtp)
    assert report.retried == 1
    row = ctx.session.scalars(
        select(MailMessage).where(MailMessage.kind == MailKind.COMPLAINANT)
    ).one()
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.PENDING, 1, "450")
    assert row.next_attempt_at == clock.now() + timedelta(seconds=30)
    assert ctx.session.get(Complainant, filed.complainant.id).contact_failed_at is None
    del smtp.sink.refuse[EMAIL]
    clock.advance(seconds=30)
    assert send(app, ctx, smtp).sent == 1
    assert len(smtp.sink.to(EMAIL)) == 1


def test_a_row_left_sending_by_a_dead_worker_is_never_sent_again(app, ctx, clock, smtp):
    mechanism = make_mechanism(ctx, code="DED")
    reader, _ = _reviewers(ctx, EmailMode.IMMEDIATE)
    new_case(ctx, mechanism)
    row = ctx.session.scalars(select(MailMessage).where(MailMessage.user_id == reader.id)).one()
    row.status, row.attempts = OutboxStatus.SENDING, 1  # claimed, then the worker died
    ctx.session.flush()
    clock.advance(minutes=16)
    report = send(app, ctx, smtp)
    assert report.abandoned == 1
    assert (row.status, row.last_error, row.address_enc) == (
        OutboxStatus.FAILED,
        "interrupted",
        None,
    )
    assert smtp.sink.to(reader.email) == []
