"""The staff inbox: the unread count on every staff page, newest first in keyset pages,
marked read one by one or all that was shown, followed to the case, nothing of another
user's; and the e-mail choices."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from grievance.models import EmailMode, Role, StaffNotification
from grievance.services import cases, notifications
from grievance.services.actors import SYSTEM, Actor
from tests.factories import make_mechanism, make_staff, staff_case
from tests.integration.test_staff_auth import sign_in

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _signed_in(app, ctx, user, seed):
    client = app.test_client()
    response = sign_in(client, user, seed, ctx.clock)
    assert response.status_code == 302
    return client


def _token(client, path: str = "/staff/inbox") -> str:
    match = TOKEN.search(client.get(path).get_data(as_text=True))
    assert match
    return match.group(1)


def _told(ctx, user, count: int, kind: str = notifications.EFFECTIVENESS_REVIEW) -> None:
    for _ in range(count):
        notifications.notify(ctx, [user.id], kind)
        ctx.clock.advance(minutes=1)
    ctx.session.flush()


@pytest.fixture
def reviewer(ctx):
    user, seed = make_staff(ctx, Role.REVIEWER)
    from grievance.models import ReviewerProfile

    ctx.session.add(ReviewerProfile(user_id=user.id, languages=["bn"]))
    ctx.session.flush()
    return user, seed


def test_every_staff_page_shows_the_unread_count(app, ctx):
    mechanism = make_mechanism(ctx, code="NAV")
    pages = {
        Role.REVIEWER: ["/staff", "/staff/account", "/staff/inbox", "/staff/account/notifications",
                        "/staff/profile", "/staff/record-complaint", "/staff/reviewer/"],
        Role.SECRETARIAT: ["/staff", "/staff/secretariat/deadlines", "/staff/inbox"],
        Role.COMPANY: ["/staff", "/staff/account", "/staff/inbox"],
        Role.ADMIN: ["/staff", "/staff/admin/users", "/staff/inbox"],
    }  # fmt: skip
    for role, paths in pages.items():
        user, seed = make_staff(
            ctx, role, mechanisms=[mechanism] if role is Role.SECRETARIAT else None,
            totp=role is not Role.COMPANY,
        )  # fmt: skip
        client = _signed_in(app, ctx, user, seed)
        for path in paths:
            page = client.get(f"{path}?lang=en").get_data(as_text=True)
            assert '<a href="/staff/inbox" class="inbox-link">Inbox</a>' in page, (role, path)
        _told(ctx, user, 3)
        for path in paths:
            page = client.get(f"{path}?lang=en").get_data(as_text=True)
            assert "Inbox (3 unread)" in page, (role, path)


def test_the_count_stops_at_99(app, ctx, reviewer):
    user, seed = reviewer
    _told(ctx, user, 100)
    page = _signed_in(app, ctx, user, seed).get("/staff?lang=en").get_data(as_text=True)
    assert "Inbox (more than 99 unread)" in page
    assert notifications.unread_count(ctx, user.id) == 100  # counted no further


def test_the_inbox_pages_by_keyset_newest_first(app, ctx, reviewer):
    user, seed = reviewer
    _told(ctx, user, notifications.PAGE_SIZE + 5)
    ids = sorted(
        ctx.session.scalars(
            select(StaffNotification.id).where(StaffNotification.user_id == user.id)
        ),
        reverse=True,
    )
    client = _signed_in(app, ctx, user, seed)
    first = client.get("/staff/inbox?lang=en").get_data(as_text=True)
    shown = [int(found) for found in re.findall(r'id="notification-(\d+)"', first)]
    assert shown == ids[: notifications.PAGE_SIZE]
    older = re.search(r'href="(/staff/inbox\?before=\d+)" rel="next"', first).group(1)
    assert older == f"/staff/inbox?before={ids[notifications.PAGE_SIZE - 1]}"
    second = client.get(older + "&lang=en").get_data(as_text=True)
    assert [int(f) for f in re.findall(r'id="notification-(\d+)"', second)] == ids[50:]
    assert 'rel="next"' not in second
    assert "Back to the newest" in second
    for forged in ("abc", "-1", "1e3", "9" * 30):
        assert client.get(f"/staff/inbox?before={forged}").status_code == 400


def test_marking_read_one_and_all_that_was_shown(app, ctx, reviewer):
    user, seed = reviewer
    _told(ctx, user, 3)
    client = _signed_in(app, ctx, user, seed)
    rows = ctx.session.scalars(
        select(StaffNotification)
        .where(StaffNotification.user_id == user.id)
        .order_by(StaffNotification.id)
    ).all()
    token = _token(client)
    response = client.post(f"/staff/inbox/{rows[0].id}/read", data={"csrf_token": token})
    assert response.status_code == 303
    ctx.session.refresh(rows[0])
    assert rows[0].read_at == ctx.clock.now()
    # all that was shown (up to the newest on the page); one that came since stays unread
    page = client.get("/staff/inbox").get_data(as_text=True)
    newest = re.search(r'name="up_to" value="(\d+)"', page).group(1)
    assert int(newest) == rows[-1].id
    _told(ctx, user, 1)
    response = client.post("/staff/inbox/read", data={"csrf_token": token, "up_to": newest})
    assert response.status_code == 303
    unread = ctx.session.scalars(
        select(StaffNotification).where(
            StaffNotification.user_id == user.id, StaffNotification.read_at.is_(None)
        )
    ).all()
    assert len(unread) == 1
    assert unread[0].id > rows[-1].id
    # a form without the newest id marks nothing
    response = client.post("/staff/inbox/read", data={"csrf_token": token})
    assert response.status_code == 303
    assert notifications.unread_count(ctx, user.id) == 1


def test_another_users_notification_is_not_found(app, ctx, reviewer):
    user, seed = reviewer
    other, _ = make_staff(ctx, Role.ADMIN)
    _told(ctx, other, 1)
    theirs = ctx.session.scalars(
        select(StaffNotification).where(StaffNotification.user_id == other.id)
    ).one()
    client = _signed_in(app, ctx, user, seed)
    assert client.get(f"/staff/inbox/{theirs.id}").status_code == 404
    token = _token(client)
    assert (
        client.post(f"/staff/inbox/{theirs.id}/read", data={"csrf_token": token}).status_code == 404
    )
    ctx.session.refresh(theirs)
    assert theirs.read_at is None


def test_following_leads_to_the_case_while_the_reviewer_is_on_it(app, ctx):
    filed, lead, _second = staff_case(ctx)
    seed = _seed(ctx, lead)
    notice = ctx.session.scalars(
        select(StaffNotification).where(
            StaffNotification.user_id == lead.id,
            StaffNotification.kind == notifications.CASE_ASSIGNED,
        )
    ).one()
    client = _signed_in(app, ctx, lead, seed)
    page = client.get("/staff/inbox?lang=en").get_data(as_text=True)
    assert f"Open case {filed.case.reference}" in page
    response = client.get(f"/staff/inbox/{notice.id}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/staff/reviewer/cases/{filed.case.reference}"
    ctx.session.refresh(notice)
    assert notice.read_at is not None

    # off the case: the reference is no longer shown, and following goes back to the inbox
    cases.recuse(ctx, filed.case, Actor.for_user(lead), "I advised the factory.")
    page = client.get("/staff/inbox?lang=en").get_data(as_text=True)
    assert filed.case.reference not in page
    assert "A case you no longer have a part in." in page
    response = client.get(f"/staff/inbox/{notice.id}")
    assert response.headers["Location"] == "/staff/inbox"
    page = client.get("/staff/inbox?lang=en").get_data(as_text=True)
    assert "You no longer have a part in this case." in page


def _seed(ctx, user) -> bytes:
    import secrets

    from grievance.services import accounts

    seed = secrets.token_bytes(accounts.TOTP_SECRET_BYTES)
    accounts.enrol_totp_secret(ctx, user, seed, last_step=None)
    return seed


def test_a_security_notice_leads_to_the_account_page(app, ctx, reviewer):
    user, seed = reviewer
    notifications.tell_user(ctx, user, notifications.NEW_DEVICE)
    notice = ctx.session.scalars(
        select(StaffNotification).where(StaffNotification.user_id == user.id)
    ).one()
    assert notice.urgent  # mailed at once
    client = _signed_in(app, ctx, user, seed)
    assert client.get(f"/staff/inbox/{notice.id}").headers["Location"] == "/staff/account"


def test_the_email_choices_are_kept(app, ctx, reviewer):
    user, seed = reviewer
    client = _signed_in(app, ctx, user, seed)
    page = client.get("/staff/account?lang=en").get_data(as_text=True)
    assert 'href="/staff/account/notifications"' in page
    page = client.get("/staff/account/notifications?lang=en").get_data(as_text=True)
    assert user.email in page
    assert re.search(r'<input checked [^>]*value="immediate"', page)
    token = TOKEN.search(page).group(1)
    response = client.post(
        "/staff/account/notifications",
        data={"csrf_token": token, "mode": "digest", "language": "bn"},
    )
    assert response.status_code == 303
    assert (user.email_mode, user.language) == (EmailMode.DIGEST, "bn")
    refused = client.post(
        "/staff/account/notifications",
        data={"csrf_token": token, "mode": "hourly", "language": "xx"},
    )
    assert refused.status_code == 422
    assert (user.email_mode, user.language) == (EmailMode.DIGEST, "bn")


def _told_in(ctx, case, kind: str) -> list[int]:
    return sorted(
        ctx.session.scalars(
            select(StaffNotification.user_id).where(
                StaffNotification.kind == kind, StaffNotification.case_id == case.id
            )
        )
    )


def test_who_is_told_of_what_happens_in_a_case(ctx):
    """A complainant's message goes to the case's reviewers (once while unread); a company
    named in a case to its users; a proposed decision to the other reviewer; a company's
    report and a disputed remedy to the reviewers; a remedy action due to the company; an
    appeal to the reviewers and the secretariat."""
    from datetime import date

    from grievance.models import Channel, ConsultationAnswer, Stage
    from grievance.services import involvement, messages, remedy_plan
    from tests.factories import make_company, make_secretariat, walk_to

    mechanism = make_mechanism(ctx, code="WHO")
    (secretariat,) = make_secretariat(ctx, mechanism)
    filed, lead, second = staff_case(ctx, mechanism=mechanism)
    case = filed.case
    reviewers = sorted([lead.id, second.id])
    complainant = Actor.for_complainant(filed.complainant)
    messages.add_message(ctx, case, complainant, "Any news?", Channel.WEB)
    messages.add_message(ctx, case, complainant, "Hello?", Channel.WEB)
    assert _told_in(ctx, case, notifications.MESSAGE_FROM_COMPLAINANT) == reviewers
    company = make_company(ctx, mechanism)
    staff, _ = make_staff(ctx, Role.COMPANY, company=company, totp=False)
    involvement.add_company(ctx, case, company, SYSTEM)
    assert _told_in(ctx, case, notifications.COMPANY_CASE) == [staff.id]

    walk_to(ctx, filed, Stage.FINDINGS, lead, second)
    assert _told_in(ctx, case, notifications.DECISION_WAITING) == [second.id]  # the findings
    as_company = Actor.for_user(staff)
    remedy_plan.propose_item(ctx, case, as_company, remedy_plan.ItemInput("apology", "A letter."))
    assert _told_in(ctx, case, notifications.COMPANY_REPORTED) == reviewers
    cases.transition(ctx, case, Stage.APPEAL, complainant, "The findings miss the night shift.")
    assert _told_in(ctx, case, notifications.CASE_CONTESTED) == sorted([*reviewers, secretariat.id])
    proposal = cases.propose_decision(ctx, case, Stage.REMEDY_PLAN, Actor.for_user(lead), "No.")
    cases.confirm_decision(ctx, proposal, Actor.for_user(second))
    reviewer = Actor.for_user(lead)
    item = remedy_plan.ItemInput("restitution", "Back pay.", company.id, due_on=date(2026, 6, 30))
    remedy_plan.draft_item(ctx, case, reviewer, item)
    remedy_plan.put_to_complainant(ctx, case, reviewer)
    remedy_plan.answer(ctx, case, complainant, ConsultationAnswer.DISAGREE, "web")
    assert _told_in(ctx, case, notifications.REMEDY_DISPUTED) == reviewers
    remedy_plan.put_to_complainant(ctx, case, reviewer)
    remedy_plan.answer(ctx, case, complainant, ConsultationAnswer.AGREE, "web")
    remedy_plan.propose_approval(ctx, case, reviewer, "Agreed.")
    remedy_plan.confirm_approval(ctx, case, Actor.for_user(second))
    assert _told_in(ctx, case, notifications.COMPANY_DEADLINE) == [staff.id]
