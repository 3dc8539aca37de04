"""The staff inbox in Debian's Chromium: the unread count in the navigation, the list,
marking read one and all, following a notification to its case, and the e-mail
choices; axe-core (WCAG A and AA) on the inbox, in English and Arabic (right to left),
and on the choices page."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import Page

from grievance.extensions import db
from grievance.http.context import service_context
from grievance.models import Mechanism
from grievance.services import accounts, notifications
from tests.browser.conftest import LiveServer, NewContext, axe_violations, describe_violations
from tests.browser.test_reviewer_flow import Reviewer, sign_in
from tests.factories import staff_case

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def told(live_server: LiveServer) -> tuple[Reviewer, str]:
    """A reviewer put on a new case (told so), with a reminder about another matter and a
    security notice: three unread notifications."""
    with live_server.app.app_context():
        ctx = service_context()
        tex = ctx.session.query(Mechanism).filter_by(code="TEX").one()
        filed, lead, _second = staff_case(ctx, mechanism=tex, language="en")
        notifications.notify(ctx, [lead.id], notifications.EFFECTIVENESS_REVIEW)
        notifications.tell_user(ctx, lead, notifications.RECOVERY_CODES_RENEWED)
        secret = secrets.token_bytes(accounts.TOTP_SECRET_BYTES)
        accounts.enrol_totp_secret(ctx, lead, secret, last_step=None)
        db.session.commit()
        reviewer, reference = Reviewer(lead.email, secret), filed.case.reference
        db.session.remove()
    return reviewer, reference


def _check_axe(page: Page) -> None:
    violations = axe_violations(page)
    assert violations == [], describe_violations(violations)


def _unread(page: Page) -> str:
    return page.locator("a.inbox-link").inner_text()


def test_the_inbox_lists_marks_and_leads_to_the_case(
    new_context: NewContext, live_server: LiveServer, told: tuple[Reviewer, str]
) -> None:
    reviewer, reference = told
    page = new_context().new_page()
    sign_in(page, live_server, reviewer)
    assert _unread(page) == "Inbox (3 unread)"

    page.locator("a.inbox-link").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Inbox"
    items = page.locator("ol.inbox > li")
    assert items.count() == 3
    assert "New recovery codes were made" in items.nth(0).inner_text()  # newest first
    _check_axe(page)

    # one marked read
    items.nth(1).get_by_role("button", name="Mark as read").click()
    page.wait_for_load_state()
    assert _unread(page) == "Inbox (2 unread)"

    # followed to its case (and read)
    page.get_by_role("link", name=f"Open case {reference}").click()
    page.wait_for_load_state()
    assert re.search(rf"/staff/reviewer/cases/{reference}$", page.url)
    assert reference in page.locator("h1").inner_text()
    assert _unread(page) == "Inbox (1 unread)"

    # everything shown, marked read
    page.goto(f"{live_server.url}/staff/inbox?lang=ar")
    assert page.locator("html").get_attribute("dir") == "rtl"
    _check_axe(page)
    page.locator('form[action="/staff/inbox/read"] button').click()
    page.wait_for_load_state()
    assert page.locator("a.inbox-link").inner_text() == "صندوق الوارد"
    assert page.locator("ol.inbox li.unread").count() == 0

    # the e-mail choices
    page.goto(f"{live_server.url}/staff/account/notifications?lang=en")
    _check_axe(page)
    page.check('input[name="mode"][value="digest"]')
    page.select_option("#language", "bn")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert page.url.endswith("/staff/account")
    assert "Your choices were saved." in page.locator("main").inner_text()
